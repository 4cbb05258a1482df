"""The lead page's field list written in Python: some thirty fields, a third of them editable in place,
cost more through the template (an include per editable field) than the rest of the page."""
from __future__ import annotations

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def details_html(lead, rows, inline_fields) -> SafeString:
    """`rows` are display.detail_rows; fields in `inline_fields` get the pencil that edits them in place
    (the same markup as leads/_inline_field.html shows before a field is opened)."""
    parts = []
    edit = _("Edit %(label)s")
    for label, value, name in rows:
        parts.append(f'<dt class="col-sm-4 text-muted fw-normal">{escape(label)}</dt>'
                     f'<dd class="col-sm-8 text-break" data-field="{escape(name)}">')
        if name in inline_fields:
            url = reverse("leads:field", args=[lead.pk, name])
            parts.append(f'<span id="inline-{escape(name)}" class="inline-field">{conditional_escape(value or "—")} '
                         f'<button class="btn btn-link btn-sm p-0 align-baseline" type="button" hx-get="{url}?edit=1" '
                         f'hx-target="#inline-{escape(name)}" hx-swap="outerHTML" '
                         f'aria-label="{escape(edit % {"label": label})}"><i class="bi bi-pencil" aria-hidden="true"></i>'
                         f'</button></span>')
        else:
            parts.append(linebreaksbr(value or "—", autoescape=True))
        parts.append("</dd>")
    return mark_safe("".join(parts))
