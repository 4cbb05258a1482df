"""A rep's activities in a real browser: a task created from a record page with the short htmx form (the page
never reloads), seen in My day, completed there, and a meeting dragged to another time in the calendar."""
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from django.utils import timezone

from crm.access.tests.factories import PASSWORD, ProfileFactory, UserFactory
from crm.activities.models import Activity
from crm.activities.tests.factories import ActivityFactory
from leads.tests.factories import LeadFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]
ZONE = "Europe/Helsinki"


def test_task_from_a_record_page_my_day_and_dragging_a_meeting(page, live_server):
    rep = UserFactory(profile=ProfileFactory(), email="activities.browser@example.com", timezone=ZONE)
    lead = LeadFactory(owner=rep, first_name="Aino", last_name="Laine")
    zone = zoneinfo.ZoneInfo(ZONE)
    today = timezone.localtime(timezone=zone).date()
    meeting = ActivityFactory(target=lead, actor=rep, assigned_to=rep, kind=Activity.Kind.MEETING, subject="Demo meeting",
                              status=Activity.Status.OPEN, due_at=datetime.combine(today, time(10), tzinfo=zone),
                              ends_at=datetime.combine(today, time(11), tzinfo=zone))
    due = min(timezone.localtime(timezone=zone) + timedelta(minutes=30),
              datetime.combine(today, time(23, 59), tzinfo=zone))
    login(page, live_server, rep.email, PASSWORD)

    # From the lead's page: New task, the short form, saved without leaving the page.
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.evaluate("window.__stayed = true")
    page.get_by_role("tab", name="Activity").click()
    page.locator("[data-testid=new-task]").click()
    form = page.locator("#activity-form form")
    form.locator("input[name=subject]").fill("Send the proposal")
    form.locator("input[name=due_at]").fill(due.strftime("%Y-%m-%dT%H:%M"))
    form.locator("select[name=priority]").select_option("high")
    form.locator("button[type=submit]").click()
    page.locator("#timeline li[data-kind=task]", has_text="Send the proposal").wait_for()
    assert page.evaluate("window.__stayed") is True  # the same page: htmx swapped the timeline in
    assert page.locator("#activity-form form").count() == 0
    task = Activity.objects.get(kind=Activity.Kind.TASK)
    assert task.assigned_to == rep and task.priority == "high"

    # A note in the formatting editor: bold from the toolbar, kept; what a paste could run, not.
    page.locator("[data-testid=new-note]").click()
    area = page.locator("#activity-form [data-rich-area]")
    area.click()
    page.keyboard.type("Budget ")
    page.locator("#activity-form [data-cmd=bold]").click()
    page.keyboard.type("approved")
    page.locator("#activity-form button[type=submit]").click()
    page.locator("#timeline li[data-kind=note] .rich-text b", has_text="approved").wait_for()
    note = Activity.objects.get(kind=Activity.Kind.NOTE)
    assert note.body_html == "<p>Budget <b>approved</b></p>" and note.subject == "Budget approved"

    # My day on the home page: the task due today, the meeting today; Done refreshes the widget.
    page.goto(f"{live_server.url}/")
    my_day = page.locator("#my-day")
    my_day.locator("[data-my-day=today]", has_text="Send the proposal").wait_for()
    assert "Demo meeting" in my_day.locator("[data-my-day=meetings]").inner_text()
    my_day.locator(f"[data-complete='{task.pk}']").click()
    page.locator("#my-day", has_text="Demo meeting").wait_for()
    expect(page.locator("#my-day")).not_to_contain_text("Send the proposal")
    task.refresh_from_db()
    assert task.status == Activity.Status.DONE

    # The calendar: drag the meeting from 10:00 to 14:30 the same day.
    page.locator("#my-day").get_by_role("link", name="Calendar").click()
    page.wait_for_url("**/activities/calendar/**")
    item = page.locator(f"[data-calendar] [data-activity='{meeting.pk}']")
    assert item.get_attribute("draggable") == "true"
    target = page.locator(f"td[data-drop='{today.isoformat()}T14:30']")
    page.set_viewport_size({"width": 1280, "height": 1600})  # the working day's slots and the meeting in view
    item.drag_to(target, source_position={"x": 3, "y": 6})
    page.locator("[data-calendar-alert].alert-success").wait_for()
    assert page.locator(f"td[data-drop='{today.isoformat()}T14:30'] [data-activity='{meeting.pk}']").count() == 1
    expect(item).to_contain_text("14:30")
    meeting.refresh_from_db()
    local = timezone.localtime(meeting.due_at, zone)
    assert (local.date(), local.hour, local.minute) == (today, 14, 30)
    assert meeting.ends_at - meeting.due_at == timedelta(hours=1)

    # Without a mouse: Alt+ArrowDown moves it half an hour later.
    item.focus()
    page.keyboard.press("Alt+ArrowDown")
    page.locator(f"td[data-drop='{today.isoformat()}T15:00'] [data-activity='{meeting.pk}']").wait_for()
    expect(item).to_contain_text("15:00")
    expect(page.locator("[data-calendar-alert]")).to_contain_text("Demo meeting")

    # Still there after a reload: the server moved it.
    page.reload()
    page.locator(f"td[data-drop='{today.isoformat()}T15:00'] [data-activity='{meeting.pk}']").wait_for()
    meeting.refresh_from_db()
    assert timezone.localtime(meeting.due_at, zone).strftime("%H:%M") == "15:00"
