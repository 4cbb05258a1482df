"""Domain events. Services announce what happened with `emit`; subscribers
(automation, timeline, scoring) register in AppConfig.ready() with `subscribe`.

An event is written to the `Event` table inside the caller's transaction and
handed to subscribers only after commit, so a worker never sees uncommitted
data and a crash between commit and dispatch leaves the row to replay.
"""
from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

logger = logging.getLogger(__name__)

Handler = Callable[["Event"], None]  # noqa: F821
_subscribers: list[tuple[str, Handler]] = []


def subscribe(pattern: str, handler: Handler) -> None:
    """`pattern` is a glob over event names: "lead.*", "*.created", "lead.converted"."""
    if (pattern, handler) not in _subscribers:
        _subscribers.append((pattern, handler))


def emit(name: str, record, *, actor=None, changes: dict | None = None, data: dict | None = None):
    from crm.core.models import Event

    event = Event.objects.create(
        name=name,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        changes=_jsonable(changes or {}),
        data=_jsonable(data or {}),
    )
    transaction.on_commit(lambda: dispatch(event))
    return event


class EventRow(NamedTuple):
    """An event as batch subscribers (`handler.many`) receive it: its columns, without a model object per
    event (for a 20,000-row import, building those would cost more than writing the rows)."""

    id: int
    name: str
    content_type_id: int
    object_id: int
    actor_id: int | None
    data: dict
    created_at: datetime

    @property
    def pk(self) -> int:
        return self.id


def emit_many(name: str, model, ids, *, actor=None, data: dict | None = None) -> int:
    """`emit` for many records of one type at once (imports, bulk actions): one INSERT for all the events,
    and subscribers that can take a batch (`handler.many = ...`) get it in one call after commit."""
    from django.utils import timezone

    from crm.core.bulk import insert_each
    from crm.core.models import Event

    content_type_id = ContentType.objects.get_for_model(model).pk
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    payload, now = _jsonable(data or {}), timezone.now()
    rows = insert_each(Event, "object_id", ids, returning=("id", "object_id"), name=name, content_type=content_type_id,
                       actor=actor_id, changes={}, data=payload, created_at=now)
    events = [EventRow(pk, name, content_type_id, object_id, actor_id, payload, now) for pk, object_id in rows]
    if events:
        transaction.on_commit(lambda: dispatch_many(events))
    return len(events)


def dispatch_many(events: list[EventRow]) -> None:
    """Batch subscribers get the matching rows in one call; the others an Event object for each."""
    from crm.core.models import Event

    for pattern, handler in list(_subscribers):
        matching = [e for e in events if fnmatch.fnmatchcase(e.name, pattern)]
        many = getattr(handler, "many", None)
        if matching and many is not None:
            try:
                many(matching)
            except Exception:
                logger.exception("event subscriber %s failed for %s events", handler, len(matching))
        else:
            for row in matching:
                _call(handler, Event(changes={}, **row._asdict()))


def dispatch(event) -> None:
    for pattern, handler in list(_subscribers):
        if fnmatch.fnmatchcase(event.name, pattern):
            _call(handler, event)


def _call(handler, event) -> None:
    try:
        handler(event)
    except Exception:  # a subscriber's failure must never undo the user's save
        logger.exception("event subscriber %s failed for %s #%s", handler, event.name, event.pk)


def _jsonable(value):
    from django.core.serializers.json import DjangoJSONEncoder
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
