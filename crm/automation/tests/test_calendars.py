"""Business-time arithmetic: weekends, holidays (one-off and yearly), split shifts, time zones, starts outside
working hours, both daylight-saving changes of Europe/Helsinki in 2026, long deltas, and between() as the
inverse of add(), checked against a plain step-by-step count."""
import datetime
import random
from zoneinfo import ZoneInfo

import pytest

from crm.automation.calendars import (
    CalendarSnapshot,
    NoBusinessTime,
    add_business_time,
    business_time_between,
    calendar_snapshot,
    is_business_time,
    load_calendars,
    next_business_moment,
)

H = datetime.timedelta(hours=1)
HEL = ZoneInfo("Europe/Helsinki")
TEH = ZoneInfo("Asia/Tehran")
UTC = datetime.timezone.utc


def at(zone, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zone)


def office(**extra) -> CalendarSnapshot:
    """Monday to Friday 08:00–16:00 in Helsinki."""
    return CalendarSnapshot.build(time_zone="Europe/Helsinki", hours={d: [("08:00", "16:00")] for d in range(5)},
                                  **{"name": "Office", **extra})


# --- the working week ------------------------------------------------------------------------------------------

def test_hours_left_on_friday_carry_over_the_weekend_to_monday():
    friday = at(HEL, 2026, 6, 12, 14, 0)

    due = add_business_time(office(), friday, 4 * H)

    assert due == at(HEL, 2026, 6, 15, 10, 0) and due.tzinfo == HEL
    assert business_time_between(office(), friday, due) == 4 * H


def test_a_start_at_night_or_on_saturday_begins_counting_at_the_next_opening():
    cal = office()

    assert add_business_time(cal, at(HEL, 2026, 6, 9, 2, 30), 4 * H) == at(HEL, 2026, 6, 9, 12, 0)  # Tuesday night
    assert add_business_time(cal, at(HEL, 2026, 6, 9, 20, 0), 1 * H) == at(HEL, 2026, 6, 10, 9, 0)  # after closing
    assert add_business_time(cal, at(HEL, 2026, 6, 13, 10, 0), 1 * H) == at(HEL, 2026, 6, 15, 9, 0)  # Saturday
    assert business_time_between(cal, at(HEL, 2026, 6, 13, 0, 0), at(HEL, 2026, 6, 14, 23, 0)) == datetime.timedelta(0)


def test_intervals_are_open_at_the_start_and_closed_at_the_end():
    cal = office()

    assert is_business_time(cal, at(HEL, 2026, 6, 10, 8, 0))
    assert not is_business_time(cal, at(HEL, 2026, 6, 10, 16, 0))
    assert not is_business_time(cal, at(HEL, 2026, 6, 13, 12, 0))  # Saturday
    # Work that ends exactly at closing time is due at closing time, not at the next morning's opening.
    assert add_business_time(cal, at(HEL, 2026, 6, 10, 12, 0), 4 * H) == at(HEL, 2026, 6, 10, 16, 0)
    assert next_business_moment(cal, at(HEL, 2026, 6, 10, 16, 0)) == at(HEL, 2026, 6, 11, 8, 0)
    assert next_business_moment(cal, at(HEL, 2026, 6, 10, 9, 15)) == at(HEL, 2026, 6, 10, 9, 15)
    # No time to add: the next business moment (counting would start there).
    assert add_business_time(cal, at(HEL, 2026, 6, 13, 12, 0), datetime.timedelta(0)) == at(HEL, 2026, 6, 15, 8, 0)
    assert add_business_time(cal, at(HEL, 2026, 6, 10, 9, 5), datetime.timedelta(0)) == at(HEL, 2026, 6, 10, 9, 5)


def test_split_shifts_skip_the_lunch_break():
    cal = CalendarSnapshot.build(time_zone="Europe/Helsinki",
                                 hours={d: [("08:00", "12:00"), ("13:00", "17:00")] for d in range(5)})

    assert add_business_time(cal, at(HEL, 2026, 6, 10, 11, 0), 2 * H) == at(HEL, 2026, 6, 10, 14, 0)
    assert not is_business_time(cal, at(HEL, 2026, 6, 10, 12, 30))
    assert next_business_moment(cal, at(HEL, 2026, 6, 10, 12, 30)) == at(HEL, 2026, 6, 10, 13, 0)
    assert business_time_between(cal, at(HEL, 2026, 6, 10, 0, 0), at(HEL, 2026, 6, 11, 0, 0)) == 8 * H
    assert add_business_time(cal, at(HEL, 2026, 6, 12, 16, 0), 2 * H) == at(HEL, 2026, 6, 15, 9, 0)


