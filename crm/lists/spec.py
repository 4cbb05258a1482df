"""What a record type tells the list engine about its list: the columns it shows
by default, which it filters and searches, its built-in views and bulk actions.
Everything else (sorting both ways, keyset pages, the count, saved views, column
choice, exports, field-level security) the engine derives from the model."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class View:
    """A built-in view everyone has: a named query string ("mine=1&open=1")."""

    key: str
    label: str
    query: str


@dataclass(frozen=True)
class BulkAction:
    """An action on the ticked rows of a list.

    `run(actor=..., ids=[...], value=...)` returns how many records it changed; it only touches records
    the actor may edit (the services check). With `choices`, the user picks a value first
    (`choices(user)` gives (value, label) pairs); `done` is the message, with %(count)s and %(value)s."""

    key: str
    label: str
    run: Callable[..., int]
    done: str
    permission: str = "edit"  # the profile right it needs on the record type: "edit" or "delete"
    choices: Callable[[Any], list[tuple[Any, str]]] | None = None
    prompt: str = ""  # the empty choice of the value select ("Assign to…")
    confirm: str = ""  # asked before running
    danger: bool = False


@dataclass(frozen=True)
class ListSpec:
    columns: tuple[str, ...]  # shown by default, in order; the first links to the record
    # More columns a user may choose (custom fields always may be chosen).
    optional_columns: tuple[str, ...] = ()
    default_sort: str = "-created_at"
    # Column → the expressions to order by, when the field alone is not the order ("stage": pipeline, stage).
    sorts: dict[str, Callable[[], list]] = field(default_factory=dict)
    # Fields searched (by their field-level security names), every word in one of them.
    search_fields: tuple[str, ...] = ()
    # (queryset, query) → queryset: a faster search for when every search field is visible (an index).
    search: Callable | None = None
    # Fields given filters by their type (choices, picklists, users, dates and numbers as ranges...).
    filters: tuple[str, ...] = ()
    # A FilterSet class with the type's own filters ("open leads"); the engine adds the rest.
    filterset: type | None = None
    views: tuple[View, ...] = ()
    bulk_actions: tuple[BulkAction, ...] = ()
    export_fields: tuple[str, ...] = ()
    # Column → function(record) → HTML for cells the field alone cannot render (an amount and its currency).
    cells: dict[str, Callable] = field(default_factory=dict)
    # Fields each row loads besides its columns (what its link and name need).
    load: tuple[str, ...] = ()
    # Labels: "New lead", "%(n)s lead"/"%(n)s leads" (ngettext_lazy), the capped count, the empty list.
    create_label: str = ""
    count_text: Any = None
    count_capped: str = ""
    empty_text: str = ""
    template: str = "lists/list.html"
    per_page: int = 50
    # () → (filter names, version tokens): filters with model choices (not look-ups) whose choices those tokens
    # cover, so the filter panel may be kept written with the tokens in its key (crm.lists.views._filters_html).
    cached_choices: Callable[[], tuple] | None = None


_extra_actions: dict[str, list[BulkAction]] = {}


def register_bulk_action(record_type: str, action: BulkAction) -> None:
    """An app's bulk action on another type's list (campaigns adds "Add to campaign" to leads and contacts)."""
    actions = _extra_actions.setdefault(record_type, [])
    actions[:] = [a for a in actions if a.key != action.key] + [action]


def extra_actions(record_type: str) -> list[BulkAction]:
    return list(_extra_actions.get(record_type, ()))


_extra_filters: dict[str, dict[str, Callable[[], Any]]] = {}


def register_filter(record_type: str, name: str, make: Callable[[], Any]) -> None:
    """An app's filter on another type's list (campaigns adds "segment" to contacts and accounts): `make()`
    returns a django-filter Filter, added after the type's own filters. Register in AppConfig.ready(). As
    with pickers of related records, a filter with a `lookup_queryset` is given it through visibility
    (`.visible_to(user)`) when the list is filtered by it, and none otherwise."""
    _extra_filters.setdefault(record_type, {})[name] = make


def extra_filters(record_type: str) -> dict[str, Callable[[], Any]]:
    return dict(_extra_filters.get(record_type, {}))
