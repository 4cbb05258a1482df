"""Business-time arithmetic on business-hours calendars: what escalation rules and SLA policies mean by
"4 business hours after the ticket came in".

    cal = calendar_snapshot()                       # the default calendar, cached per process
    due = add_business_time(cal, ticket.created_at, timedelta(hours=4))
    used = business_time_between(cal, ticket.created_at, now)
    is_business_time(cal, now); next_business_moment(cal, now)

The functions are pure: they take a `CalendarSnapshot` (a frozen copy of a calendar with its hours and
holidays, loaded in one query) and aware datetimes, so a beat task can evaluate thousands of items with no
query per item. Working hours are wall-clock times in the calendar's zone; each day's intervals are turned
into real instants (UTC) before anything is added or subtracted, so a daylight-saving change never stretches
or shrinks an hour: 4 business hours are 4 real hours of work, and Monday's 08:00 is 08:00 on Monday's clock
whether the weekend before moved the clocks or not. (An aware datetime minus another in the same zone
subtracts wall-clock times in Python; that is why every difference here is taken in UTC.)

Intervals are half-open: a calendar open 08:00–16:00 is open at 08:00 and closed at 16:00. Results are aware
datetimes in the calendar's time zone."""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from crm.core.config_cache import ConfigCache

UTC = datetime.timezone.utc
ZERO = datetime.timedelta(0)
DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)
MIDNIGHT = datetime.time(0)
# How many days in a row without a minute of working time mean that no working time will ever come: longer
# than any run of yearly holidays can cover, so only a calendar that is closed for good reaches it.
MAX_CLOSED_DAYS = 3 * 366

Interval = tuple[datetime.time, datetime.time]  # wall-clock start, end (an end of 00:00 is midnight)


class NoBusinessTime(ValueError):
    """The calendar has no working time (no hours in its week, or none left after its holidays):
    business time cannot be counted on it."""


