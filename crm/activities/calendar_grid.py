"""The calendar's week and month grids, computed for the reader's language (the week starts on Monday in
Finnish, Saturday in Persian, Sunday in English), calendar (Jalali months for readers who chose them) and time
zone, and written in Python: a week is some two hundred cells."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape

from babel import Locale
from babel.dates import format_date as babel_format_date
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.activities.models import Activity
from crm.core.formatting import JALALI_MONTHS_EN, JALALI_MONTHS_FA, format_date, localize_digits

WEEK, MONTH = "week", "month"
SLOT_MINUTES = 30
DAY_START_HOUR, DAY_END_HOUR = 7, 19


@dataclass
class Period:
    view: str
    anchor: date
    start: date  # first day shown
    end: date  # first day not shown
    title: str
    previous: date
    next: date
    month_start: date | None = None
    month_end: date | None = None  # exclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return datetime.combine(self.start, time.min, tzinfo=zone), datetime.combine(self.end, time.min, tzinfo=zone)


def _language() -> str:
    code = (translation.get_language() or "en").split("-")[0]
    return code if code in ("en", "fa", "fi") else "en"


# A bare language has no country, and Babel then answers the world's Monday: weeks start as the CRM's
# languages' home countries count them (Sunday in the United States, Saturday in Iran, Monday in Finland).
WEEK_COUNTRIES = {"en": "en_US", "fa": "fa_IR", "fi": "fi_FI"}


def first_weekday(language: str | None = None) -> int:
    """0 = Monday … 6 = Sunday, as the language's main country counts weeks."""
    language = language or _language()
    return Locale.parse(WEEK_COUNTRIES.get(language, language)).first_week_day


def week_start(day: date, language: str | None = None) -> date:
    return day - timedelta(days=(day.weekday() - first_weekday(language)) % 7)


def _month_range(anchor: date, jalali: bool) -> tuple[date, date, str]:
    if jalali:
        import jdatetime

        j = jdatetime.date.fromgregorian(date=anchor)
        first = jdatetime.date(j.year, j.month, 1)
        following = jdatetime.date(j.year + 1, 1, 1) if j.month == 12 else jdatetime.date(j.year, j.month + 1, 1)
        months = JALALI_MONTHS_FA if _language() == "fa" else JALALI_MONTHS_EN
        return first.togregorian(), following.togregorian(), localize_digits(f"{months[j.month - 1]} {j.year}")
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    title = babel_format_date(first, "LLLL y", locale=_language())
    return first, following, localize_digits(title[:1].upper() + title[1:])


def period_for(view: str, anchor: date, *, jalali: bool = False) -> Period:
    if view == MONTH:
        first, following, title = _month_range(anchor, jalali)
        start = week_start(first)
        last = following - timedelta(days=1)
        end = week_start(last) + timedelta(days=7)
        previous = _month_range(first - timedelta(days=1), jalali)[0]
        return Period(MONTH, anchor, start, end, title, previous, following, first, following)
    start = week_start(anchor)
    end = start + timedelta(days=7)
    title = f"{format_date(start)} – {format_date(end - timedelta(days=1))}"
    return Period(WEEK, anchor, start, end, title, start - timedelta(days=7), end)


def _day_names() -> list[str]:
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=_language())
    return [names[i] for i in range(7)]


def _day_number(day: date, jalali: bool) -> str:
    if jalali:
        import jdatetime

        return localize_digits(str(jdatetime.date.fromgregorian(date=day).day))
    return localize_digits(str(day.day))


def _clock(value: datetime) -> str:
    local = timezone.localtime(value)
    return localize_digits(f"{local.hour:02d}:{local.minute:02d}")


def clock_range(a: Activity) -> str:
    """"09:30–10:00" for a meeting, "09:30" for a task, in the current time zone."""
    when = _clock(a.due_at)
    if a.kind == Activity.Kind.MEETING and a.ends_at:
        when += "–" + _clock(a.ends_at)
    return when


