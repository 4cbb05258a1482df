"""The timeline's items and My day's rows written in Python: a record page shows up to fifty items, and the
template loop with its per-item tags cost more than the rest of the page. Everything taken from a record or a
person is escaped; formatted text is sanitized again on the way out."""
from __future__ import annotations

from html import escape

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.activities import richtext
from crm.activities.models import Activity
from crm.core.formatting import date_formatter

ICONS = {Activity.Kind.CALL: "telephone", Activity.Kind.TASK: "check2-square", Activity.Kind.MEETING: "calendar-event",
         Activity.Kind.EMAIL: "envelope", Activity.Kind.NOTE: "sticky"}
_PLACEHOLDER = 987654321987


class _Urls:
    """Activity URLs reversed once per page, not once per item."""

    def __init__(self):
        self._templates: dict[str, str] = {}

    def __call__(self, name: str, pk: int) -> str:
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = reverse(name, args=[_PLACEHOLDER])
        return template.replace(str(_PLACEHOLDER), str(int(pk)))


def _body(a: Activity) -> str:
    if a.body_html:
        return f'    <div class="small text-break rich-text">{richtext.sanitize(a.body_html)}</div>\n'
    if a.body:
        body = escape(normalize_newlines(a.body)).replace("\n", "<br>")
        return f'    <div class="small text-break">{body}</div>\n'
    return ""


