"""Settings → Business hours and holidays in the browser's terms: who may open it, creating, editing and
deleting a calendar, adding and removing holidays, and bad input kept with its message."""
import datetime

import pytest
from django.urls import reverse

from crm.access.models import AuditLog
from crm.automation import services
from crm.automation.models import BusinessCalendar, Holiday

pytestmark = pytest.mark.django_db
T = datetime.time


@pytest.fixture
def admin_client(client):
    from crm.access.tests.factories import AdminFactory

    client.force_login(AdminFactory(email="hours-admin@example.com"))
    return client


def week_data(**overrides) -> dict:
    """A posted form: Monday to Friday 08:00–16:00, other slots empty."""
    data = {f"{part}_{day}_{slot}": "" for day in range(7) for slot in range(2) for part in ("start", "end")}
    for day in range(5):
        data[f"start_{day}_0"], data[f"end_{day}_0"] = "08:00", "16:00"
    data.update(overrides)
    return data


def make(name="Office", **kwargs):
    return services.calendar_save(actor=None, name=name, time_zone=kwargs.pop("time_zone", "Europe/Helsinki"),
                                  hours=[(d, T(8), T(16)) for d in range(5)], **kwargs)


def test_users_without_the_customization_right_get_a_404_everywhere(client, reps):
    rep, _, _ = reps
    cal = make()
    holiday = services.holiday_add(actor=None, calendar=cal, date=datetime.date(2026, 5, 1), name="May Day")
    client.force_login(rep)

    for url in (reverse("automation:calendar_list"), reverse("automation:calendar_create"),
                reverse("automation:calendar_edit", args=[cal.pk])):
        assert client.get(url).status_code == 404, url
    for url in (reverse("automation:calendar_create"), reverse("automation:calendar_edit", args=[cal.pk]),
                reverse("automation:calendar_delete", args=[cal.pk]), reverse("automation:holiday_add", args=[cal.pk]),
                reverse("automation:holiday_delete", args=[cal.pk, holiday.pk])):
        assert client.post(url, week_data(name="Hacked", time_zone="UTC")).status_code == 404, url
    assert BusinessCalendar.objects.get().name == "Office" and Holiday.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("automation:calendar_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_section_is_offered_under_settings(admin_client):
    page = admin_client.get(reverse("settings:index")).content.decode()
    assert reverse("automation:calendar_list") in page and "Business hours and holidays" in page


def test_create_edit_and_delete_round_trip(admin_client):
    # Given the form of a new calendar (Monday to Friday 08:00–16:00 filled in)
    new = admin_client.get(reverse("automation:calendar_create")).content.decode()
    assert 'name="start_0_0"' in new and 'value="08:00"' in new and 'type="time"' in new
    assert 'name="start_0_1"' in new and 'name="start_0_2"' not in new

    # When an admin saves a split-shift Tehran calendar
    response = admin_client.post(reverse("automation:calendar_create"), week_data(
        name="Tehran office", time_zone="Asia/Tehran", start_5_0="08:00", end_5_0="12:00", start_5_1="13:00",
        end_5_1="17:00", start_3_0="", end_3_0="", start_4_0="", end_4_0=""))

    # Then it is saved, the first calendar is the default, and the list shows it
    cal = BusinessCalendar.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("automation:calendar_edit", args=[cal.pk])
    assert cal.time_zone == "Asia/Tehran" and cal.is_default
    assert list(cal.hours.filter(weekday=5).values_list("start", "end")) == [(T(8), T(12)), (T(13), T(17))]
    assert not cal.hours.filter(weekday__in=[3, 4]).exists()
    listing = admin_client.get(reverse("automation:calendar_list")).content.decode()
    assert "Tehran office" in listing and "Asia/Tehran" in listing and "08:00–12:00, 13:00–17:00" in listing

    # The edit page shows what was saved; a rename saves
    edit = admin_client.get(reverse("automation:calendar_edit", args=[cal.pk])).content.decode()
    assert 'value="13:00"' in edit and '<option value="Asia/Tehran" selected>' in edit
    assert 'name="start_5_2"' in edit  # Saturday uses both intervals: a third one can be added
    admin_client.post(reverse("automation:calendar_edit", args=[cal.pk]),
                      week_data(name="Tehran", time_zone="Asia/Tehran", is_default="on"))
    cal.refresh_from_db()
    assert cal.name == "Tehran" and cal.hours.count() == 5

    # A second calendar can be deleted; the default cannot
    other = make("Other")
    response = admin_client.post(reverse("automation:calendar_delete", args=[cal.pk]), follow=True)
    assert "cannot be deleted" in response.content.decode() and BusinessCalendar.objects.filter(pk=cal.pk).exists()
    response = admin_client.post(reverse("automation:calendar_delete", args=[other.pk]))
    assert response.status_code == 302 and not BusinessCalendar.objects.filter(pk=other.pk).exists()
    assert AuditLog.objects.filter(target_type="automation.businesscalendar", data__deleted=True).count() == 1


def test_bad_input_is_refused_and_what_was_typed_stays(admin_client):
    make("Office")

    response = admin_client.post(reverse("automation:calendar_create"), week_data(
        name="Office", time_zone="Europe/Helsinki", start_0_1="15:00", end_0_1="18:00", start_1_0="16:30",
        end_1_0="09:15", start_2_1="13:45"))

    page = response.content.decode()
    assert response.status_code == 422 and BusinessCalendar.objects.count() == 1
    assert "Another calendar is already called" in page
    assert "overlaps another interval" in page  # Monday 08–16 and 15–18
    assert "must end after it starts" in page  # Tuesday 16:30–09:15
    assert "Enter both times, or neither." in page  # Wednesday's second interval without an end
    for typed in ('value="18:00"', 'value="16:30"', 'value="09:15"', 'value="13:45"'):
        assert typed in page, typed

    response = admin_client.post(reverse("automation:calendar_create"),
                                 week_data(name="Mars base", time_zone="Mars/Olympus_Mons"))
    page = response.content.decode()
    assert response.status_code == 422 and "Mars base" in page and "Select a valid choice" in page


def test_the_default_cannot_be_unticked_in_the_form(admin_client):
    cal = make("Office")

    response = admin_client.post(reverse("automation:calendar_edit", args=[cal.pk]),
                                 week_data(name="Office", time_zone="Europe/Helsinki"))

    assert response.status_code == 422 and "make another calendar the default" in response.content.decode()
    cal.refresh_from_db()
    assert cal.is_default


def test_holidays_are_added_and_removed(admin_client):
    cal = make("Office")
    url = reverse("automation:holiday_add", args=[cal.pk])

    response = admin_client.post(url, {"holiday-date": "2026-12-06", "holiday-name": "Independence Day",
                                       "holiday-recurs_yearly": "on"})
    assert response.status_code == 302 and response["Location"].endswith("#holidays")
    holiday = cal.holidays.get()
    assert holiday.recurs_yearly and holiday.date == datetime.date(2026, 12, 6)
    page = admin_client.get(reverse("automation:calendar_edit", args=[cal.pk])).content.decode()
    assert "Independence Day" in page and "12-06" in page

    # The same day again, and a holiday without a date: refused, with the typed name kept
    again = admin_client.post(url, {"holiday-date": "2026-12-06", "holiday-name": "Again"})
    assert again.status_code == 422 and "already has a holiday on this day" in again.content.decode()
    assert 'value="Again"' in again.content.decode()
    undated = admin_client.post(url, {"holiday-date": "", "holiday-name": "Someday"})
    assert undated.status_code == 422 and 'value="Someday"' in undated.content.decode()
    assert cal.holidays.count() == 1

    response = admin_client.post(reverse("automation:holiday_delete", args=[cal.pk, holiday.pk]))
    assert response.status_code == 302 and not cal.holidays.exists()
    other = make("Other")
    foreign = services.holiday_add(actor=None, calendar=other, date=datetime.date(2026, 1, 1), name="New Year")
    assert admin_client.post(reverse("automation:holiday_delete", args=[cal.pk, foreign.pk])).status_code == 404


def test_the_holidays_wait_until_a_new_calendar_is_saved(admin_client):
    page = admin_client.get(reverse("automation:calendar_create")).content.decode()
    assert "Save the calendar first" in page and "holiday-date" not in page