def _item(a: Activity, *, user, editable: bool, urls, show_owner: bool, move_label: str) -> str:
    when = clock_range(a)
    record = getattr(a, "target_record", None)
    extra = []
    if record is not None:
        extra.append(escape(str(record)))
    if show_owner and a.assigned_to_id != user.pk and a.assigned_to is not None:
        extra.append(escape(str(a.assigned_to)))
    done = a.kind == Activity.Kind.TASK and a.status != Activity.Status.OPEN
    icon = "calendar-event" if a.kind == Activity.Kind.MEETING else ("check2-square" if not done else "check2-all")
    style = "border-primary" if a.kind == Activity.Kind.MEETING else "border-warning"
    drag = ""
    if editable and a.kind == Activity.Kind.MEETING:
        drag = (f' data-draggable data-move-url="{urls("activities:move", a.pk)}"'
                f' aria-roledescription="{escape(move_label)}"')
    subject = f'<s>{escape(a.subject)}</s>' if done else escape(a.subject)
    details = f'<br><span class="text-body-secondary">{" · ".join(extra)}</span>' if extra else ""
    return (f'<div class="calendar-item border-start border-3 {style} bg-body-tertiary rounded-1 px-1 mb-1 small" '
            f'data-activity="{a.pk}" data-kind="{escape(a.kind)}"{drag}>'
            f'<i class="bi bi-{icon}" aria-hidden="true"></i> <span data-when>{when}</span> '
            f'<a href="{urls("activities:detail", a.pk)}">{subject}</a>{details}</div>')


def render(period: Period, items: list[Activity], *, user, editable: set[int], show_owner: bool, jalali: bool) -> SafeString:
    from crm.activities.rendering import _Urls

    urls = _Urls()
    move_label = _("movable meeting")
    names = _day_names()
    today = timezone.localdate()
    by_day: dict[date, list[Activity]] = {}
    for a in items:
        by_day.setdefault(timezone.localtime(a.due_at).date(), []).append(a)

    def item(a):
        return _item(a, user=user, editable=a.pk in editable, urls=urls, show_owner=show_owner, move_label=move_label)

    days = period.days
    parts = []
    if period.view == MONTH:
        parts.append(f'<table class="table table-bordered calendar calendar-month mb-0" data-calendar data-view="month">'
                     f'<caption class="visually-hidden">{escape(period.title)}</caption><thead><tr>')
        for day in days[:7]:
            parts.append(f'<th scope="col" class="text-center small">{escape(names[day.weekday()])}</th>')
        parts.append("</tr></thead><tbody>")
        for week in range(0, len(days), 7):
            parts.append("<tr>")
            for day in days[week:week + 7]:
                outside = period.month_start and not (period.month_start <= day < period.month_end)
                classes = "calendar-day p-1" + (" bg-primary-subtle" if day == today else "") + (" text-body-secondary" if outside else "")
                parts.append(f'<td class="{classes}" data-drop="{day.isoformat()}">'
                             f'<div class="small fw-semibold"><span aria-hidden="true">{_day_number(day, jalali)}</span>'
                             f'<span class="visually-hidden">{escape(format_date(day))}</span></div>')
                parts.extend(item(a) for a in by_day.get(day, []))
                parts.append("</td>")
            parts.append("</tr>")
        parts.append("</tbody></table>")
        return mark_safe("".join(parts))

    # Week: one row per half hour of the working day, widened to whatever is scheduled outside it.
    first_hour, last_hour = DAY_START_HOUR, DAY_END_HOUR
    for a in items:
        local = timezone.localtime(a.due_at)
        first_hour, last_hour = min(first_hour, local.hour), max(last_hour, local.hour + 1)
    slots: dict[tuple[date, int], list[Activity]] = {}
    for a in items:
        local = timezone.localtime(a.due_at)
        slots.setdefault((local.date(), local.hour * 60 + (local.minute // SLOT_MINUTES) * SLOT_MINUTES), []).append(a)
    parts.append('<table class="table table-bordered table-sm calendar calendar-week mb-0" data-calendar data-view="week">'
                 f'<caption class="visually-hidden">{escape(period.title)}</caption><thead><tr>'
                 f'<th scope="col"><span class="visually-hidden">{escape(_("Time"))}</span></th>')
    for day in days:
        current = " bg-primary-subtle" if day == today else ""
        parts.append(f'<th scope="col" class="text-center small{current}">{escape(names[day.weekday()])} '
                     f'{_day_number(day, jalali)}</th>')
    parts.append("</tr></thead><tbody>")
    for minute in range(first_hour * 60, min(last_hour, 24) * 60, SLOT_MINUTES):
        label = localize_digits(f"{minute // 60:02d}:{minute % 60:02d}")
        parts.append(f'<tr><th scope="row" class="small text-body-secondary text-nowrap fw-normal">{label}</th>')
        for day in days:
            current = " bg-primary-subtle" if day == today else ""
            stamp = f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}"
            parts.append(f'<td class="calendar-slot p-1{current}" data-drop="{stamp}">')
            parts.extend(item(a) for a in slots.get((day, minute), []))
            parts.append("</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return mark_safe("".join(parts))