def _people(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    if more <= 0:
        return escape(shown)
    return escape(ngettext("%(names)s and %(n)s more", "%(names)s and %(n)s more", more) % {"names": shown, "n": more})


def timeline_items(activities, *, csrf_token: str = "", user=None, can_edit: bool = False) -> SafeString:
    """The <li> items of a timeline. With `csrf_token`, open tasks the reader may complete get a Done button,
    and with `can_edit` (the reader may edit the record) activities get an Edit link."""
    stamp = date_formatter(with_time=True)
    urls = _Urls()
    open_label, due_label, minutes = _("Open"), _("Due"), _("%(m)s min")
    done_label, edit_label, invite_label = _("Done"), _("Edit"), _("Invitation (.ics)")
    user_id = getattr(user, "pk", None)
    parts = []
    for a in activities:
        if a.kind == Activity.Kind.SYSTEM:
            title = escape(a.subject or a.verb)
        else:
            title = f"{escape(str(a.get_kind_display()))}: {escape(a.subject)}"
        when = escape(stamp(a.occurred_at)) + (f" · {escape(str(a.actor))}" if a.actor else "")
        done = " text-body-secondary" if a.kind == Activity.Kind.TASK and a.status != Activity.Status.OPEN else ""
        parts.append(f'<li data-kind="{escape(a.kind)}" id="activity-{a.pk}" class="timeline-item{done}">\n'
                     f'    <div class="d-flex justify-content-between flex-wrap gap-1">\n'
                     f'      <strong><i class="bi bi-{ICONS.get(a.kind, "lightning")}" aria-hidden="true"></i>\n'
                     f'        {title}</strong>\n      <small class="text-muted">{when}</small>\n    </div>\n')
        parts.append(_body(a))
        actions = []
        if a.kind == Activity.Kind.TASK:
            if a.status == Activity.Status.OPEN:
                badge = f'<span class="badge text-bg-warning">{escape(open_label)}</span>'
            else:
                badge = f'<span class="badge text-bg-success">{escape(str(a.get_status_display()))}</span>'
            due = f" {escape(due_label)} {escape(stamp(a.due_at))}" if a.due_at else ""
            assigned = f" · {escape(str(a.assigned_to))}" if a.assigned_to else ""
            parts.append(f"    <small>{badge}{due}{assigned}</small>\n")
            if a.status == Activity.Status.OPEN and csrf_token and (can_edit or a.assigned_to_id == user_id):
                url = urls("activities:complete", a.pk)
                actions.append(
                    f'<form method="post" action="{url}" hx-post="{url}" hx-target="#activity-{a.pk}" hx-swap="outerHTML">'
                    f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
                    f'<button class="btn btn-sm btn-outline-success" type="submit" data-complete="{a.pk}">'
                    f'<i class="bi bi-check" aria-hidden="true"></i> {escape(done_label)}'
                    f'<span class="visually-hidden"> {escape(a.subject)}</span></button></form>')
        elif a.kind == Activity.Kind.CALL:
            text = escape(str(a.get_direction_display()))
            if a.duration_minutes:
                text += " · " + escape(minutes % {"m": a.duration_minutes})
            if a.outcome:
                text += " · " + escape(a.outcome_label)
            parts.append(f'    <small class="text-muted">{text}</small>\n')
        elif a.kind == Activity.Kind.MEETING:
            text = escape(stamp(a.due_at)) if a.due_at else ""
            if a.ends_at:
                text += " – " + escape(stamp(a.ends_at))
            if a.location:
                text += " · " + escape(a.location)
            attendees = getattr(a, "attendee_list", None)
            if attendees:
                text += " · " + _people([str(x) for x in attendees])
            if a.status == Activity.Status.CANCELLED:
                text += " · " + escape(str(a.get_status_display()))
            parts.append(f'    <small class="text-muted">{text}</small>\n')
            actions.append(f'<a class="btn btn-sm btn-link" href="{urls("activities:invitation", a.pk)}" download>'
                           f'<i class="bi bi-calendar-plus" aria-hidden="true"></i> {escape(invite_label)}</a>')
        elif a.kind == Activity.Kind.EMAIL:
            data = a.data or {}
            if data.get("sent"):
                text = escape(_("Sent to %(to)s") % {"to": ", ".join(data.get("to") or [])})
            else:
                text = escape(_("Logged")) + (f" · {escape(str(a.get_direction_display()))}" if a.direction else "")
            parts.append(f'    <small class="text-muted">{text}</small>\n')
        if can_edit and csrf_token and a.kind != Activity.Kind.SYSTEM and not a.is_sent_email:
            actions.append(f'<a class="btn btn-sm btn-link" href="{urls("activities:edit", a.pk)}">'
                           f'<i class="bi bi-pencil" aria-hidden="true"></i> {escape(edit_label)}'
                           f'<span class="visually-hidden"> {escape(a.subject)}</span></a>')
        if actions:
            parts.append(f'    <div class="d-flex flex-wrap gap-1 mt-1">{"".join(actions)}</div>\n')
        parts.append("  </li>\n")
    return mark_safe("".join(parts))


def my_day_rows(activities, *, csrf_token: str, overdue: bool = False) -> SafeString:
    """My day's rows: the task or meeting, its record (when the reader may see it), its time, and for tasks
    the one-click Done that refreshes the widget."""
    stamp = date_formatter(with_time=True)
    urls = _Urls()
    done_label = _("Done")
    parts = []
    for a in activities:
        record = getattr(a, "target_record", None)
        link = urls("activities:detail", a.pk)
        icon = ICONS.get(a.kind, "lightning")
        when_text = stamp(a.due_at)
        if a.kind == Activity.Kind.MEETING:  # today's: the time is what matters
            when_text = when_text[-5:] + (" – " + stamp(a.ends_at)[-5:] if a.ends_at else "")
        when_class = "text-danger fw-semibold" if overdue else "text-muted"
        about = ""
        if record is not None:
            about = f' · <a class="link-secondary" href="{escape(record.get_absolute_url())}">{escape(str(record))}</a>'
        priority = ""
        if a.kind == Activity.Kind.TASK and a.priority == Activity.Priority.HIGH:
            priority = f' <span class="badge text-bg-danger">{escape(str(a.get_priority_display()))}</span>'
        parts.append(f'<li class="list-group-item d-flex justify-content-between align-items-center gap-2" '
                     f'data-activity="{a.pk}">\n  <div>\n'
                     f'    <i class="bi bi-{icon}" aria-hidden="true"></i> <a href="{link}">{escape(a.subject)}</a>{priority}\n'
                     f'    <br><small class="{when_class}">{escape(when_text) if a.due_at else ""}</small><small>{about}</small>\n'
                     f'  </div>\n')
        if a.kind == Activity.Kind.TASK:
            url = urls("activities:complete", a.pk)
            parts.append(
                f'  <form method="post" action="{url}" hx-post="{url}" hx-target="#my-day" hx-swap="outerHTML">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
                f'<input type="hidden" name="next" value="/">'
                f'<button class="btn btn-sm btn-outline-success" type="submit" data-complete="{a.pk}">'
                f'<i class="bi bi-check" aria-hidden="true"></i> {escape(done_label)}'
                f'<span class="visually-hidden"> {escape(a.subject)}</span></button></form>\n')
        parts.append("</li>\n")
    return mark_safe("".join(parts))