# --- holidays --------------------------------------------------------------------------------------------------------

def test_holidays_are_whole_days_off_and_yearly_ones_come_back_every_year():
    # Christmas Eve and Day entered once, in 2020, as yearly holidays; Good Friday 2026 as a date.
    cal = office(yearly_holidays=[datetime.date(2020, 12, 24), datetime.date(2020, 12, 25)],
                 holidays=[datetime.date(2026, 4, 3)])

    # Wednesday 23 December 2026, 15:00: one hour that day, then Thursday and Friday are holidays.
    assert add_business_time(cal, at(HEL, 2026, 12, 23, 15, 0), 2 * H) == at(HEL, 2026, 12, 28, 9, 0)
    assert add_business_time(cal, at(HEL, 2027, 12, 23, 15, 0), 2 * H) == at(HEL, 2027, 12, 27, 9, 0)
    assert not is_business_time(cal, at(HEL, 2026, 12, 24, 10, 0))
    # Good Friday is a one-off: it does not come back on 3 April 2031, a Thursday.
    assert add_business_time(cal, at(HEL, 2026, 4, 2, 15, 0), 2 * H) == at(HEL, 2026, 4, 6, 9, 0)
    assert is_business_time(cal, at(HEL, 2031, 4, 3, 10, 0))
    assert business_time_between(cal, at(HEL, 2026, 12, 21, 0, 0), at(HEL, 2026, 12, 28, 0, 0)) == 24 * H


def test_a_yearly_holiday_on_29_february_falls_only_in_leap_years():
    cal = office(yearly_holidays=[datetime.date(2024, 2, 29)])

    assert not is_business_time(cal, at(HEL, 2028, 2, 29, 10, 0))
    assert is_business_time(cal, at(HEL, 2027, 3, 1, 10, 0))


def test_holidays_are_dates_in_the_calendars_own_time_zone():
    cal = office(holidays=[datetime.date(2026, 6, 10)])

    # 22:30 UTC on 9 June is already 10 June in Helsinki: the holiday.
    assert next_business_moment(cal, at(UTC, 2026, 6, 9, 22, 30)) == at(HEL, 2026, 6, 11, 8, 0)


# --- time zones and daylight saving --------------------------------------------------------------------------------

def test_each_calendar_counts_in_its_own_zone_and_week():
    tehran = CalendarSnapshot.build(time_zone="Asia/Tehran", hours={d: [("08:00", "16:00")] for d in (5, 6, 0, 1, 2)})
    moment = at(UTC, 2026, 6, 10, 12, 0)  # Wednesday: 15:30 in Tehran (UTC+03:30), 15:00 in Helsinki

    due = add_business_time(tehran, moment, 1 * H)

    # Half an hour on Wednesday; Thursday and Friday are Tehran's weekend; Saturday is a working day.
    assert due == at(TEH, 2026, 6, 13, 8, 30) and due.utcoffset() == datetime.timedelta(hours=3, minutes=30)
    assert add_business_time(office(), moment, 1 * H) == at(HEL, 2026, 6, 10, 16, 0)
    assert is_business_time(tehran, at(TEH, 2026, 6, 14, 9, 0))  # Sunday
    assert not is_business_time(tehran, at(TEH, 2026, 6, 12, 9, 0))  # Friday


def test_four_business_hours_stay_four_real_hours_across_the_spring_change():
    # Helsinki moves its clocks from 03:00 to 04:00 on Sunday 29 March 2026 (UTC+2 to UTC+3).
    friday = at(HEL, 2026, 3, 27, 14, 0)  # 12:00 UTC

    due = add_business_time(office(), friday, 4 * H)

    assert due == at(HEL, 2026, 3, 30, 10, 0)  # Monday, on Monday's clock
    assert due.astimezone(UTC) == at(UTC, 2026, 3, 30, 7, 0)  # two hours on Friday (12–14 UTC), two on Monday (05–07)
    assert business_time_between(office(), friday, due) == 4 * H
    assert next_business_moment(office(), at(HEL, 2026, 3, 28, 12, 0)).astimezone(UTC) == at(UTC, 2026, 3, 30, 5, 0)


def test_four_business_hours_stay_four_real_hours_across_the_autumn_change():
    # On Sunday 25 October 2026 the clocks go back from 04:00 to 03:00 (UTC+3 to UTC+2).
    friday = at(HEL, 2026, 10, 23, 14, 0)  # 11:00 UTC

    due = add_business_time(office(), friday, 4 * H)

    assert due == at(HEL, 2026, 10, 26, 10, 0)
    assert due.astimezone(UTC) == at(UTC, 2026, 10, 26, 8, 0)
    assert business_time_between(office(), friday, due) == 4 * H


