"""Domain events as an outbox. Services announce what happened with `emit`;
subscribers (scoring, automation, the timeline) register in AppConfig.ready()
with `subscribe`.

    emit("lead.created", lead, actor=user)

writes an `Event` row inside the caller's transaction. After commit a Celery task
delivers it (`deliver`), and a beat task (`sweep`) delivers whatever is left: a
web process that died between commit and sending, a Redis outage, a worker killed
mid-delivery. Each subscriber's handling of an event is recorded in an
`EventDelivery` row written in the same transaction as what the handler wrote, so
delivery is at least once and its effect exactly once: a second delivery finds
the row and does nothing. A failing handler is rolled back alone, its error kept,
and retried with backoff; the user's save never fails because of it.
"""
from __future__ import annotations

import fnmatch
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

Handler = Callable[["Event"], None]  # noqa: F821
MAX_ATTEMPTS = 8
SWEEP_GRACE = timedelta(seconds=30)  # younger undelivered events are still in their after-commit task
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class Subscriber:
    name: str  # what its deliveries are recorded under: stable across releases
    pattern: str  # a glob over event names: "lead.*", "*.created"
    handler: Handler

    def matches(self, event_name: str) -> bool:
        return fnmatch.fnmatchcase(event_name, self.pattern)


_subscribers: dict[str, Subscriber] = {}


def subscribe(pattern: str, handler: Handler, *, name: str = "") -> Subscriber:
    """Deliver every event whose name matches `pattern` to `handler(event)`. A handler that can take many
    events at once sets `handler.many = function(events)` (imports emit thousands). `name` defaults to the
    handler's dotted path plus the pattern."""
    name = name or f"{handler.__module__}.{handler.__qualname__}:{pattern}"
    subscriber = Subscriber(name, pattern, handler)
    _subscribers[name] = subscriber
    return subscriber


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def subscribers() -> list[Subscriber]:
    return list(_subscribers.values())


# --- emitting ---------------------------------------------------------------------------------------------

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
    _after_commit([event.pk])
    return event


def emit_many(name: str, model, ids, *, actor=None, data: dict | None = None) -> int:
    """`emit` for many records of one type at once (imports, bulk actions): one INSERT for all the events,
    one task to deliver them, and subscribers that take a batch (`handler.many`) get it in one call."""
    from crm.core.bulk import insert_each
    from crm.core.models import Event

    content_type_id = ContentType.objects.get_for_model(model).pk
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    rows = insert_each(Event, "object_id", ids, returning=("id",), name=name, content_type=content_type_id,
                       actor=actor_id, changes={}, data=_jsonable(data or {}), created_at=timezone.now())
    _after_commit([pk for (pk,) in rows])
    return len(rows)


def _after_commit(ids: list[int]) -> None:
    """Send the transaction's events in one task when it commits. If sending fails (Redis down), or the
    process dies first, the events wait in the table for the sweep."""
    if not ids:
        return
    if connection.in_atomic_block:
        # One callback per transaction: later events join the batch of the one already waiting (it is gone
        # when the savepoint that registered it rolled back, and then a new one starts).
        for _savepoints, callback, _robust in connection.run_on_commit:
            batch = getattr(callback, "crm_event_ids", None)
            if batch is not None:
                batch.extend(ids)
                return
        batch = list(ids)

        def send():
            _send(batch)

        send.crm_event_ids = batch
        transaction.on_commit(send, robust=True)
    else:
        _send(list(ids))


def _send(ids: list[int]) -> None:
    from crm.core.tasks import events_deliver_task

    try:
        events_deliver_task.delay(ids)
    except Exception:  # noqa: BLE001 - the events are committed; the sweep delivers them
        logger.exception("%s events could not be queued; the sweep will deliver them", len(ids))


# --- delivering -------------------------------------------------------------------------------------------

