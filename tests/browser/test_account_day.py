"""A rep's day around one account, in a real browser: a call and a meeting logged from the account's page with
the short htmx forms, a task completed from My day, and all three on the account's timeline."""
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services
from crm.access.tests.factories import PASSWORD
from crm.activities.models import Activity
from crm.activities.tests.factories import TaskFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]
ZONE = "Europe/Helsinki"


def test_call_and_meeting_from_the_account_task_done_in_my_day_all_on_the_timeline(page, live_server, reps):
    rep, _, _ = reps
    rep.timezone = ZONE
    rep.save()
    zone = zoneinfo.ZoneInfo(ZONE)
    now = timezone.localtime(timezone=zone)
    soon = min(now + timedelta(minutes=30), datetime.combine(now.date(), time(23, 45), tzinfo=zone))
    account = services.account_create(actor=rep, name="Nordlys Shipping", owner=rep)
    task = TaskFactory(target=account, actor=rep, assigned_to=rep, subject="Renewal paperwork", due_at=soon)
    login(page, live_server, rep.email, PASSWORD)

    page.goto(f"{live_server.url}{account.get_absolute_url()}")
    page.get_by_role("tab", name="Activity").click()
    page.locator("[data-testid=log-call]").click()
    call_form = page.locator("#activity-form form[data-kind=call]")
    call_form.locator("input[name=subject]").fill("Talked about the renewal")
    call_form.locator("input[name=duration_minutes]").fill("20")
    call_form.locator("select[name=outcome]").select_option("connected")
    call_form.locator("button[type=submit]").click()
    page.locator("#timeline li[data-kind=call]", has_text="Talked about the renewal").wait_for()

    page.locator("[data-testid=new-meeting]").click()
    meeting_form = page.locator("#activity-form form[data-kind=meeting]")
    meeting_form.locator("input[name=subject]").fill("Contract signing")
    meeting_form.locator("input[name=due_at]").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    meeting_form.locator("input[name=location]").fill("Their office")
    meeting_form.locator("button[type=submit]").click()
    page.locator("#timeline li[data-kind=meeting]", has_text="Contract signing").wait_for()

    page.goto(f"{live_server.url}/")
    my_day = page.locator("#my-day")
    expect(my_day.locator("[data-my-day=meetings]")).to_contain_text("Contract signing")
    expect(my_day.locator("[data-my-day=meetings]")).to_contain_text("Nordlys Shipping")
    my_day.locator(f"[data-complete='{task.pk}']").click()
    expect(page.locator("#my-day")).not_to_contain_text("Renewal paperwork")

    page.goto(f"{live_server.url}{account.get_absolute_url()}")
    page.get_by_role("tab", name="Activity").click()
    timeline = page.locator("#timeline")
    expect(timeline.locator("li[data-kind=call]")).to_contain_text("Talked about the renewal")
    expect(timeline.locator("li[data-kind=meeting]")).to_contain_text("Their office")
    expect(timeline.locator(f"#activity-{task.pk}")).to_contain_text("Done")
    assert set(Activity.objects.filter(object_id=account.pk).values_list("kind", flat=True)) >= {"call", "meeting", "task"}
    task.refresh_from_db()
    assert task.status == Activity.Status.DONE