def test_a_round_the_clock_calendar_counts_the_real_length_of_a_daylight_saving_day():
    # 00:00–00:00 is the whole day; the days the clocks change have 23 and 25 real hours.
    always = CalendarSnapshot.build(time_zone="Europe/Helsinki", hours={d: [("00:00", "00:00")] for d in range(7)})

    assert business_time_between(always, at(HEL, 2026, 3, 29, 0, 0), at(HEL, 2026, 3, 30, 0, 0)) == 23 * H
    assert business_time_between(always, at(HEL, 2026, 10, 25, 0, 0), at(HEL, 2026, 10, 26, 0, 0)) == 25 * H
    assert add_business_time(always, at(HEL, 2026, 3, 29, 0, 0), 24 * H) == at(HEL, 2026, 3, 30, 1, 0)
    assert add_business_time(always, at(HEL, 2026, 10, 25, 0, 0), 24 * H) == at(HEL, 2026, 10, 25, 23, 0)
    # A year of it, across both changes: every real hour of 2026 counts once.
    assert business_time_between(always, at(HEL, 2026, 1, 1, 0, 0), at(HEL, 2027, 1, 1, 0, 0)) == 365 * 24 * H


# --- long deltas, the inverse, and a step-by-step reference ----------------------------------------------------------

def reference_is_open(cal: CalendarSnapshot, moment: datetime.datetime) -> bool:
    """Working time by reading the wall clock (the other direction from the code under test, which turns
    wall-clock intervals into instants)."""
    local = moment.astimezone(cal.tz)
    if cal.is_holiday(local.date()):
        return False
    clock = local.time().replace(tzinfo=None)
    return any(start <= clock and (clock < end or end == datetime.time(0)) for start, end in cal.week[local.weekday()])


def reference_add(cal, start, delta, step=datetime.timedelta(minutes=15)):
    moment, left = start.astimezone(UTC), delta
    while left > datetime.timedelta(0):
        if reference_is_open(cal, moment):
            left -= step
        moment += step
    return moment


def test_a_long_delta_skips_whole_weeks_and_agrees_with_counting_step_by_step():
    cal = office(holidays=[datetime.date(2026, 4, 3), datetime.date(2026, 4, 6)],
                 yearly_holidays=[datetime.date(2026, 5, 1)])
    start = at(HEL, 2026, 3, 27, 14, 0)  # before the spring change, Easter and May Day

    due = add_business_time(cal, start, 200 * H)

    assert due == at(HEL, 2026, 5, 6, 14, 0)
    assert due == reference_add(cal, start, 200 * H)
    assert business_time_between(cal, start, due) == 200 * H


def test_a_very_long_delta_does_not_walk_every_day():
    cal = office()

    due = add_business_time(cal, at(HEL, 2026, 1, 5, 8, 0), 2000 * H)  # fifty weeks of 40 hours

    assert due == at(HEL, 2026, 12, 18, 16, 0)
    # Weeks without a holiday or a clock change are taken whole: only the days around the two changes and the
    # last week were looked at one by one.
    assert len(cal._days) < 30
    assert business_time_between(cal, at(HEL, 2026, 1, 5, 8, 0), due) == 2000 * H


@pytest.mark.parametrize("seed", range(6))
def test_between_is_the_inverse_of_add(seed):
    rng = random.Random(seed)
    cal = CalendarSnapshot.build(
        time_zone=rng.choice(["Europe/Helsinki", "Asia/Tehran", "America/New_York"]),
        hours={0: [("08:00", "12:00"), ("13:00", "17:00")], 1: [("09:00", "17:30")], 2: [("07:15", "15:45")],
               3: [("08:00", "16:00")], 4: [("10:00", "14:00")], 5: [("10:00", "12:00")]},
        holidays=[datetime.date(2026, 3, 30), datetime.date(2026, 10, 26)],
        yearly_holidays=[datetime.date(2026, 12, 24)])
    for _ in range(40):
        start = datetime.datetime(2026, 1, 1, tzinfo=UTC) + datetime.timedelta(minutes=15 * rng.randrange(35000))
        delta = datetime.timedelta(minutes=15 * rng.randrange(1, 800))

        due = add_business_time(cal, start, delta)

        assert business_time_between(cal, start, due) == delta
        assert due == reference_add(cal, start, delta)
        end = start + datetime.timedelta(minutes=15 * rng.randrange(1, 3000))
        between = business_time_between(cal, start, end)
        back = add_business_time(cal, start, between)
        # The earliest moment with that much business time: `end` itself inside working time, else where the
        # last working interval before it closed (no business time between the two).
        if between:
            assert back <= end and business_time_between(cal, back, end) == datetime.timedelta(0)
        if reference_is_open(cal, end) and reference_is_open(cal, end - datetime.timedelta(minutes=15)):
            assert back == end
        assert business_time_between(cal, end, start) == -business_time_between(cal, start, end)