@dataclass(frozen=True, eq=False)
class CalendarSnapshot:
    """A calendar as the arithmetic needs it. `week` holds seven tuples of intervals, Monday first, sorted and
    not overlapping; `holidays` one-off dates; `yearly_holidays` (month, day) pairs."""

    time_zone: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[datetime.date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()
    id: int | None = None
    name: str = ""
    is_default: bool = False
    tz: ZoneInfo = field(init=False, repr=False)
    week_length: datetime.timedelta = field(init=False, repr=False)  # the working time of a plain week
    _days: dict = field(init=False, repr=False, default_factory=dict)  # date -> that day's UTC intervals

    def __post_init__(self):
        if len(self.week) != 7:
            raise ValueError("a week has seven days of intervals, Monday first")
        total = ZERO
        for intervals in self.week:
            previous_end = None
            for start, end in intervals:
                length = _wall_length(start, end)
                if length <= ZERO:
                    raise ValueError(f"the interval {start}–{end} does not end after it starts")
                if previous_end is not None and (previous_end == MIDNIGHT or start < previous_end):
                    raise ValueError(f"the interval {start}–{end} overlaps the one before it")
                previous_end = end
                total += length
        object.__setattr__(self, "tz", ZoneInfo(self.time_zone))
        object.__setattr__(self, "week_length", total)

    @classmethod
    def build(cls, *, time_zone: str, hours: Mapping[int, Iterable[tuple]], holidays: Iterable = (),
              yearly_holidays: Iterable = (), **extra) -> CalendarSnapshot:
        """A snapshot from plain values: hours={0: [("08:00", "12:00"), ("13:00", "17:00")], ...} (weekday
        numbers, Monday 0; times as time objects or "HH:MM"), holidays as dates, yearly ones as dates or
        (month, day) pairs."""
        week = tuple(tuple(sorted((_time(s), _time(e)) for s, e in hours.get(day, ()))) for day in range(7))
        yearly = frozenset((d.month, d.day) if isinstance(d, datetime.date) else tuple(d) for d in yearly_holidays)
        return cls(time_zone=time_zone, week=week, holidays=frozenset(holidays), yearly_holidays=yearly, **extra)

    def is_holiday(self, day: datetime.date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def intervals(self, day: datetime.date) -> tuple[tuple[datetime.datetime, datetime.datetime], ...]:
        """The working intervals of a local date as UTC instants (none on a holiday)."""
        try:
            return self._days[day]
        except KeyError:
            pass
        found = []
        if not self.is_holiday(day):
            for start, end in self.week[day.weekday()]:
                begin = datetime.datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
                finish = datetime.datetime.combine(day + DAY if end == MIDNIGHT else day, end,
                                                   tzinfo=self.tz).astimezone(UTC)
                if finish > begin:  # a wall-clock interval can vanish inside a daylight-saving gap
                    found.append((begin, finish))
        if len(self._days) > 4096:  # a long-running worker: keep the cache bounded
            self._days.clear()
        self._days[day] = found = tuple(found)
        return found

    def midnight(self, day: datetime.date) -> datetime.datetime:
        """The start of a local date, in UTC."""
        return datetime.datetime.combine(day, MIDNIGHT, tzinfo=self.tz).astimezone(UTC)

    def plain_week(self, day: datetime.date) -> bool:
        """Whether the seven days from `day` hold exactly `week_length` of working time: no holiday in them
        and no change of UTC offset (the zone's offset is the same at both ends; zones change it at most
        once a week, so equal ends mean no change between)."""
        if any(self.is_holiday(day + datetime.timedelta(days=i)) for i in range(7)):
            return False
        start = datetime.datetime.combine(day, MIDNIGHT, tzinfo=self.tz)
        end = datetime.datetime.combine(day + WEEK, MIDNIGHT, tzinfo=self.tz)
        return start.utcoffset() == end.utcoffset()

    def require_working_time(self) -> None:
        if self.week_length <= ZERO:
            raise NoBusinessTime(_("The calendar “%(name)s” has no working hours, so no business time can be "
                                   "counted on it.") % {"name": self.name or self.time_zone})


def _time(value) -> datetime.time:
    return value if isinstance(value, datetime.time) else datetime.time.fromisoformat(value)


def _wall_length(start: datetime.time, end: datetime.time) -> datetime.timedelta:
    day = datetime.date(2000, 1, 3)
    return (datetime.datetime.combine(day + DAY if end == MIDNIGHT else day, end)
            - datetime.datetime.combine(day, start))


def _instant(moment: datetime.datetime, what: str = "moment") -> datetime.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (with a time zone), not {moment!r}")
    return moment.astimezone(UTC)


def _closed_too_long(calendar: CalendarSnapshot, since: datetime.datetime) -> NoBusinessTime:
    return NoBusinessTime(_("The calendar “%(name)s” has no working time in the three years after %(date)s "
                            "(its holidays cover every working day).")
                          % {"name": calendar.name or calendar.time_zone, "date": since.astimezone(calendar.tz).date()})


def _snapshot(calendar) -> CalendarSnapshot:
    if isinstance(calendar, CalendarSnapshot):
        return calendar
    return snapshot_of(calendar)  # a BusinessCalendar row: its hours and holidays are read (prefetch-aware)


# --- the arithmetic ------------------------------------------------------------------------------------------------

def add_business_time(calendar, start: datetime.datetime, delta: datetime.timedelta) -> datetime.datetime:
    """The earliest moment at which `delta` of business time has passed since `start` ("4 business hours
    after start"). A start outside working time begins counting at the next opening; a result that lands
    on the end of an interval is that end (16:00), not the next opening. A zero delta gives the next
    business moment (`start` itself in working time).
    Raises NoBusinessTime for a calendar without working time, ValueError for a negative delta."""
    calendar = _snapshot(calendar)
    cursor = _instant(start, "start")
    if delta < ZERO:
        raise ValueError("delta must not be negative")
    if delta == ZERO:
        return next_business_moment(calendar, start)
    calendar.require_working_time()
    remaining = delta
    day = cursor.astimezone(calendar.tz).date()
    closed_days = 0
    while True:
        # Whole plain weeks at once: a long delta costs one step a week, not one a day.
        if remaining > calendar.week_length and cursor <= calendar.midnight(day) and calendar.plain_week(day):
            remaining -= calendar.week_length
            day += WEEK
            cursor = max(cursor, calendar.midnight(day))
            closed_days = 0
            continue
        worked = False
        for begin, finish in calendar.intervals(day):
            if finish <= cursor:
                continue
            begin = max(begin, cursor)
            worked = True
            if finish - begin >= remaining:
                return (begin + remaining).astimezone(calendar.tz)
            remaining -= finish - begin
            cursor = finish
        closed_days = 0 if worked else closed_days + 1
        if closed_days > MAX_CLOSED_DAYS:
            raise _closed_too_long(calendar, start)
        day += DAY


def business_time_between(calendar, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    """The business time from `start` to `end` (negative when `end` comes first, so "time left until the
    due time" turns negative once it has passed). `add_business_time(cal, s, business_time_between(cal, s,
    e))` is `e` whenever `e` is in working time. Raises NoBusinessTime for a calendar without working time."""
    calendar = _snapshot(calendar)
    cursor, stop = _instant(start, "start"), _instant(end, "end")
    calendar.require_working_time()
    if stop < cursor:
        return -business_time_between(calendar, end, start)
    total = ZERO
    day = cursor.astimezone(calendar.tz).date()
    while calendar.midnight(day) < stop:
        if cursor <= calendar.midnight(day) and calendar.midnight(day + WEEK) <= stop and calendar.plain_week(day):
            total += calendar.week_length
            day += WEEK
            continue
        for begin, finish in calendar.intervals(day):
            begin, finish = max(begin, cursor), min(finish, stop)
            if finish > begin:
                total += finish - begin
        day += DAY
    return total


def is_business_time(calendar, moment: datetime.datetime) -> bool:
    """Whether `moment` falls in working time (not on a holiday, inside one of its weekday's intervals)."""
    calendar = _snapshot(calendar)
    instant = _instant(moment)
    day = instant.astimezone(calendar.tz).date()
    return any(begin <= instant < finish for begin, finish in calendar.intervals(day))


def next_business_moment(calendar, moment: datetime.datetime) -> datetime.datetime:
    """`moment` itself when it is working time, else the next opening after it.
    Raises NoBusinessTime for a calendar without working time."""
    calendar = _snapshot(calendar)
    cursor = _instant(moment)
    calendar.require_working_time()
    day = cursor.astimezone(calendar.tz).date()
    for _closed in range(MAX_CLOSED_DAYS + 1):
        for begin, finish in calendar.intervals(day):
            if finish > cursor:
                return max(begin, cursor).astimezone(calendar.tz)
        day += DAY
    raise _closed_too_long(calendar, moment)


# --- loading calendars -------------------------------------------------------------------------------------------

# Every process keeps the calendars until a service changes one (crm.automation.services calls changed()).
calendars_config = ConfigCache("business-calendars", size=8)


def snapshot_of(calendar) -> CalendarSnapshot:
    """A snapshot of a BusinessCalendar row (reads its hours and holidays, or their prefetched rows)."""
    hours: dict[int, list] = {}
    for row in calendar.hours.all():
        hours.setdefault(row.weekday, []).append((row.start, row.end))
    holidays = list(calendar.holidays.all())
    return CalendarSnapshot.build(
        time_zone=calendar.time_zone, hours=hours, id=calendar.pk, name=calendar.name, is_default=calendar.is_default,
        holidays=[h.date for h in holidays if not h.recurs_yearly],
        yearly_holidays=[h.date for h in holidays if h.recurs_yearly])


def load_calendars(ids: Iterable[int] | None = None) -> dict[int, CalendarSnapshot]:
    """Snapshots of the calendars (all, or those of `ids`), by id: one query, the hours and holidays
    gathered into arrays beside each calendar."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import OuterRef
    from django.db.models.functions import JSONObject

    from crm.automation.models import BusinessCalendar, BusinessHours, Holiday

    hours = (BusinessHours.objects.filter(calendar=OuterRef("pk")).order_by("weekday", "start")
             .values(row=JSONObject(weekday="weekday", start="start", end="end")))
    holidays = Holiday.objects.filter(calendar=OuterRef("pk")).values(row=JSONObject(date="date", yearly="recurs_yearly"))
    queryset = BusinessCalendar.objects.annotate(hour_rows=ArraySubquery(hours), holiday_rows=ArraySubquery(holidays))
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    found = {}
    for calendar in queryset:
        week: dict[int, list] = {}
        for row in calendar.hour_rows:
            week.setdefault(row["weekday"], []).append((row["start"], row["end"]))
        days = [(datetime.date.fromisoformat(row["date"]), row["yearly"]) for row in calendar.holiday_rows]
        found[calendar.pk] = CalendarSnapshot.build(
            time_zone=calendar.time_zone, hours=week, id=calendar.pk, name=calendar.name,
            is_default=calendar.is_default, holidays=[d for d, yearly in days if not yearly],
            yearly_holidays=[d for d, yearly in days if yearly])
    return found


def calendar_snapshot(calendar_id: int | None = None) -> CalendarSnapshot:
    """A calendar's snapshot (the default calendar's when `calendar_id` is None), kept in this process until
    a calendar changes. Raises BusinessCalendar.DoesNotExist when there is no such calendar."""
    from crm.automation.models import BusinessCalendar

    snapshots = calendars_config.get("all", load_calendars)
    if calendar_id is None:
        found = next((s for s in snapshots.values() if s.is_default), None)
    else:
        found = snapshots.get(calendar_id)
    if found is None:
        raise BusinessCalendar.DoesNotExist(f"no business calendar {calendar_id or '(default)'}")
    return found
