"""Business-hours calendars in a real browser: an admin opens Settings, makes a Tehran calendar with a split
Saturday (the time zone picked with the type-ahead), and gives it a yearly holiday, by clicking."""
import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD, AdminFactory
from crm.automation.models import BusinessCalendar
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_an_admin_creates_a_calendar_with_a_holiday(page, live_server):
    admin = AdminFactory(email="calendar-admin@example.com")

    login(page, live_server, admin.email, PASSWORD)
    page.goto(live_server.url + reverse("settings:index"))
    page.get_by_role("link", name="Business hours and holidays").first.click()
    expect(page.locator("h1")).to_have_text("Business hours and holidays")
    page.get_by_role("link", name="New calendar").click()

    form = page.locator("[data-calendar-form]")
    form.get_by_label("Name").fill("Tehran office")
    form.locator(".ts-control").click()
    page.keyboard.type("Tehran")
    page.locator(".ts-dropdown .option", has_text="Asia/Tehran").click()
    # Thursday and Friday off; Saturday and Sunday work, Saturday as a split shift.
    for day in (3, 4):
        form.locator(f"#id_start_{day}_0").fill("")
        form.locator(f"#id_end_{day}_0").fill("")
    form.get_by_label("Saturday, interval 1, from").fill("08:00")
    form.get_by_label("Saturday, interval 1, to").fill("12:00")
    form.get_by_label("Saturday, interval 2, from").fill("13:00")
    form.get_by_label("Saturday, interval 2, to").fill("17:00")
    form.get_by_label("Sunday, interval 1, from").fill("08:00")
    form.get_by_label("Sunday, interval 1, to").fill("16:00")
    form.get_by_role("button", name="Save").click()

    expect(page.locator(".alert-success")).to_contain_text("Calendar “Tehran office” saved.")
    calendar = BusinessCalendar.objects.get()
    assert calendar.time_zone == "Asia/Tehran" and calendar.is_default
    assert sorted(calendar.hours.values_list("weekday", flat=True)) == [0, 1, 2, 5, 5, 6]

    holiday_form = page.locator("[data-holiday-form]")
    holiday_form.get_by_label("Date").fill("2026-03-21")
    holiday_form.get_by_label("Name").fill("Nowruz")
    holiday_form.get_by_label("Every year").check()
    holiday_form.get_by_role("button", name="Add holiday").click()

    expect(page.locator(".alert-success")).to_contain_text("Holiday “Nowruz” added.")
    expect(page.locator("#holidays tbody tr")).to_have_count(1)
    expect(page.locator("#holidays tbody tr")).to_contain_text("Nowruz")
    holiday = calendar.holidays.get()
    assert holiday.date == datetime.date(2026, 3, 21) and holiday.recurs_yearly

    page.get_by_role("link", name="Business hours and holidays").last.click()
    row = page.locator(f"tr[data-calendar='{calendar.pk}']")
    expect(row).to_contain_text("Asia/Tehran")
    expect(row).to_contain_text("08:00–12:00, 13:00–17:00")
    expect(row.locator("td").last).to_have_text("1")
