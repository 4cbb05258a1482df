"""Panels of record pages, contributed by the apps that own their content: the opportunities app adds an
account's opportunities to the account page, the leads app the "converted from lead" links to the pages of
what a conversion created. No app imports another's models for its pages.

    register_panel("accounts.account", "opportunities", "opportunities/_panel.html", context_fn, order=20)

`context_fn(request, record)` returns the template's context, or None to leave the panel out (the reader may
not view that type). `placement` is "header" (under the title) or "main" (below the tabs). A panel registered for "*" is offered
on every record type's page (the approval panel), its context deciding where it shows."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import mark_safe


@dataclass(frozen=True)
class Panel:
    record_type: str
    key: str
    template: str
    context: Callable
    order: int = 100
    placement: str = "main"


_panels: dict[tuple[str, str], Panel] = {}


def register_panel(record_type: str, key: str, template: str, context: Callable, *, order: int = 100,
                   placement: str = "main") -> None:
    _panels[(record_type, key)] = Panel(record_type, key, template, context, order, placement)


def panels_for(record_type: str, placement: str) -> list[Panel]:
    return sorted((p for p in _panels.values() if p.record_type in (record_type, "*") and p.placement == placement),
                  key=lambda p: (p.order, p.key))


def render_panels(context, record, placement: str) -> str:
    """The panels, rendered inside the page's own template context: the context processors (navigation, the
    bell) ran once for the page and do not run again for each panel."""
    from crm.core import records

    request = context["request"]
    parts = []
    for panel in panels_for(records.key_of(record), placement):
        values = panel.context(request, record)
        if values is None:
            continue
        template = context.template.engine.get_template(panel.template)
        with context.push(record=record, **values):
            parts.append(template.render(context))
    return mark_safe("".join(parts))