def deliver(ids: list[int]) -> int:
    """Hand the events `ids` to every subscriber that has not had them; returns how many handlings ran.
    Safe to run any number of times, in parallel too: each (event, subscriber) runs once."""
    from crm.core.models import Event

    events = list(Event.objects.filter(pk__in=ids, delivered_at__isnull=True).order_by("pk"))
    if not events:
        return 0
    ran = 0
    for subscriber in subscribers():
        matching = [e for e in events if subscriber.matches(e.name)]
        if matching:
            ran += _deliver_to(subscriber, matching)
    _mark_delivered(events)
    return ran


def _claim(subscriber: Subscriber, ids: list[int], now) -> set[int]:
    """Record the deliveries as done, for the events not yet delivered to this subscriber; returns those.
    A concurrent delivery of the same events waits here for the other to commit, then finds them taken."""
    from crm.core.bulk import int_array
    from crm.core.models import EventDelivery

    table = EventDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (event_id, subscriber, status, attempts, error, delivered_at, updated_at) '
            "SELECT unnest(%s::bigint[]), %s, 'done', 1, '', %s, %s "
            "ON CONFLICT (event_id, subscriber) DO NOTHING RETURNING event_id",
            [int_array(ids), subscriber.name, now, now])
        return {row[0] for row in cursor.fetchall()}


def _deliver_to(subscriber: Subscriber, events: list) -> int:
    now = timezone.now()
    many = getattr(subscriber.handler, "many", None)
    with transaction.atomic():
        claimed = _claim(subscriber, [e.pk for e in events], now)
        todo = [e for e in events if e.pk in claimed]
        if not todo:
            return 0
        if many is not None:
            try:
                with transaction.atomic():
                    many(todo)
                return len(todo)
            except Exception as exc:  # noqa: BLE001 - kept on the delivery rows and retried one by one
                _failed(subscriber, todo, exc)
                return 0
        done = 0
        for event in todo:
            try:
                with transaction.atomic():
                    subscriber.handler(event)
                done += 1
            except Exception as exc:  # noqa: BLE001 - kept on the delivery row and retried
                _failed(subscriber, [event], exc)
        return done


def _failed(subscriber: Subscriber, events: list, exc: Exception, attempts: int = 1) -> None:
    from crm.core.models import EventDelivery

    logger.warning("event subscriber %s failed for %s event(s) %s: %s", subscriber.name, len(events),
                   [e.pk for e in events][:5], exc)
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
    dead = attempts >= MAX_ATTEMPTS
    EventDelivery.objects.filter(event_id__in=[e.pk for e in events], subscriber=subscriber.name).update(
        status=EventDelivery.Status.DEAD if dead else EventDelivery.Status.FAILED, attempts=attempts, error=error,
        delivered_at=None, next_attempt_at=None if dead else timezone.now() + backoff(attempts),
        updated_at=timezone.now())
    if dead:
        transaction.on_commit(lambda: _notify_admins(subscriber.name, len(events), error), robust=True)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** (attempts - 1)))


def retry_failed(limit: int = 200) -> int:
    """Run the failed deliveries that are due again, one event at a time; returns how many succeeded."""
    from crm.core.models import Event, EventDelivery

    succeeded = 0
    with transaction.atomic():
        due = list(EventDelivery.objects.select_for_update(skip_locked=True)
                   .filter(status=EventDelivery.Status.FAILED, next_attempt_at__lte=timezone.now())
                   .order_by("next_attempt_at")[:limit])
        events = Event.objects.in_bulk([d.event_id for d in due])
        for delivery in due:
            subscriber, event = _subscribers.get(delivery.subscriber), events.get(delivery.event_id)
            if subscriber is None or event is None:  # the subscriber left the code, or the event was removed
                delivery.status, delivery.error = EventDelivery.Status.DEAD, delivery.error or "no such subscriber"
                delivery.next_attempt_at = None
                delivery.save(update_fields=["status", "error", "next_attempt_at"])
                continue
            many = getattr(subscriber.handler, "many", None)
            try:
                with transaction.atomic():
                    many([event]) if many is not None else subscriber.handler(event)
            except Exception as exc:  # noqa: BLE001 - kept and retried later
                _failed(subscriber, [event], exc, attempts=delivery.attempts + 1)
                continue
            EventDelivery.objects.filter(pk=delivery.pk).update(
                status=EventDelivery.Status.DONE, attempts=delivery.attempts + 1, delivered_at=timezone.now(),
                next_attempt_at=None, updated_at=timezone.now())
            succeeded += 1
        _mark_delivered(list(events.values()))
    return succeeded


