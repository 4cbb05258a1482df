"""Business-hours calendars in the database: validation, the one default, the services' refusals and audit
rows, and the demo calendars."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.access.models import AuditLog
from crm.automation import services
from crm.automation.models import BusinessCalendar, BusinessHours, Holiday

pytestmark = pytest.mark.django_db
T = datetime.time
WEEKDAYS = [(d, T(8), T(16)) for d in range(5)]


def calendar(name="Office", time_zone="Europe/Helsinki", hours=WEEKDAYS, **kwargs):
    return services.calendar_save(actor=None, name=name, time_zone=time_zone, hours=hours, **kwargs)


# --- model validation --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "posixrules", "europe/helsinki", ""])
def test_a_time_zone_must_be_an_iana_name(zone):
    with pytest.raises(ValidationError) as error:
        BusinessCalendar(name="X", time_zone=zone).full_clean()
    assert "time_zone" in error.value.message_dict


@pytest.mark.parametrize("zone", ["Europe/Helsinki", "Asia/Tehran", "America/Argentina/Buenos_Aires", "UTC"])
def test_real_time_zones_are_accepted(zone):
    BusinessCalendar(name="X", time_zone=zone).full_clean()


def test_an_interval_must_end_after_it_starts_and_00_00_is_midnight():
    cal = calendar()

    with pytest.raises(ValidationError) as error:
        BusinessHours(calendar=cal, weekday=0, start=T(16), end=T(8)).full_clean()
    assert "end" in error.value.message_dict
    BusinessHours(calendar=cal, weekday=5, start=T(20), end=T(0)).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHours.objects.create(calendar=cal, weekday=6, start=T(16), end=T(8))
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHours.objects.create(calendar=cal, weekday=7, start=T(8), end=T(9))


def test_the_database_allows_one_default_calendar():
    calendar(name="First")  # the default
    second = calendar(name="Second")

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessCalendar.objects.filter(pk=second.pk).update(is_default=True)


def test_a_calendar_has_one_holiday_a_day():
    cal = calendar()
    Holiday.objects.create(calendar=cal, date=datetime.date(2026, 12, 6), name="Independence Day")

    with pytest.raises(IntegrityError), transaction.atomic():
        Holiday.objects.create(calendar=cal, date=datetime.date(2026, 12, 6), name="Again")


# --- the default ---------------------------------------------------------------------------------------------------------

def test_the_first_calendar_becomes_the_default_and_another_can_take_it_over():
    first = calendar(name="First")
    second = calendar(name="Second")
    assert first.is_default and not second.is_default

    calendar(name="Second", calendar=second, is_default=True)

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    assert BusinessCalendar.objects.filter(is_default=True).count() == 1


def test_the_default_can_be_neither_unset_nor_deleted():
    first = calendar(name="First")
    second = calendar(name="Second")

    with pytest.raises(ValidationError, match="make another calendar the default"):
        calendar(name="First", calendar=first, is_default=False)
    with pytest.raises(ValidationError, match="default calendar cannot be deleted"):
        services.calendar_delete(actor=None, calendar=first)

    services.calendar_delete(actor=None, calendar=second)
    assert list(BusinessCalendar.objects.values_list("name", flat=True)) == ["First"]


def test_deleting_a_calendar_takes_its_hours_and_holidays_with_it():
    calendar(name="Default")
    other = calendar(name="Other")
    services.holiday_add(actor=None, calendar=other, date=datetime.date(2026, 5, 1), name="May Day")

    services.calendar_delete(actor=None, calendar=other)

    assert not BusinessHours.objects.filter(calendar_id=other.pk).exists()
    assert not Holiday.objects.filter(calendar_id=other.pk).exists()


# --- what the service refuses ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hours, message", [
    ([(0, T(8), T(12)), (0, T(11), T(14))], "overlaps"),
    ([(0, T(8), T(0)), (0, T(20), T(22))], "overlaps"),  # the first runs to midnight
    ([(1, T(16), T(8))], "ends before it starts"),
    ([(9, T(8), T(9))], "not a weekday"),
])
def test_bad_weekly_hours_are_refused(hours, message):
    with pytest.raises(ValidationError, match=message):
        calendar(hours=hours)
    assert not BusinessCalendar.objects.exists()


def test_a_bad_time_zone_or_a_taken_name_is_refused():
    calendar(name="Office")

    with pytest.raises(ValidationError, match="not a time zone"):
        calendar(name="Other", time_zone="Europe/Atlantis")
    with pytest.raises(ValidationError, match="already called"):
        calendar(name="  office ")


def test_saving_replaces_the_week_and_split_shifts_are_kept():
    cal = calendar()

    calendar(calendar=cal, hours=[(0, T(8), T(12)), (0, T(13), T(17)), (5, T(10), T(14))])

    assert list(cal.hours.values_list("weekday", "start", "end")) == [
        (0, T(8), T(12)), (0, T(13), T(17)), (5, T(10), T(14))]


def test_a_second_holiday_on_the_same_day_is_refused():
    cal = calendar()
    services.holiday_add(actor=None, calendar=cal, date=datetime.date(2026, 12, 6), name="Independence Day")

    with pytest.raises(ValidationError, match="already has a holiday"):
        services.holiday_add(actor=None, calendar=cal, date=datetime.date(2026, 12, 6), name="Again")
    assert cal.holidays.count() == 1


# --- audit ------------------------------------------------------------------------------------------------------------------

def test_every_change_is_in_the_audit_log_with_what_changed(reps):
    _, _, admin = reps
    cal = services.calendar_save(actor=admin, name="Office", time_zone="Europe/Helsinki", hours=WEEKDAYS,
                                 ip="10.0.0.5")
    services.calendar_save(actor=admin, calendar=cal, name="Office", time_zone="Asia/Tehran", hours=WEEKDAYS,
                           ip="10.0.0.5")
    holiday = services.holiday_add(actor=admin, calendar=cal, date=datetime.date(2026, 5, 1), name="May Day",
                                   recurs_yearly=True, ip="10.0.0.5")
    services.holiday_remove(actor=admin, holiday=holiday, ip="10.0.0.5")

    rows = list(AuditLog.objects.filter(target_type="automation.businesscalendar").order_by("pk"))
    assert [r.action for r in rows] == [AuditLog.Action.CUSTOMIZATION_CHANGED] * 4
    assert {r.actor_id for r in rows} == {admin.pk} and {r.ip for r in rows} == {"10.0.0.5"}
    assert rows[0].data["created"] is True
    assert rows[1].data["changes"] == {"time_zone": ["Europe/Helsinki", "Asia/Tehran"]}
    assert rows[2].data["holiday_added"] == {"date": "2026-05-01", "name": "May Day", "every_year": True}
    assert rows[3].data["holiday_removed"]["name"] == "May Day"


# --- demo ---------------------------------------------------------------------------------------------------------------------

def test_the_demo_seeds_two_calendars_once_with_the_finnish_holidays():
    from crm.automation import demo
    from crm.automation.calendars import add_business_time, calendar_snapshot

    demo.seed({})
    demo.seed({})

    helsinki = BusinessCalendar.objects.get(name="Office hours (Helsinki)")
    tehran = BusinessCalendar.objects.get(name="Tehran office")
    assert helsinki.is_default and not tehran.is_default and BusinessCalendar.objects.count() == 2
    assert helsinki.holidays.filter(recurs_yearly=True).count() == 7
    assert helsinki.holidays.filter(date__year=2027, recurs_yearly=False).count() == 8
    assert sorted(tehran.hours.values_list("weekday", flat=True)) == [0, 1, 2, 5, 6]
    # Maundy Thursday 2026, 15:00: Good Friday and Easter Monday are days off.
    start = datetime.datetime(2026, 4, 2, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=3)))
    assert add_business_time(calendar_snapshot(), start, datetime.timedelta(hours=2)).isoformat() == \
        "2026-04-07T09:00:00+03:00"