# --- refusals ------------------------------------------------------------------------------------------------------------

def test_a_calendar_without_working_time_raises_instead_of_looping():
    closed = CalendarSnapshot.build(time_zone="Europe/Helsinki", hours={}, name="Closed")

    with pytest.raises(NoBusinessTime, match="Closed"):
        add_business_time(closed, at(HEL, 2026, 6, 10, 9, 0), H)
    with pytest.raises(NoBusinessTime):
        next_business_moment(closed, at(HEL, 2026, 6, 10, 9, 0))
    with pytest.raises(NoBusinessTime):
        business_time_between(closed, at(HEL, 2026, 6, 10, 9, 0), at(HEL, 2026, 6, 11, 9, 0))
    assert not is_business_time(closed, at(HEL, 2026, 6, 10, 9, 0))


def test_a_calendar_whose_holidays_cover_every_day_raises_too():
    every_day = [datetime.date(2028, 1, 1) + datetime.timedelta(days=i) for i in range(366)]
    cal = office(yearly_holidays=every_day, name="Never open")

    with pytest.raises(NoBusinessTime, match="Never open"):
        add_business_time(cal, at(HEL, 2026, 6, 10, 9, 0), H)
    with pytest.raises(NoBusinessTime):
        next_business_moment(cal, at(HEL, 2026, 6, 10, 9, 0))


def test_naive_datetimes_and_negative_deltas_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(office(), datetime.datetime(2026, 6, 10, 9, 0), H)
    with pytest.raises(ValueError, match="aware"):
        is_business_time(office(), datetime.datetime(2026, 6, 10, 9, 0))
    with pytest.raises(ValueError, match="negative"):
        add_business_time(office(), at(HEL, 2026, 6, 10, 9, 0), -H)


def test_a_snapshot_refuses_overlapping_or_backward_intervals():
    with pytest.raises(ValueError, match="overlaps"):
        CalendarSnapshot.build(time_zone="UTC", hours={0: [("08:00", "12:00"), ("11:00", "13:00")]})
    with pytest.raises(ValueError, match="does not end after"):
        CalendarSnapshot.build(time_zone="UTC", hours={0: [("12:00", "08:00")]})


# --- loading from the database ---------------------------------------------------------------------------------------

def test_calendars_load_in_one_query_and_the_cache_follows_changes(db, django_assert_num_queries):
    from crm.automation import services

    helsinki = services.calendar_save(actor=None, name="Helsinki", time_zone="Europe/Helsinki",
                                      hours=[(d, datetime.time(8), datetime.time(16)) for d in range(5)])
    services.holiday_add(actor=None, calendar=helsinki, date=datetime.date(2026, 12, 6), name="Independence Day",
                         recurs_yearly=True)
    services.holiday_add(actor=None, calendar=helsinki, date=datetime.date(2026, 4, 3), name="Good Friday")
    tehran = services.calendar_save(actor=None, name="Tehran", time_zone="Asia/Tehran",
                                    hours=[(d, datetime.time(8), datetime.time(16)) for d in (5, 6, 0, 1, 2)])

    with django_assert_num_queries(1):
        snapshots = load_calendars()

    assert snapshots[helsinki.pk].is_default and snapshots[helsinki.pk].yearly_holidays == {(12, 6)}
    assert snapshots[helsinki.pk].holidays == {datetime.date(2026, 4, 3)}
    assert snapshots[tehran.pk].week[4] == () and snapshots[tehran.pk].week[5] == ((datetime.time(8), datetime.time(16)),)
    assert calendar_snapshot().id == helsinki.pk and calendar_snapshot(tehran.pk).name == "Tehran"
    with django_assert_num_queries(0):
        calendar_snapshot(tehran.pk)
    # A model row works too (its hours and holidays read from it), with the same answers.
    assert add_business_time(helsinki, at(HEL, 2026, 4, 2, 15, 0), 2 * H) == at(HEL, 2026, 4, 6, 9, 0)

    services.calendar_save(actor=None, calendar=tehran, name="Tehran", time_zone="Asia/Tehran", is_default=True,
                           hours=[(d, datetime.time(9), datetime.time(17)) for d in (5, 6, 0, 1, 2)])

    assert calendar_snapshot().id == tehran.pk and calendar_snapshot(tehran.pk).week[0][0][0] == datetime.time(9)
