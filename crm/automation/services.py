"""Writes of the automation app. Business-hours calendars: save (with the weekly hours), delete, add and remove
holidays; each one atomic, audited in the audit log as a customization change, and each one tells every
process to re-read the calendars (crm.automation.calendars.calendars_config)."""
from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.automation.calendars import calendars_config
from crm.automation.models import MIDNIGHT, BusinessCalendar, BusinessHours, Holiday, Weekday, validate_time_zone

# --- business-hours calendars ------------------------------------------------------------------------------------

HoursRow = tuple[int, datetime.time, datetime.time]  # weekday (Monday 0), start, end (00:00: midnight)


def hours_errors(hours: Iterable[HoursRow]) -> list[str]:
    """What is wrong with a week of working intervals: an interval that does not end after it starts, or
    two that overlap on one day. (The form says the same beside the fields; the service refuses it too.)"""
    problems = []
    by_day: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, start, end in hours:
        if weekday not in Weekday.values:
            problems.append(_("%(weekday)s is not a weekday.") % {"weekday": weekday})
            continue
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, intervals in sorted(by_day.items()):
        label = Weekday(weekday).label
        previous_end = -1  # minutes after midnight; an end of 00:00 is 1440
        for start, end in sorted(intervals):
            begin, finish = start.hour * 60 + start.minute, (end.hour * 60 + end.minute) or 24 * 60
            values = {"weekday": label, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
            if finish <= begin or (start, end) != (start.replace(second=0, microsecond=0),
                                                   end.replace(second=0, microsecond=0)):
                problems.append(_("%(weekday)s: %(start)s–%(end)s ends before it starts.") % values
                                if finish <= begin else _("%(weekday)s: give times in whole minutes.") % values)
                continue
            if begin < previous_end:
                problems.append(_("%(weekday)s: %(start)s–%(end)s overlaps the interval before it.") % values)
            previous_end = max(previous_end, finish)
    return problems


def _hours_text(hours: Iterable[HoursRow]) -> list[str]:
    return [f"{Weekday(d).label} {s:%H:%M}–{e:%H:%M}" for d, s, e in sorted(hours)]


def _audit(*, actor, target, ip, data: dict) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=target, ip=ip,
          data={"what": "business_calendar", **data})


@transaction.atomic
def calendar_save(*, actor, name: str, time_zone: str, hours: Iterable[HoursRow], is_default: bool | None = None,
                  calendar: BusinessCalendar | None = None, ip: str | None = None) -> BusinessCalendar:
    """Create a calendar, or change one, with its whole working week (`hours` replaces the old one).
    `is_default` True makes it the default, taking that from the one before; None keeps what it was (a new
    calendar is not the default). The first calendar is the default whatever is asked, and the default
    cannot be unset (False): make another calendar the default instead.
    Raises ValidationError with every problem found."""
    hours = sorted((int(d), s, e) for d, s, e in hours)
    name = " ".join((name or "").split())
    problems = hours_errors(hours)
    if not name:
        problems.append(_("Enter a name."))
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        problems.extend(exc.messages)
    # Lock the calendars: two admins making two calendars the default at once must not both succeed.
    existing = list(BusinessCalendar.objects.select_for_update().order_by("pk"))
    current = next((c for c in existing if calendar is not None and c.pk == calendar.pk), None)
    if calendar is not None and current is None:
        raise BusinessCalendar.DoesNotExist("the calendar was deleted")
    if any(c.name.lower() == name.lower() and c is not current for c in existing):
        problems.append(_("Another calendar is already called “%(name)s”.") % {"name": name})
    has_default = any(c.is_default for c in existing)
    if current is not None and current.is_default and is_default is False:
        problems.append(_("This is the default calendar. To change that, make another calendar the default."))
    if problems:
        raise ValidationError(problems)
    is_default = bool(is_default) or not has_default or (current is not None and current.is_default)

    created = current is None
    before = {} if created else {"name": current.name, "time_zone": current.time_zone,
                                 "is_default": current.is_default,
                                 "hours": _hours_text((h.weekday, h.start, h.end) for h in current.hours.all())}
    if is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(pk=getattr(current, "pk", None)).update(
            is_default=False, updated_at=timezone.now())
    target = current or BusinessCalendar()
    target.name, target.time_zone, target.is_default, target.updated_at = name, time_zone, is_default, timezone.now()
    target.save()
    BusinessHours.objects.filter(calendar=target).delete()
    BusinessHours.objects.bulk_create(BusinessHours(calendar=target, weekday=d, start=s, end=e) for d, s, e in hours)
    after = {"name": name, "time_zone": time_zone, "is_default": is_default, "hours": _hours_text(hours)}
    changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
    if created or changes:
        _audit(actor=actor, target=target, ip=ip, data={"created": created, "changes": changes})
    calendars_config.changed()
    if calendar is not None:
        calendar.refresh_from_db()
    return target


@transaction.atomic
def calendar_delete(*, actor, calendar: BusinessCalendar, ip: str | None = None) -> None:
    """Delete a calendar with its hours and holidays. The default calendar cannot be deleted, nor one that
    something still counts its time on (a rule or an SLA policy that protects its calendar)."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    if calendar.is_default:
        raise ValidationError(_("The default calendar cannot be deleted. Make another calendar the default "
                                "first."))
    _audit(actor=actor, target=calendar, ip=ip, data={"deleted": True, "name": calendar.name})
    try:
        with transaction.atomic():
            calendar.delete()
    except ProtectedError:
        raise ValidationError(_("The calendar “%(name)s” is still in use, so it cannot be deleted.")
                              % {"name": calendar.name}) from None
    calendars_config.changed()


@transaction.atomic
def holiday_add(*, actor, calendar: BusinessCalendar, date: datetime.date, name: str, recurs_yearly: bool = False,
                ip: str | None = None) -> Holiday:
    """A whole day off on the calendar (in its own time zone). Raises ValidationError when the calendar
    already has a holiday on that date."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Enter the holiday's name."))
    try:
        with transaction.atomic():
            holiday = Holiday.objects.create(calendar=calendar, date=date, name=name, recurs_yearly=recurs_yearly)
    except IntegrityError:
        raise ValidationError(_("This calendar already has a holiday on %(date)s.") % {"date": date}) from None
    _audit(actor=actor, target=calendar, ip=ip, data={"holiday_added": {
        "date": date.isoformat(), "name": name, "every_year": recurs_yearly}})
    BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
    calendars_config.changed()
    return holiday


@transaction.atomic
def holiday_remove(*, actor, holiday: Holiday, ip: str | None = None) -> None:
    calendar = holiday.calendar
    _audit(actor=actor, target=calendar, ip=ip, data={"holiday_removed": {
        "date": holiday.date.isoformat(), "name": holiday.name, "every_year": holiday.recurs_yearly}})
    holiday.delete()
    BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
    calendars_config.changed()
