"""The merged (360°) timeline: everything that happened to a record and to its related records (an account's
contacts and opportunities, later its tickets), newest first, a keyset page at a time.

Two small registries, filled by the domain apps from their AppConfig.ready():

    register_related("accounts.account", "accounts", account_related)   # (user, record) → [Related, ...]
    register_source(Source("stage_changes", kinds=(("stage_change", _("Stage changes")),), fetch=...))

A *related provider* names the records a record's timeline also covers, already filtered to those the user may
open: the timeline never shows an item of a record the reader could not open. A *source* gives the items of
one kind of row (activities are built in; opportunities add their stage changes). Each source answers a page
with one indexed query over all the related records at once (`WHERE (content_type, object_id) IN (...)`
ordered and limited), never a query per record, and writes its items' HTML in Python.

Items are ordered by (time, source, id), newest first; the cursor of a page is its last item's key, and each
source is asked only for the items after it, so page 40 costs what page 1 does."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PAGE_SIZE = 25


@dataclass(frozen=True)
class Related:
    """Records of one type a timeline also covers: {id: what the timeline calls it}."""

    record_type: str  # "accounts.contact"
    labels: dict[int, str]


_related: dict[str, dict[str, Callable]] = {}


def register_related(record_type: str, key: str, provider: Callable) -> None:
    """`provider(user, record)` → the Related records of `record` that `user` may open."""
    _related.setdefault(record_type, {})[key] = provider


@dataclass
class Item:
    when: datetime
    source: str
    id: int
    html: str  # one <li>, escaped

    @property
    def key(self) -> tuple:
        return self.when, self.source, self.id


@dataclass(frozen=True)
class Source:
    """One kind of timeline row. `fetch(user=, targets=, kinds=, who=, cursor=, limit=)` → up to `limit` Items
    of `targets` newest first, only of `kinds` (empty: every kind), by `who` (a user id, or None), after
    `cursor` (None: from the newest)."""

    key: str  # stable: part of the cursor and the order of items of the same instant
    # (kind, plural label) pairs this source gives, for the filter; or a function that returns them.
    kinds: tuple[tuple[str, Any], ...] | Callable[[], tuple]
    fetch: Callable[..., list[Item]]
    order: int = 100  # where its kinds come in the filter

    def kind_list(self) -> tuple[tuple[str, Any], ...]:
        return self.kinds() if callable(self.kinds) else self.kinds


_sources: dict[str, Source] = {}


def register_source(source: Source) -> None:
    _sources[source.key] = source


def sources() -> list[Source]:
    return sorted(_sources.values(), key=lambda s: (s.order, s.key))


def kind_choices() -> list[tuple[str, str]]:
    """Every kind the timeline can filter by, in the order the sources give them."""
    return [(kind, str(label)) for source in sources() for kind, label in source.kind_list()]


# --- cursors ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cursor:
    """The key of the last item shown: the next page is every item with a smaller key."""

    when: datetime
    source: str
    id: int

    def after(self, source: str, when_field: str, id_field: str = "id") -> Q:
        """The condition a source's rows must meet to come after this cursor in the timeline's order
        (time, source, id), newest first."""
        if source < self.source:
            return Q(**{f"{when_field}__lte": self.when})
        if source > self.source:
            return Q(**{f"{when_field}__lt": self.when})
        return Q(**{f"{when_field}__lt": self.when}) | Q(**{when_field: self.when, f"{id_field}__lt": self.id})

    def encode(self) -> str:
        payload = json.dumps([self.when.isoformat(), self.source, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """The cursor, or None for a missing, stale or tampered one (the first page)."""
        if not token or len(token) > 200:
            return None
        try:
            when, source, pk = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            when = datetime.fromisoformat(when)
        except (ValueError, TypeError, RecursionError):
            return None
        if when.tzinfo is None or type(pk) is not int or not isinstance(source, str) or source not in _sources:
            return None
        return cls(when, source, pk)


# --- what a timeline covers ------------------------------------------------------------------------------------

@dataclass
class Targets:
    """The records a timeline covers, by record type: the page's own record and its related ones."""

    record: Any
    record_type: str
    labels: dict[str, dict[int, str]] = field(default_factory=dict)

    def ids(self, record_type: str) -> list[int]:
        return list(self.labels.get(record_type, ()))

    def content_types(self) -> dict[int, str]:
        """{content type id: record type} of the types with records here."""
        from crm.core import records

        return {ContentType.objects.get_for_model(records.get(key).model).pk: key
                for key, labels in self.labels.items() if labels}

    def about(self, record_type: str, pk: int) -> str:
        """The line under an item that says which related record it happened to ("" for the page's own)."""
        from crm.core import records

        if record_type == self.record_type and pk == self.record.pk:
            return ""
        label = self.labels.get(record_type, {}).get(pk)
        if label is None:
            return ""
        rt = records.get(record_type)
        try:
            link = f'<a href="{escape(rt.detail_url(pk))}">{escape(label or "—")}</a>'
        except NoReverseMatch:
            link = escape(label or "—")
        return (f'    <div class="small text-muted" data-about="{escape(record_type)}"><i class="bi bi-{escape(rt.icon)}" '
                f'aria-hidden="true"></i> {link} · {escape(str(capfirst(rt.label)))}</div>\n')


