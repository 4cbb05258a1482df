"""Forms of Settings → Business hours: a calendar with its working week, and a holiday."""
from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.models import MIDNIGHT, BusinessCalendar, Holiday, Weekday, time_zone_names
from crm.core.widgets import FastSelect

# Interval slots a weekday shows: enough for a split shift; a calendar that uses them all on some day gets
# one more, so a third interval can be added, and one saved with more shows every one it has.
SLOTS = 2
DEFAULT_WEEK = {day: [(datetime.time(8), datetime.time(16))] for day in range(5)}


def time_zone_choices() -> list:
    """The zones grouped by region (Europe/Helsinki under Europe), UTC first."""
    groups: dict[str, list] = {}
    for name in sorted(time_zone_names() - {"UTC"}):
        region = name.split("/", 1)[0]
        groups.setdefault(region, []).append((name, name.replace("_", " ")))
    return [("UTC", "UTC"), *sorted(groups.items())]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "form-control form-control-sm", **(attrs or {})}, format="%H:%M")


class CalendarForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), widget=FastSelect(
        attrs={"class": "form-select", "data-tom-select": ""}), help_text=gettext_lazy(
        "The hours below are wall-clock times in this zone; daylight-saving changes follow it."))
    is_default = forms.BooleanField(label=gettext_lazy("Default calendar"), required=False, help_text=gettext_lazy(
        "Used wherever no other calendar is chosen. There is always exactly one default."))

    def __init__(self, *args, calendar: BusinessCalendar | None = None, initial_time_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.calendar = calendar
        self.fields["time_zone"].choices = time_zone_choices()
        week: dict[int, list] = {}
        if calendar is not None:
            self.initial.update(name=calendar.name, time_zone=calendar.time_zone, is_default=calendar.is_default)
            for row in calendar.hours.all():
                week.setdefault(row.weekday, []).append((row.start, row.end))
        else:
            zone = initial_time_zone if initial_time_zone in time_zone_names() else settings.TIME_ZONE
            self.initial.update(time_zone=zone)
            week = DEFAULT_WEEK
        most = max([len(v) for v in week.values()] or [0])
        self.slots = max(SLOTS, most + 1 if most >= SLOTS else 0)
        for day in Weekday:
            for slot in range(self.slots):
                interval = week.get(day.value, [])[slot] if slot < len(week.get(day.value, [])) else (None, None)
                for part, value in zip(("start", "end"), interval):
                    key = f"{part}_{day.value}_{slot}"
                    label = (_("%(weekday)s, interval %(n)s, from") if part == "start"
                             else _("%(weekday)s, interval %(n)s, to")) % {"weekday": day.label, "n": slot + 1}
                    self.fields[key] = forms.TimeField(label=label, required=False, widget=TimeInput())
                    if value is not None:
                        self.initial[key] = value

    @property
    def week(self):
        """For the template: (weekday label, [(from field, to field), ...]) Monday first."""
        return [(day.label, [(self[f"start_{day.value}_{slot}"], self[f"end_{day.value}_{slot}"])
                             for slot in range(self.slots)]) for day in Weekday]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        clash = BusinessCalendar.objects.filter(name__iexact=name)
        if self.calendar is not None:
            clash = clash.exclude(pk=self.calendar.pk)
        if clash.exists():
            raise forms.ValidationError(_("Another calendar is already called “%(name)s”.") % {"name": name})
        return name

    def clean_is_default(self):
        value = self.cleaned_data["is_default"]
        if self.calendar is not None and self.calendar.is_default and not value:
            raise forms.ValidationError(_("This is the default calendar. To change that, make another calendar "
                                          "the default."))
        return value

    def clean(self):
        cleaned = super().clean()
        for day in Weekday:
            intervals = []
            for slot in range(self.slots):
                start_key, end_key = f"start_{day.value}_{slot}", f"end_{day.value}_{slot}"
                if start_key in self.errors or end_key in self.errors:
                    continue
                start, end = cleaned.get(start_key), cleaned.get(end_key)
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.add_error(start_key if start is None else end_key, _("Enter both times, or neither."))
                    continue
                if not (end > start or end == MIDNIGHT):
                    self.add_error(end_key, _("%(weekday)s: the interval must end after it starts (00:00 is "
                                              "midnight).") % {"weekday": day.label})
                    continue
                intervals.append((start, end, end_key))
            previous_end = -1  # minutes after midnight; an end of 00:00 is 1440
            for start, end, end_key in sorted(intervals):
                if start.hour * 60 + start.minute < previous_end:
                    self.add_error(end_key, _("%(weekday)s: %(start)s–%(end)s overlaps another interval.") % {
                        "weekday": day.label, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"})
                previous_end = max(previous_end, (end.hour * 60 + end.minute) or 24 * 60)
        return cleaned

    def hours(self) -> list[tuple[int, datetime.time, datetime.time]]:
        """The working week typed into the form: (weekday, start, end) rows."""
        rows = []
        for day in Weekday:
            for slot in range(self.slots):
                start, end = self.cleaned_data.get(f"start_{day.value}_{slot}"), self.cleaned_data.get(f"end_{day.value}_{slot}")
                if start is not None and end is not None:
                    rows.append((day.value, start, end))
        return rows


class HolidayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(
        attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    recurs_yearly = forms.BooleanField(label=gettext_lazy("Every year"), required=False,
                                       help_text=gettext_lazy("The same day and month every year."))

    def __init__(self, *args, calendar: BusinessCalendar, **kwargs):
        super().__init__(*args, prefix="holiday", **kwargs)
        self.calendar = calendar

    def clean_date(self):
        date = self.cleaned_data["date"]
        if Holiday.objects.filter(calendar=self.calendar, date=date).exists():
            raise forms.ValidationError(_("This calendar already has a holiday on this day."))
        return date
