"""Settings → Business hours and holidays: the calendars escalations and SLA policies count business time on.
The list, editing a calendar's name, zone, default flag and working week, adding and removing its holidays,
deleting it (never the default)."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.settings_views import render_settings, right_required
from crm.automation import services
from crm.automation.calendars import next_business_moment, snapshot_of, NoBusinessTime
from crm.automation.forms import CalendarForm, HolidayForm
from crm.automation.models import BusinessCalendar, BusinessHours, Holiday
from crm.core.middleware import client_ip

RIGHT = "manage_customization"
SECTION = "business_hours"


def _calendars():
    return BusinessCalendar.objects.prefetch_related(
        Prefetch("hours", queryset=BusinessHours.objects.order_by("weekday", "start"))).annotate(
        holiday_count=Count("holidays"))


def week_summary(calendar: BusinessCalendar) -> list[str]:
    """The working week in short: ["Mon–Fri 08:00–16:00", "Sat 09:00–13:00"]; weekdays in a row with the same
    hours are written once."""
    by_day: dict[int, tuple] = {}
    for row in calendar.hours.all():
        by_day[row.weekday] = by_day.get(row.weekday, ()) + (f"{row.start:%H:%M}–{row.end:%H:%M}",)
    runs: list[list] = []  # [first day, last day, hours]
    for day in range(7):
        hours = by_day.get(day)
        if hours and runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1][1] = day
        elif hours:
            runs.append([day, day, hours])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 6 and runs[0][2] == runs[-1][2]:
        # A week that works through the weekend reads from where it starts: Sat–Wed, not Mon–Wed and Sat–Sun.
        first = runs.pop()
        runs[0][0] = first[0]
    return [(str(WEEKDAYS_ABBR[first]) if first == last else f"{WEEKDAYS_ABBR[first]}–{WEEKDAYS_ABBR[last]}")
            + " " + ", ".join(hours) for first, last, hours in runs]


@right_required(RIGHT)
def calendar_list(request):
    rows = [(calendar, week_summary(calendar)) for calendar in _calendars()]
    return render_settings(request, "automation/calendar_list.html", {"rows": rows}, section=SECTION)


@right_required(RIGHT)
def calendar_edit(request, pk: int | None = None):
    calendar = get_object_or_404(_calendars(), pk=pk) if pk else None
    form = CalendarForm(request.POST if request.method == "POST" else None, calendar=calendar,
                        initial_time_zone=timezone.get_current_timezone_name())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.calendar_save(actor=request.user, calendar=calendar, name=data["name"],
                                           time_zone=data["time_zone"], is_default=data["is_default"],
                                           hours=form.hours(), ip=client_ip(request))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Calendar “%(name)s” saved.") % {"name": saved.name})
            return redirect("automation:calendar_edit", pk=saved.pk)
    return _render_edit(request, calendar, form, status=422 if request.method == "POST" else 200)


def _render_edit(request, calendar, form, *, holiday_form=None, status: int = 200):
    next_opening = None
    if calendar is not None:
        try:
            next_opening = next_business_moment(snapshot_of(calendar), timezone.now())
        except NoBusinessTime:
            pass
    response = render_settings(request, "automation/calendar_edit.html", {
        "calendar": calendar, "form": form, "next_opening": next_opening,
        "holidays": calendar.holidays.order_by("date") if calendar is not None else [],
        "holiday_form": holiday_form or (HolidayForm(calendar=calendar) if calendar is not None else None),
    }, section=SECTION)
    response.status_code = status
    return response


@right_required(RIGHT)
@require_POST
def calendar_delete(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    name = calendar.name
    try:
        services.calendar_delete(actor=request.user, calendar=calendar, ip=client_ip(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("automation:calendar_edit", pk=pk)
    messages.success(request, _("Calendar “%(name)s” deleted.") % {"name": name})
    return redirect("automation:calendar_list")


@right_required(RIGHT)
@require_POST
def holiday_add(request, pk: int):
    calendar = get_object_or_404(_calendars(), pk=pk)
    holiday_form = HolidayForm(request.POST, calendar=calendar)
    if holiday_form.is_valid():
        data = holiday_form.cleaned_data
        try:
            holiday = services.holiday_add(actor=request.user, calendar=calendar, date=data["date"], name=data["name"],
                                           recurs_yearly=data["recurs_yearly"], ip=client_ip(request))
        except ValidationError as exc:
            for message in exc.messages:
                holiday_form.add_error(None, message)
        else:
            messages.success(request, _("Holiday “%(name)s” added.") % {"name": holiday.name})
            return redirect(reverse("automation:calendar_edit", args=[pk]) + "#holidays")
    return _render_edit(request, calendar, CalendarForm(calendar=calendar), holiday_form=holiday_form, status=422)


@right_required(RIGHT)
@require_POST
def holiday_delete(request, pk: int, holiday_pk: int):
    holiday = get_object_or_404(Holiday.objects.select_related("calendar"), pk=holiday_pk, calendar_id=pk)
    name = holiday.name
    services.holiday_remove(actor=request.user, holiday=holiday, ip=client_ip(request))
    messages.success(request, _("Holiday “%(name)s” removed.") % {"name": name})
    return redirect(reverse("automation:calendar_edit", args=[pk]) + "#holidays")