def _mark_delivered(events: list) -> None:
    """Events every matching subscriber has (or gave up on) are delivered; the others wait for a retry."""
    from crm.core.models import Event, EventDelivery

    if not events:
        return
    expected = {e.pk: {s.name for s in subscribers() if s.matches(e.name)} for e in events}
    settled: dict[int, set[str]] = {}
    for event_id, name in (EventDelivery.objects.filter(event_id__in=list(expected))
                           .exclude(status=EventDelivery.Status.FAILED).values_list("event_id", "subscriber")):
        settled.setdefault(event_id, set()).add(name)
    done = [pk for pk, names in expected.items() if names <= settled.get(pk, set())]
    if done:
        Event.objects.filter(pk__in=done, delivered_at__isnull=True).update(delivered_at=timezone.now())


def sweep(*, grace: timedelta = SWEEP_GRACE, batch: int = SWEEP_BATCH) -> int:
    """Deliver what after-commit delivery left behind, oldest first, and retry the failed deliveries that
    are due. Beat runs it every minute; returns how many events it looked at."""
    from crm.core.models import Event

    ids = list(Event.objects.filter(delivered_at__isnull=True, created_at__lt=timezone.now() - grace)
               .order_by("created_at").values_list("pk", flat=True)[:batch])
    for start in range(0, len(ids), 200):
        deliver(ids[start:start + 200])
    retry_failed()
    return len(ids)


def replay(*, subscriber: str, since, until) -> int:
    """Deliver the events of [since, until) to `subscriber` again, as if it had never had them (after a bug
    fix in it, say). Its handler must cope with seeing an event twice; returns how many events."""
    from crm.core.models import Event, EventDelivery

    target = _subscribers[subscriber]
    ids = [pk for pk, name in Event.objects.filter(created_at__gte=since, created_at__lt=until)
           .values_list("pk", "name") if target.matches(name)]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        with transaction.atomic():
            EventDelivery.objects.filter(event_id__in=chunk, subscriber=subscriber).delete()
            Event.objects.filter(pk__in=chunk).update(delivered_at=None)
        deliver(chunk)
    return len(ids)


def health() -> dict:
    """What the admins' events page shows: waiting events and the age of the oldest, failures."""
    from django.db.models import Count, Min

    from crm.core.models import Event, EventDelivery

    waiting = Event.objects.filter(delivered_at__isnull=True).aggregate(n=Count("pk"), oldest=Min("created_at"))
    by_status = dict(EventDelivery.objects.exclude(status=EventDelivery.Status.DONE).values_list("status")
                     .annotate(n=Count("pk")).values_list("status", "n"))
    return {"waiting": waiting["n"], "oldest": waiting["oldest"], "failed": by_status.get("failed", 0),
            "dead": by_status.get("dead", 0)}


def _notify_admins(subscriber: str, count: int, error: str) -> None:
    from django.urls import reverse
    from django.utils.translation import ngettext, override

    from crm.access.models import User
    from crm.notifications.services import notification_send

    for admin in User.objects.filter(is_active=True, profile__is_admin=True):
        with override(admin.language or None):
            message = ngettext("Event delivery to %(subscriber)s failed for good (%(count)s event): %(error)s",
                               "Event delivery to %(subscriber)s failed for good (%(count)s events): %(error)s",
                               count) % {
                "subscriber": subscriber, "count": count, "error": error[:200]}
        notification_send(recipient=admin, message=message, url=reverse("core:events"), verb="events.dead")


def _jsonable(value):
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _import_extra_subscribers() -> None:
    """Modules named in EVENT_SUBSCRIBER_MODULES register subscribers of their own (plugins; the crash test's
    probe)."""
    from importlib import import_module

    for module in getattr(settings, "EVENT_SUBSCRIBER_MODULES", []):
        import_module(module).register()
