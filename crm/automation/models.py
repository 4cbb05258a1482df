"""Automation's tables.

Business-hours calendars come first: the working week and the holidays that escalation rules and SLA
policies count "business hours" on (the arithmetic is in crm.automation.calendars). The engine's own tables
(rules, runs, approvals) follow in their own sections."""
from __future__ import annotations

import datetime
import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- business-hours calendars ------------------------------------------------------------------------------------

MIDNIGHT = datetime.time(0)


@functools.cache
def time_zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (system tzdata, else the tzdata package), without the
    aliases tzdata keeps for old systems ("posixrules", "Factory", "localtime")."""
    return frozenset(name for name in zoneinfo.available_timezones()
                     if "/" in name or name == "UTC") - {"posixrules"}


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(_("“%(value)s” is not a time zone. Choose one such as Europe/Helsinki."),
                              code="invalid_time_zone", params={"value": value})


class Weekday(models.IntegerChoices):
    # Python's date.weekday(): Monday is 0.
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessCalendar(models.Model):
    """A working week in one time zone, with its holidays. Exactly one calendar is the default: the
    database allows at most one, and the services keep one (the first calendar becomes it, and the default
    cannot be deleted or unset, only replaced)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone],
                                 help_text=_("Working hours are wall-clock times in this zone."))
    is_default = models.BooleanField(_("default calendar"), default=False, help_text=_(
        "Used where no other calendar is chosen (a rule or an SLA policy without a calendar of its own)."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="one_default_business_calendar")]
        verbose_name = _("business-hours calendar")
        verbose_name_plural = _("business-hours calendars")

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """One working interval of a weekday, in the calendar's wall-clock time: Monday 08:00–12:00. A day has
    as many as it needs (a split shift is two rows; a day off has none). An end of 00:00 means midnight, so
    00:00–00:00 is the whole day."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("to"))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")) | Q(end=MIDNIGHT),
                                   name="business_hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="business_hours_weekday"),
            models.UniqueConstraint(fields=["calendar", "weekday", "start"], name="uniq_business_hours_start"),
        ]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and not (self.end > self.start or self.end == MIDNIGHT):
            raise ValidationError({"end": _("The interval must end after it starts (00:00 means midnight).")})


class Holiday(models.Model):
    """A whole day off on a calendar's own date (in its time zone). A yearly holiday falls on the same day
    and month every year (a 29 February one only in leap years)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    recurs_yearly = models.BooleanField(_("every year"), default=False,
                                        help_text=_("The same day and month every year."))

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="uniq_holiday_date")]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


from crm.automation.models_approvals import *  # noqa: E402,F401,F403  (approval processes)
from crm.automation.models_rules import *  # noqa: E402,F401,F403  (workflow rules)
from crm.automation.models_autoresponders import *  # noqa: E402,F401,F403  (auto-responders)
from crm.automation.models_escalations import *  # noqa: E402,F401,F403  (escalation rules)
