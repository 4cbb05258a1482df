"""The timeline's items written in Python: a record page shows up to fifty, and the template loop with
its per-item tags cost more than the rest of the page."""
from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.translation import gettext as _

from crm.activities.models import Activity
from crm.core.formatting import date_formatter

ICONS = {Activity.Kind.CALL: "telephone", Activity.Kind.TASK: "check2-square", Activity.Kind.MEETING: "calendar-event",
         Activity.Kind.EMAIL: "envelope", Activity.Kind.NOTE: "sticky"}


def timeline_items(activities) -> SafeString:
    stamp = date_formatter(with_time=True)
    open_label, due_label, minutes = _("Open"), _("Due"), _("%(m)s min")
    parts = []
    for a in activities:
        if a.kind == Activity.Kind.SYSTEM:
            title = escape(a.subject or a.verb)
        else:
            title = f"{escape(str(a.get_kind_display()))}: {escape(a.subject)}"
        when = escape(stamp(a.occurred_at)) + (f" · {escape(str(a.actor))}" if a.actor else "")
        parts.append(f'<li data-kind="{escape(a.kind)}">\n    <div class="d-flex justify-content-between flex-wrap gap-1">\n'
                     f'      <strong><i class="bi bi-{ICONS.get(a.kind, "lightning")}" aria-hidden="true"></i>\n'
                     f'        {title}</strong>\n      <small class="text-muted">{when}</small>\n    </div>\n')
        if a.body:
            body = escape(normalize_newlines(a.body)).replace("\n", "<br>")
            parts.append(f'    <div class="small text-break">{body}</div>\n')
        if a.kind == Activity.Kind.TASK:
            if a.status == Activity.Status.OPEN:
                badge = f'<span class="badge text-bg-warning">{escape(open_label)}</span>'
            else:
                badge = f'<span class="badge text-bg-success">{escape(str(a.get_status_display()))}</span>'
            due = f" {escape(due_label)} {escape(stamp(a.due_at))}" if a.due_at else ""
            assigned = f" · {escape(str(a.assigned_to))}" if a.assigned_to else ""
            parts.append(f"    <small>{badge}{due}{assigned}</small>\n")
        if a.kind == Activity.Kind.CALL:
            text = escape(str(a.get_direction_display()))
            if a.duration_minutes:
                text += " · " + escape(minutes % {"m": a.duration_minutes})
            if a.outcome:
                text += " · " + escape(a.outcome)
            parts.append(f'    <small class="text-muted">{text}</small>\n')
        parts.append("  </li>\n")
    return mark_safe("".join(parts))