def targets_for(*, user, record) -> Targets:
    """The record and every related record its providers name (those `user` may open)."""
    from crm.core import records

    key = records.key_of(record)
    targets = Targets(record, key, {key: {record.pk: str(record)}})
    for provider in _related.get(key, {}).values():
        for related in provider(user, record):
            targets.labels.setdefault(related.record_type, {}).update(related.labels)
    return targets


# --- a page ----------------------------------------------------------------------------------------------------

@dataclass
class Page:
    items: list[Item]
    next_cursor: str  # "" on the last page


def timeline_page(*, user, record, kinds=(), who: int | None = None, cursor: Cursor | None = None,
                  limit: int = PAGE_SIZE, targets: Targets | None = None) -> Page:
    """One page of the record's merged timeline for `user`: newest first, after `cursor`."""
    targets = targets or targets_for(user=user, record=record)
    kinds = set(kinds)
    found: list[Item] = []
    for source in sources():
        if kinds and not kinds & {kind for kind, _label in source.kind_list()}:
            continue
        found += source.fetch(user=user, targets=targets, kinds=kinds, who=who, cursor=cursor, limit=limit + 1)
    found.sort(key=lambda item: item.key, reverse=True)
    items = found[:limit]
    more = len(found) > limit
    next_cursor = Cursor(*items[-1].key).encode() if more and items else ""
    return Page(items, next_cursor)


# --- the built-in source: activities ----------------------------------------------------------------------------

_PLURALS = {"call": gettext_lazy("Calls"), "meeting": gettext_lazy("Meetings"), "email": gettext_lazy("Emails"),
            "note": gettext_lazy("Notes"), "task": gettext_lazy("Tasks"), "system": gettext_lazy("Updates")}


def _activity_kinds() -> tuple[tuple[str, Any], ...]:
    from crm.activities.models import Activity

    return tuple((kind, _PLURALS.get(kind, label)) for kind, label in Activity.Kind.choices)


def _activity_items(*, user, targets: Targets, kinds: set, who, cursor: Cursor | None, limit: int) -> list[Item]:
    """The activities of every covered record in one query: (content type, object id) IN the covered records,
    ordered by time and id and limited, served by the timeline index."""
    from crm.activities.models import Activity
    from crm.activities.rendering import timeline_items
    from crm.core.cached_relations import attach

    types = targets.content_types()
    condition = Q()
    for ct_id, key in types.items():
        condition |= Q(content_type_id=ct_id, object_id__in=targets.ids(key))
    if not types:
        return []
    qs = Activity.objects.filter(condition)
    if kinds:
        qs = qs.filter(kind__in=sorted(kinds & set(Activity.Kind.values)))
    if who is not None:
        qs = qs.filter(actor_id=who)
    if cursor is not None:
        qs = qs.filter(cursor.after("activities", "occurred_at"))
    activities = list(qs.order_by("-occurred_at", "-id")[:limit])
    from crm.activities import selectors as activity_selectors

    # What the record page's own timeline gives its items (people from the directory, meetings' attendees in
    # one query), where the activities app provides it.
    prepare = getattr(activity_selectors, "timeline_prepare", None)
    if prepare is not None:
        prepare(activities)
    else:
        attach(activities, "actor", "assigned_to")
    items = []
    for activity in activities:
        html = str(timeline_items([activity]))
        about = targets.about(types.get(activity.content_type_id, ""), activity.object_id)
        end = html.rfind("</li>")
        if about and end >= 0:
            html = html[:end] + about + html[end:]
        items.append(Item(activity.occurred_at, "activities", activity.pk, html))
    return items


# The activity kinds are read when asked for: the model's vocabulary may grow with the Activities issue.
register_source(Source("activities", kinds=_activity_kinds, fetch=_activity_items, order=10))


def empty_text(filtered: bool) -> str:
    return _("Nothing matches these filters.") if filtered else _("Nothing has happened here yet.")
