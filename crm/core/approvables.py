"""What can be sent for approval, beyond the registered record types (crm.core.records), which all can: a
domain app registers its other documents here in AppConfig.ready(), so the approval engine (crm.automation)
can find, show, lock and answer them without importing the app:

    register_approvable("opportunities.quote", Quote, label=_("Quote"), fields=("discount_percent", "total"),
                        visible=visible_quotes, url=quote_url, timeline=lambda quote: quote.opportunity,
                        submitted_event="quote.approval_requested", recalled_event="quote.withdrawn",
                        decided=on_decided, recalled=on_recalled)

`url(record)` is its page; `timeline(record)` the record whose timeline shows the approval steps (a quote's
opportunity); `visible(user, action)` is the queryset of those the user may see or edit; `decided(actor, record, approved,
comment)` is called when a request ends approved or rejected, `recalled(actor, record)` when the submitter
recalls one (the app moves its own statuses); `submitted_event` / `recalled_event` are the events the app emits
when its own pages submit or withdraw."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Approvable:
    key: str
    model: Any
    label: Any
    fields: tuple[str, ...]
    visible: Callable
    url: Callable
    timeline: Callable | None = None
    decided: Callable | None = None
    recalled: Callable | None = None
    submitted_event: str = ""
    recalled_event: str = ""


_approvables: dict[str, Approvable] = {}


def register_approvable(key: str, model, *, label, fields: tuple[str, ...], visible: Callable, url: Callable,
                        timeline: Callable | None = None, decided: Callable | None = None,
                        recalled: Callable | None = None, submitted_event: str = "",
                        recalled_event: str = "") -> None:
    _approvables[key] = Approvable(key, model, label, tuple(fields), visible, url, timeline, decided, recalled,
                                   submitted_event, recalled_event)


def get(key: str) -> Approvable | None:
    return _approvables.get(key)


def all_approvables() -> list[Approvable]:
    return list(_approvables.values())
