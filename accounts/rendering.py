"""Parts of the account and contact pages written in Python, where a template loop per row was the cost: the
field list with its in-place edit pencils, and the account hierarchy tree."""
from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.selectors import Hierarchy, TreeNode


def details_html(rows, inline_fields: set[str], field_url: Callable[[str], str]) -> SafeString:
    """`rows` are display.detail_rows; fields in `inline_fields` get the pencil that opens them for editing in
    place (the markup accounts/_inline_field.html shows before a field is opened). The field's content is
    swapped inside its span (innerHTML), so the swapped-in select gets its type-ahead (crm.js enhances the
    swap's target)."""
    parts = []
    edit = _("Edit %(label)s")
    for label, value, name in rows:
        parts.append(f'<dt class="col-sm-4 text-muted fw-normal">{escape(label)}</dt>'
                     f'<dd class="col-sm-8 text-break" data-field="{escape(name)}">')
        if name in inline_fields:
            url = escape(field_url(name))
            parts.append(f'<span id="inline-{escape(name)}" class="inline-field">{conditional_escape(value or "—")} '
                         f'<button class="btn btn-link btn-sm p-0 align-baseline" type="button" hx-get="{url}?edit=1" '
                         f'hx-target="#inline-{escape(name)}" hx-swap="innerHTML" '
                         f'aria-label="{escape(edit % {"label": label})}"><i class="bi bi-pencil" aria-hidden="true"></i>'
                         f'</button></span>')
        else:
            parts.append(linebreaksbr(value or "—", autoescape=True))
        parts.append("</dd>")
    return mark_safe("".join(parts))


def _node(node: TreeNode, url: Callable[[int], str]) -> str:
    if node.current:
        label = f'<strong aria-current="page">{escape(node.name)}</strong>'
    elif node.visible:
        label = f'<a href="{escape(url(node.id))}">{escape(node.name)}</a>'
    else:
        label = f'<span class="text-muted fst-italic">{escape(_("An account you cannot open"))}</span>'
    children = ""
    if node.children:
        children = '<ul class="account-tree-children">' + "".join(_node(c, url) for c in node.children) + "</ul>"
    return f'<li data-account="{node.id if node.visible else ""}">{label}{children}</li>'


def tree_html(tree: Hierarchy, url: Callable[[int], str]) -> SafeString:
    """The hierarchy as nested lists: the ancestors, top first, each holding the next, down to the account and
    its subsidiaries."""
    html = _node(tree.root, url)
    for ancestor in reversed(tree.ancestors):
        ancestor.children = []  # only the line that leads to this account
        html = _node(ancestor, url).removesuffix("</li>") + f'<ul class="account-tree-children">{html}</ul></li>'
    return mark_safe(f'<ul class="account-tree" data-account-tree>{html}</ul>')
