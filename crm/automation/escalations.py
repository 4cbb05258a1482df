"""The escalation engine: "a lead untouched for 4 business hours → notify its owner; after 8 → reassign it round
robin and tell the manager", and, once support registers tickets, "an urgent ticket unresolved after 4 business
hours → Tier 2". Generic over record types: any registered type can be watched, and an app tunes its type with
`register_escalation_type` (or, since domain apps never import automation, `extra={"escalation": {...}}` in its
crm.core.records registration).

    <model>.created/updated, activity.* ─► handle_events (outbox subscriber, in the delivery's transaction)
         criteria hold, stop condition does not ─► one EscalationDue per level and clock start (UNIQUE), due_at
                                                    counted in business time on the rule's calendar
         clock field changed ─► the old clock's waiting rows cancelled, the new clock's planned
         criteria stop holding / stop condition holds / someone logs an activity ─► waiting rows cancelled
    beat ─► tick: due rows taken one at a time with SKIP LOCKED; the record checked again; the level's actions
            (the workflow-rule action kinds) run and the row is marked fired, all in one transaction

Why a level never fires twice and none is lost: due_at is stored, so a restart or a long downtime changes
nothing: the next tick fires every overdue row, once, in due order. The row lock and the state change commit
with what the actions wrote: a worker killed mid-way leaves the row waiting and its writes undone, and a second
beat skips a row the first one holds. Each action gets the idempotency key `esc:<due id>:<index>` (its
e-mail's X-CRM-Automation header, a webhook's X-CRM-Idempotency-Key), and a retry runs only the actions that
have no outcome yet. A failing action is retried with backoff; when retries are exhausted the row shows as
failed in the escalation log, with Retry, and the admins are notified.

Nothing is fired for a due time from before the rule was created or switched on, unless the admin asks
("apply to existing records", with a count first)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core import conditions, records
from crm.automation.engine import backoff
from crm.core.config_cache import ConfigCache
from crm.core.models import Event

logger = logging.getLogger(__name__)

SUBSCRIBER = "automation.escalations"
MAX_ATTEMPTS = 6
MAX_LEVELS = 10
TICK_BUDGET_SECONDS = 40
STUCK_AFTER = timedelta(minutes=10)  # a delivery claimed this long ago without an outcome: its worker died
REVIVABLE = ("criteria", "rule")  # a row cancelled for these waits again when the record matches again

escalations_config = ConfigCache("automation-escalations", size=200)
INTERRUPTED = gettext_lazy("Interrupted: the worker stopped while delivering, so it may or may not have left. It is "
                           "not repeated on its own; use Retry if it did not arrive.")


def subscriber_name(model_name: str) -> str:
    return f"{SUBSCRIBER}:{model_name}"


# --- record types ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EscalationType:
    """How one record type is escalated: the date fields a clock may start from (None: every date field), and
    which events count as someone touching the record (None: a person logging an activity on it)."""

    record_type: str
    clock_fields: tuple[str, ...] | None = None
    is_touch: Callable | None = None


_types: dict[str, EscalationType] = {}


def register_escalation_type(record_type: str, *, clock_fields=None, is_touch=None) -> EscalationType:
    """For an app whose records are escalated (support's tickets): `clock_fields` limits the clock's choices
    ("created_at", "first_response_due"), `is_touch(event) -> bool` says which events stop a rule that stops
    on activity. A domain app that does not import automation registers the same keys as
    `extra={"escalation": {"clock_fields": (...), "is_touch": callable}}` with crm.core.records."""
    spec = EscalationType(record_type, tuple(clock_fields) if clock_fields else None, is_touch)
    _types[record_type] = spec
    return spec


def escalation_type(record_type: str) -> EscalationType:
    found = _types.get(record_type)
    if found is not None:
        return found
    rt = records.find(record_type)
    extra = (rt.extra.get("escalation") if rt is not None else None) or {}
    clock = extra.get("clock_fields")
    return EscalationType(record_type, tuple(clock) if clock else None, extra.get("is_touch"))


def record_types() -> list[tuple[str, str]]:
    return [(rt.key, str(rt.label_plural)) for rt in records.all_types()]


def clock_fields(record_type: str) -> list[tuple[str, str]]:
    """(name, label) of the dates a rule's clock may start from."""
    from crm.automation.engine import time_fields

    allowed = escalation_type(record_type).clock_fields
    return [(name, str(label)) for name, label in time_fields(record_type) if allowed is None or name in allowed]


def human_touch(event) -> bool:
    """The default "someone touched the record": a person logged (or completed) an activity on it. What
    automation wrote (a rule's task, an auto-response's e-mail) does not count."""
    from crm.activities.models import Activity

    if event.name not in ("activity.created", "activity.completed") or event.actor_id is None:
        return False
    if (event.data or {}).get("automation"):
        return False
    data = Activity.objects.filter(pk=(event.data or {}).get("activity_id")).values_list("data", flat=True).first()
    data = data or {}
    return not (data.get("automation") or data.get("auto_response"))


# --- the rules as the engine reads them ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CompiledLevel:
    id: int
    number: int
    after: timedelta


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    record_type: str
    calendar_id: int | None
    criteria: dict
    stop_criteria: dict
    clock_field: str
    stop_on_activity: bool
    since: datetime
    levels: tuple[CompiledLevel, ...] = field(default=())


def compile_rule(rule) -> CompiledRule:
    return CompiledRule(rule.pk, rule.name, rule.record_type, rule.calendar_id, conditions.normalize(rule.criteria),
                        conditions.normalize(rule.stop_criteria), rule.clock_field, rule.stop_on_activity,
                        rule.active_since,
                        tuple(CompiledLevel(lv.pk, lv.number, timedelta(minutes=lv.after_minutes))
                              for lv in sorted(rule.levels.all(), key=lambda lv: lv.number)))


def _load(record_type: str) -> list[CompiledRule]:
    from crm.automation.models_escalations import EscalationRule

    return [compile_rule(r) for r in EscalationRule.objects.filter(record_type=record_type, is_active=True)
            .prefetch_related("levels").order_by("order", "pk")]


def active_rules(record_type: str) -> list[CompiledRule]:
    return escalations_config.get(("active", record_type), lambda: _load(record_type))


def changed() -> None:
    escalations_config.changed()


def _stop_holds(rule: CompiledRule, record, fields, changes=None) -> bool:
    return bool(conditions.leaves(rule.stop_criteria)) and conditions.evaluate(rule.stop_criteria, record,
                                                                               changes=changes, fields=fields)


def due_time(rule: CompiledRule, clock_start: datetime, after: timedelta) -> datetime:
    """`after` of business time from `clock_start` on the rule's calendar (around the clock without one)."""
    from crm.automation.calendars import add_business_time, calendar_snapshot

    if rule.calendar_id is None:
        return clock_start + after
    return add_business_time(calendar_snapshot(rule.calendar_id), clock_start, after)


def clock_start(rule: CompiledRule, record):
    from crm.automation.engine import _time_fields, date_value

    return date_value(record, rule.clock_field, _time_fields(rule.record_type))


# --- planning ------------------------------------------------------------------------------------------------------

def _upsert(rule: CompiledRule, record, content_type_id: int, start, levels, *, state: str, reason: str = "",
            note: str = "", now=None) -> int:
    """One row per level for (record, clock start). "pending": new rows wait; waiting rows take the new due time;
    rows cancelled for a revivable reason wait again. "cancelled": the same rows are cancelled with `reason`
    (and rows that never existed are written cancelled, so a later save does not plan them). Fired and failed
    rows are never touched: a level fires once per clock start."""
    from crm.automation.models_escalations import EscalationDue

    if not levels:
        return 0
    now = now or timezone.now()
    table = EscalationDue._meta.db_table
    values, params = [], []
    for level, due in levels:
        values.append("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '[]'::jsonb, 0, '', %s, %s)")
        params += [rule.id, level.id, content_type_id, record.pk, str(record)[:255], start, due, state, str(reason),
                   str(note)[:255], now, now]
    if state == "pending":
        update = ("state = 'pending', reason = '', note = '', due_at = EXCLUDED.due_at, "
                  "updated_at = EXCLUDED.updated_at")
    else:
        update = "state = 'cancelled', reason = EXCLUDED.reason, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at"
    revivable = ", ".join(f"'{r}'" for r in REVIVABLE)
    # A waiting row is rewritten only when something changes (a new due time, or its cancelling), so the
    # saves of a watched record do not churn its rows.
    waiting = (f"\"{table}\".due_at <> EXCLUDED.due_at" if state == "pending" else "TRUE")
    sql = (f'INSERT INTO "{table}" (rule_id, level_id, content_type_id, object_id, record_repr, clock_start, due_at, '
           "state, reason, note, results, attempts, error, created_at, updated_at) VALUES " + ", ".join(values) +
           f" ON CONFLICT (level_id, content_type_id, object_id, clock_start) DO UPDATE SET {update} "
           f"WHERE (\"{table}\".state = 'pending' AND {waiting}) OR (\"{table}\".state = 'cancelled' AND "
           f"\"{table}\".reason IN ({revivable}))")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _cancel(rule_id, content_type_id: int, object_ids, reason: str, *, exclude_start=None) -> int:
    from crm.automation.models_escalations import EscalationDue

    queryset = EscalationDue.objects.filter(content_type_id=content_type_id, object_id__in=list(object_ids),
                                            state=EscalationDue.State.PENDING)
    if rule_id is not None:
        queryset = queryset.filter(rule_id=rule_id)
    if exclude_start is not None:
        queryset = queryset.exclude(clock_start=exclude_start)
    return queryset.update(state=EscalationDue.State.CANCELLED, reason=reason,
                           note=str(EscalationDue.Reason(reason).label)[:255], updated_at=timezone.now())


def plan(rule: CompiledRule, record, *, content_type_id: int, fields: dict, changes=None,
         include_past: bool = False) -> str:
    """Keep the record's rows of `rule` in step with it. Returns what it did: "planned", "stopped",
    "cancelled" (criteria or clock gone)."""
    from crm.automation.calendars import NoBusinessTime
    from crm.automation.models_escalations import EscalationDue

    start = clock_start(rule, record)
    if start is None or not conditions.evaluate(rule.criteria, record, fields=fields):
        _cancel(rule.id, content_type_id, [record.pk], EscalationDue.Reason.CRITERIA)
        return "cancelled"
    # Another clock start's waiting rows: the clock restarted (the date changed).
    _cancel(rule.id, content_type_id, [record.pk], EscalationDue.Reason.CLOCK, exclude_start=start)
    try:
        levels = [(level, due_time(rule, start, level.after)) for level in rule.levels]
    except NoBusinessTime as exc:
        logger.warning("escalation rule %s: %s", rule.id, exc)
        return "cancelled"
    if _stop_holds(rule, record, fields, changes):
        _upsert(rule, record, content_type_id, start, levels, state="cancelled",
                reason=EscalationDue.Reason.STOPPED, note=str(EscalationDue.Reason.STOPPED.label))
        return "stopped"
    if not include_past:
        levels = [(level, due) for level, due in levels if due >= rule.since]
    _upsert(rule, record, content_type_id, start, levels, state="pending")
    return "planned"


def stop(rule: CompiledRule, record, *, content_type_id: int, reason: str) -> None:
    """Stop the escalation of the record's current clock start (someone touched it)."""
    from crm.automation.calendars import NoBusinessTime
    from crm.automation.models_escalations import EscalationDue

    start = clock_start(rule, record)
    _cancel(rule.id, content_type_id, [record.pk], reason)
    if start is None:
        return
    try:
        levels = [(level, due_time(rule, start, level.after)) for level in rule.levels]
    except NoBusinessTime:
        return
    _upsert(rule, record, content_type_id, start, levels, state="cancelled", reason=reason,
            note=str(EscalationDue.Reason(reason).label))


# --- the subscriber ------------------------------------------------------------------------------------------------

def handle_event(event) -> None:
    handle_events([event])


def _verb(event, model_name: str) -> str | None:
    prefix, _dot, verb = event.name.rpartition(".")
    if prefix == "activity" and verb in ("created", "completed"):
        return "touch"
    if prefix != model_name:
        return None
    if verb == "created":
        return "created"
    if verb in ("updated", "stage_changed"):
        return "updated"
    if verb == "deleted":
        return "deleted"
    return None


def handle_events(events) -> None:
    """Plan, move or cancel the rows of the records the events are about, in the delivery's transaction. A
    redelivered event writes nothing new: every write is an upsert on the unique row."""
    from crm.automation.models_escalations import EscalationDue

    by_type: dict[int, list] = {}
    for event in events:
        by_type.setdefault(event.content_type_id, []).append(event)
    for content_type_id, group in by_type.items():
        content_type = ContentType.objects.get_for_id(content_type_id)
        key = f"{content_type.app_label}.{content_type.model}"
        if records.find(key) is None:
            continue
        verbs = [(e, _verb(e, content_type.model)) for e in group]
        verbs = [(e, v) for e, v in verbs if v]
        deleted = [e.object_id for e, v in verbs if v == "deleted"]
        if deleted:
            _cancel(None, content_type_id, deleted, EscalationDue.Reason.DELETED)
        rules = active_rules(key) if verbs else []
        if not rules:
            continue
        found = content_type.model_class()._default_manager.in_bulk({e.object_id for e, v in verbs if v != "deleted"})
        fields = conditions.fields_for(key)
        touch = escalation_type(key).is_touch or human_touch
        for event, verb in verbs:
            record = found.get(event.object_id)
            if record is None or verb == "deleted":
                continue
            # What happened before a rule existed (a backlog delivered late) does not stop it.
            if verb == "touch":
                stopping = [r for r in rules if r.stop_on_activity and event.created_at >= r.since]
                if stopping and touch(event):
                    for rule in stopping:
                        stop(rule, record, content_type_id=content_type_id, reason=EscalationDue.Reason.ACTIVITY)
                continue
            for rule in rules:
                plan(rule, record, content_type_id=content_type_id, fields=fields,
                     changes=(event.changes or {}) if event.created_at >= rule.since else None)


handle_event.many = handle_events


# --- firing --------------------------------------------------------------------------------------------------------

def _finish_cancel(row, reason: str, now) -> str:
    from crm.automation.models_escalations import EscalationDue

    row.state, row.reason, row.updated_at = EscalationDue.State.CANCELLED, reason, now
    row.note = str(EscalationDue.Reason(reason).label)[:255]
    row.save(update_fields=["state", "reason", "note", "updated_at"])
    return row.state


def fire(row, *, now=None) -> str:
    """Fire one due row the caller holds locked: the record checked again, the level's actions run, the outcome
    kept on the row. Returns the row's new state."""
    from crm.automation.actions import ActionContext, ActionSkipped, PermanentActionError, get_action
    from crm.automation.models_escalations import EscalationDue

    now = now or timezone.now()
    rule, level = row.rule, row.level
    if not rule.is_active:
        return _finish_cancel(row, EscalationDue.Reason.RULE, now)
    model = ContentType.objects.get_for_id(row.content_type_id).model_class()
    record = model._default_manager.filter(pk=row.object_id).first() if model is not None else None
    if record is None:
        return _finish_cancel(row, EscalationDue.Reason.DELETED, now)
    compiled = compile_rule(rule)
    fields = conditions.fields_for(rule.record_type)
    start = clock_start(compiled, record)
    if start != row.clock_start:
        _finish_cancel(row, EscalationDue.Reason.CLOCK, now)
        plan(compiled, record, content_type_id=row.content_type_id, fields=fields)  # the event may be late
        return row.state
    if not conditions.evaluate(compiled.criteria, record, fields=fields):
        return _finish_cancel(row, EscalationDue.Reason.CRITERIA, now)
    if _stop_holds(compiled, record, fields):
        stop(compiled, record, content_type_id=row.content_type_id, reason=EscalationDue.Reason.STOPPED)
        row.refresh_from_db()
        return row.state
    results = list(row.results or [])
    actions = level.actions or []
    results += [{}] * (len(actions) - len(results))
    ctx = ActionContext(record=record, record_type=rule.record_type, rule=rule, version=level, run=row, depth=1,
                        chain=())
    row.attempts += 1
    waiting = []
    marker = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    row.deliveries = []
    for index, config in enumerate(actions):
        if results[index].get("status") in ("succeeded", "skipped", "failed"):
            continue
        if results[index].get("status") == "sending":
            # Its worker stopped between claiming the delivery and recording it: it may or may not have left.
            results[index] = {"kind": config.get("kind"), "status": "failed", "error": str(INTERRUPTED)}
            continue
        ctx.key = f"esc:{row.pk}:{index}"
        action = get_action(config.get("kind", ""))
        try:
            if action is None:
                raise PermanentActionError(_("The action “%(kind)s” is not available.") % {"kind": config.get("kind")})
            if action.deliver is not None:
                # An outside effect (an e-mail): prepared and claimed here, committed with the row, delivered after
                # the commit, so a redelivered tick never sends it twice (fire_next → _deliver).
                with transaction.atomic():
                    prepared = action.run(ctx, config) or {}
                results[index] = {"kind": config.get("kind"), "status": "sending", "prepared": _jsonable(prepared)}
                row.deliveries.append(index)
                continue
            with transaction.atomic():
                result = action.run(ctx, config) or {}
            results[index] = {"kind": config.get("kind"), "status": "succeeded", "result": _jsonable(result)}
        except ActionSkipped as exc:
            results[index] = {"kind": config.get("kind"), "status": "skipped", "result": {"skipped": str(exc)}}
        except PermanentActionError as exc:
            results[index] = {"kind": config.get("kind"), "status": "failed", "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - kept on the row, retried with backoff, then surfaced
            logger.warning("escalation %s action %s (%s) failed: %s", row.pk, index, config.get("kind"), exc)
            results[index] = {"kind": config.get("kind"), "status": "retry",
                              "error": f"{type(exc).__name__}: {exc}"[:2000]}
            waiting.append(index)
    _tag_own_activities(row, marker)
    row.results = results
    return _settle(row, now)


def _settle(row, now) -> str:
    """The row's state from its actions' outcomes: waiting while a delivery is out (taken again only after
    STUCK_AFTER) or a retry's backoff runs, else fired, or failed with the admins told."""
    from crm.automation.models_escalations import EscalationDue

    results = row.results or []
    errors = [r.get("error", "") for r in results if r.get("status") in ("failed", "retry")]
    row.error = "\n".join(errors)[:4000]
    row.updated_at = now
    if any(r.get("status") == "sending" for r in results):
        row.next_attempt_at = now + STUCK_AFTER
    elif any(r.get("status") == "retry" for r in results) and row.attempts < MAX_ATTEMPTS:
        row.next_attempt_at = now + backoff(row.attempts)
    else:
        row.next_attempt_at, row.fired_at = None, now
        row.state = EscalationDue.State.FAILED if errors else EscalationDue.State.FIRED
        if errors:
            transaction.on_commit(lambda: _notify_admins(row.pk), robust=True)
    row.save(update_fields=["results", "error", "attempts", "next_attempt_at", "fired_at", "state", "updated_at"])
    return row.state


def _deliver(row_id: int, indexes, now) -> None:
    """Deliver the outside effects a firing claimed (outside any transaction), then record each outcome under
    the row's lock: sent (the record's timeline entry written), or to be retried with backoff. A worker dying
    before the outcome is recorded leaves the action "sending": the next firing marks it failed (interrupted),
    never sends it again on its own."""
    from crm.automation.actions import ActionSkipped, PermanentActionError, get_action
    from crm.automation.models_escalations import EscalationDue

    for index in indexes:
        entry = (EscalationDue.objects.filter(pk=row_id).values_list("results", flat=True).first() or [])[index]
        action = get_action(entry.get("kind", ""))
        outcome: dict = {}
        try:
            delivered = action.deliver(entry.get("prepared") or {}) or {}
        except (ActionSkipped, PermanentActionError) as exc:
            outcome = {"status": "failed" if isinstance(exc, PermanentActionError) else "skipped", "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - nothing left: retried with backoff
            logger.warning("escalation %s action %s delivery failed: %s", row_id, index, exc)
            outcome = {"status": "retry", "error": f"{type(exc).__name__}: {exc}"[:2000]}
        with transaction.atomic():
            row = EscalationDue.objects.select_for_update().get(pk=row_id)
            results = list(row.results or [])
            if results[index].get("status") != "sending":
                continue
            if not outcome:
                model = ContentType.objects.get_for_id(row.content_type_id).model_class()
                record = model._default_manager.filter(pk=row.object_id).first()
                marker = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                try:
                    with transaction.atomic():
                        result = (action.finish(record, entry.get("prepared") or {}, delivered) if action.finish
                                  else delivered) or {}
                except Exception as exc:  # noqa: BLE001 - it left; only its timeline entry is missing
                    logger.exception("escalation %s action %s: delivered, not recorded", row_id, index)
                    result = {"error": _("Delivered, but the timeline entry could not be written: %(error)s")
                              % {"error": exc}}
                _tag_own_activities(row, marker)
                outcome = {"status": "succeeded", "result": _jsonable(result)}
            if outcome["status"] == "skipped":
                outcome = {"status": "skipped", "result": {"skipped": outcome.pop("error")}}
            results[index] = {"kind": entry.get("kind"), **outcome}
            row.results = results
            _settle(row, now)


def _tag_own_activities(row, marker: int) -> None:
    """The activities the level's actions logged on the record (an e-mail sent as its owner) are automation's
    doing: their events say so, so they do not stop the escalation as a person's activity would."""
    for event in Event.objects.filter(pk__gt=marker, name__startswith="activity.", content_type_id=row.content_type_id,
                                      object_id=row.object_id):
        event.data = {**(event.data or {}), "automation": {"escalation": row.pk}}
        event.save(update_fields=["data"])


def _jsonable(value: dict) -> dict:
    from crm.automation.engine import _jsonable_dict

    return _jsonable_dict(value)


def fire_next(*, now=None) -> int | None:
    """Take the next due row (SKIP LOCKED: a row another beat holds is skipped, never waited for) and fire it in
    its own transaction. Returns its id, or None when nothing is due."""
    from crm.automation.models_escalations import EscalationDue

    now = now or timezone.now()
    with transaction.atomic():
        row = (EscalationDue.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("rule", "rule__created_by", "level")
               .filter(state=EscalationDue.State.PENDING, due_at__lte=now)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .order_by("due_at", "pk").first())
        if row is None:
            return None
        row.deliveries = []
        try:
            with transaction.atomic():
                fire(row, now=now)
        except Exception as exc:  # noqa: BLE001 - a broken row must not stop the tick; it waits with backoff
            logger.exception("escalation %s could not be fired", row.pk)
            row.attempts += 1
            row.error = f"{type(exc).__name__}: {exc}"[:4000]
            row.next_attempt_at = now + backoff(row.attempts)
            if row.attempts >= MAX_ATTEMPTS:
                row.state, row.fired_at, row.next_attempt_at = EscalationDue.State.FAILED, now, None
            EscalationDue.objects.filter(pk=row.pk).update(attempts=row.attempts, error=row.error, state=row.state,
                                                           next_attempt_at=row.next_attempt_at,
                                                           fired_at=row.fired_at, updated_at=now)
            row.deliveries = []
    if row.deliveries:
        _deliver(row.pk, row.deliveries, now)
    return row.pk


def tick(*, now=None, budget: float = TICK_BUDGET_SECONDS) -> dict:
    """Every minute (beat): the heartbeat, then every due row in due order, until none is left or the time
    budget is spent (a long backlog continues on the next tick)."""
    from crm.automation.models_rules import Heartbeat

    started = time.monotonic()
    Heartbeat.objects.update_or_create(name="escalations-tick", defaults={"at": timezone.now()})
    fired = 0
    while time.monotonic() - started < budget:
        if fire_next(now=now) is None:
            break
        fired += 1
    return {"fired": fired}


def cleanup(*, now=None) -> int:
    """Every night: cancelled rows that can never matter again (their clock restarted, or their record was
    deleted) older than the execution log's retention. Fired, failed and stopped rows stay: they are what keeps
    a level from firing twice for the same clock start."""
    from crm.automation.models_escalations import EscalationDue
    from crm.automation.models_rules import AutomationSettings

    now = now or timezone.now()
    cutoff = now - timedelta(days=AutomationSettings.get().log_retention_days)
    return EscalationDue.objects.filter(state=EscalationDue.State.CANCELLED, updated_at__lt=cutoff,
                                        reason__in=[EscalationDue.Reason.CLOCK, EscalationDue.Reason.DELETED]) \
        .delete()[0]


def _notify_admins(due_id: int) -> None:
    from django.urls import reverse

    from crm.automation.engine import tell_admins
    from crm.automation.models_escalations import EscalationDue

    row = EscalationDue.objects.select_related("rule").filter(pk=due_id).first()
    if row is None:
        return
    tell_admins(lambda: _("Escalation “%(rule)s” failed on %(record)s: %(error)s") % {
        "rule": row.rule.name, "record": row.record_repr, "error": row.error[:200]},
        url=reverse("automation:escalation_log") + f"?state=failed&rule={row.rule_id}",
        verb="automation.escalation_failed")


def escalation_retry(*, actor, due, ip: str | None = None) -> bool:
    """An admin's Retry on a failed row: its failed actions run again on the next tick (the others keep their
    outcome and are not repeated)."""
    from crm.automation.models_escalations import EscalationDue

    with transaction.atomic():
        row = EscalationDue.objects.select_for_update().select_related("rule").get(pk=due.pk)
        if row.state != EscalationDue.State.FAILED:
            return False
        row.results = [r if r.get("status") in ("succeeded", "skipped") else {} for r in row.results or []]
        row.state, row.attempts, row.error, row.fired_at, row.next_attempt_at = "pending", 0, "", None, None
        row.updated_at = timezone.now()
        row.save(update_fields=["results", "state", "attempts", "error", "fired_at", "next_attempt_at", "updated_at"])
        _audit(actor, row.rule, ip, {"retried": row.pk})
    return True


# --- existing records --------------------------------------------------------------------------------------------

def plan_existing(*, rule_id: int, include_past: bool = False, batch: int = 500) -> int:
    """Plan an active rule on the records that match it now (after it was created, switched on or changed):
    future due times, and with `include_past` the ones already past too (they fire on the next tick). Waiting
    rows of records that no longer match are cancelled. Returns how many records it planned."""
    from crm.automation.models_escalations import EscalationDue, EscalationRule

    rule = EscalationRule.objects.prefetch_related("levels").filter(pk=rule_id, is_active=True).first()
    if rule is None or records.find(rule.record_type) is None:
        return 0
    compiled = compile_rule(rule)
    model = records.get(rule.record_type).model
    content_type_id = ContentType.objects.get_for_model(model).pk
    fields = conditions.fields_for(rule.record_type)
    matching = model._default_manager.filter(conditions.to_q(compiled.criteria, model, fields=fields))
    EscalationDue.objects.filter(rule_id=rule.pk, state=EscalationDue.State.PENDING).exclude(
        object_id__in=matching.values("pk")).update(state=EscalationDue.State.CANCELLED,
                                                   reason=EscalationDue.Reason.CRITERIA,
                                                   note=str(EscalationDue.Reason.CRITERIA.label),
                                                   updated_at=timezone.now())
    count, last = 0, 0
    queryset = matching.order_by("pk")
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:batch])
        if not chunk:
            return count
        with transaction.atomic():
            for record in chunk:
                if plan(compiled, record, content_type_id=content_type_id, fields=fields,
                        include_past=include_past) == "planned":
                    count += 1
        last = chunk[-1].pk


def past_due_count(rule, *, cap: int = 20000) -> int:
    """How many levels "apply to existing records" would fire now: records matching the rule whose level's due
    time is past and from before the rule was switched on, with no row yet."""
    from crm.automation.calendars import NoBusinessTime
    from crm.automation.models_escalations import EscalationDue

    compiled = compile_rule(rule)
    if not rule.is_active or not compiled.levels or records.find(rule.record_type) is None:
        return 0
    model = records.get(rule.record_type).model
    fields = conditions.fields_for(rule.record_type)
    taken = set(EscalationDue.objects.filter(rule_id=rule.pk).values_list("level_id", "object_id", "clock_start"))
    now, count = timezone.now(), 0
    queryset = model._default_manager.filter(conditions.to_q(compiled.criteria, model, fields=fields))
    for record in queryset.iterator(2000):
        start = clock_start(compiled, record)
        if start is None or _stop_holds(compiled, record, fields):
            continue
        for level in compiled.levels:
            try:
                due = due_time(compiled, start, level.after)
            except NoBusinessTime:
                return 0
            if due < compiled.since and due <= now and (level.id, record.pk, start) not in taken:
                count += 1
                if count >= cap:
                    return count
    return count


def _plan_later(rule_id: int, include_past: bool = False) -> None:
    def queue():
        from crm.automation.escalation_tasks import escalation_plan_existing_task

        try:
            escalation_plan_existing_task.delay(rule_id, include_past)
        except Exception:  # noqa: BLE001 - the records are planned on their next save; the admin can apply again
            logger.exception("escalation rule %s: planning existing records could not be queued", rule_id)

    transaction.on_commit(queue, robust=True)


# --- services of the settings pages -------------------------------------------------------------------------------

def _audit(actor, rule, ip, data: dict) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=rule, ip=ip,
          data={"what": "escalation_rule", "name": rule.name, "record_type": rule.record_type, **data})


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def validate_levels(levels, record_type: str) -> list[dict]:
    """[{"after_minutes": int, "actions": [...]}] in order, each level later than the one before, with at least
    one action each; ValidationError naming the first problem."""
    from crm.automation.actions import validate_actions

    if not levels:
        raise ValidationError(_("Add at least one level."))
    if len(levels) > MAX_LEVELS:
        raise ValidationError(_("A rule has at most %(n)s levels.") % {"n": MAX_LEVELS})
    cleaned, previous = [], -1
    for number, level in enumerate(levels, start=1):
        try:
            minutes = int(level.get("after_minutes"))
        except (TypeError, ValueError):
            minutes = -1
        if minutes <= 0:
            raise ValidationError(_("Level %(n)s: give the time after which it fires.") % {"n": number})
        if minutes <= previous:
            raise ValidationError(_("Level %(n)s must come later than the level before it.") % {"n": number})
        if not level.get("actions"):
            raise ValidationError(_("Level %(n)s: add at least one action.") % {"n": number})
        try:
            actions = validate_actions(level["actions"], record_type)
        except ValidationError as exc:
            raise ValidationError(_("Level %(n)s: %(problem)s") % {"n": number, "problem": " ".join(exc.messages)}) \
                from None
        cleaned.append({"after_minutes": minutes, "actions": actions})
        previous = minutes
    return cleaned


@transaction.atomic
def escalation_rule_save(*, actor, record_type: str, name: str, levels, criteria=None, stop_criteria=None,
                         clock_field: str = "created_at", calendar=None, stop_on_activity: bool = True,
                         is_active: bool = True, order: int = 100, rule=None, ip: str | None = None):
    """Create or change an escalation rule and its levels. ValidationError by field: an unknown record type or
    clock field, criteria that do not fit the type (stop criteria may use "changed"), bad levels. Existing
    records that match are planned on a worker (future due times only)."""
    from crm.automation.models_escalations import EscalationLevel, EscalationRule

    errors: dict[str, list] = {}
    if records.find(record_type) is None:
        errors["record_type"] = [_("Choose a record type.")]
        raise ValidationError(errors)
    tree = stop_tree = {"all": []}
    try:
        tree = conditions.validate(criteria or {}, record_type, sql=True)
    except conditions.InvalidCondition as exc:
        errors["criteria"] = [str(exc)]
    try:
        stop_tree = conditions.validate(stop_criteria or {}, record_type)
    except conditions.InvalidCondition as exc:
        errors["stop_criteria"] = [str(exc)]
    if clock_field not in dict(clock_fields(record_type)):
        errors["clock_field"] = [_("Choose the date the clock starts from.")]
    cleaned: list[dict] = []
    try:
        cleaned = validate_levels(levels, record_type)
    except ValidationError as exc:
        errors["levels"] = exc.messages
    if calendar is not None and not calendar.hours.exists():
        errors["calendar"] = [_("This calendar has no working hours.")]
    if not (name or "").strip():
        errors["name"] = [_("Give the rule a name.")]
    if errors:
        raise ValidationError(errors)
    created = rule is None
    now = timezone.now()
    activated = created or (is_active and not rule.is_active)
    rule = rule or EscalationRule(record_type=record_type, created_by=_user(actor), created_at=now)
    rule.name, rule.order, rule.is_active, rule.calendar = name.strip(), order, is_active, calendar
    rule.criteria, rule.stop_criteria, rule.clock_field, rule.stop_on_activity = tree, stop_tree, clock_field, \
        stop_on_activity
    if activated:
        rule.active_since = now
    rule.updated_at = now
    rule.save()
    existing = {lv.number: lv for lv in EscalationLevel.objects.filter(rule=rule)}
    for number, level in enumerate(cleaned, start=1):
        row = existing.pop(number, None) or EscalationLevel(rule=rule, number=number)
        row.after_minutes, row.actions = level["after_minutes"], level["actions"]
        row.save()
    if existing:
        # A removed level's log goes with it (its rows are of a level that no longer exists).
        EscalationLevel.objects.filter(pk__in=[lv.pk for lv in existing.values()]).delete()
    _audit(actor, rule, ip, {"created": created, "active": is_active, "levels": len(cleaned)})
    changed()
    if is_active:
        _plan_later(rule.pk)
    else:
        _cancel_rule(rule)
    return rule


def _cancel_rule(rule) -> int:
    from crm.automation.models_escalations import EscalationDue

    return EscalationDue.objects.filter(rule=rule, state=EscalationDue.State.PENDING).update(
        state=EscalationDue.State.CANCELLED, reason=EscalationDue.Reason.RULE,
        note=str(EscalationDue.Reason.RULE.label), updated_at=timezone.now())


@transaction.atomic
def escalation_rule_set_active(*, actor, rule, active: bool, ip: str | None = None):
    """Switching off cancels the waiting rows; switching on plans the matching records from now on (due times
    already past are not fired unless the admin applies the rule to existing records)."""
    now = timezone.now()
    if active and not rule.is_active:
        rule.active_since = now
    rule.is_active, rule.updated_at = active, now
    rule.save(update_fields=["is_active", "active_since", "updated_at"])
    _audit(actor, rule, ip, {"active": active})
    changed()
    if active:
        _plan_later(rule.pk)
    else:
        _cancel_rule(rule)
    return rule


@transaction.atomic
def escalation_rule_delete(*, actor, rule, ip: str | None = None) -> None:
    """The rule, its levels and its log go."""
    _audit(actor, rule, ip, {"deleted": True})
    rule.delete()
    changed()


def escalation_apply_to_existing(*, actor, rule, ip: str | None = None) -> None:
    """The admin's "apply to existing records": the levels already past fire on the next tick."""
    if not rule.is_active:
        raise ValidationError(_("Switch the rule on first."))
    _audit(actor, rule, ip, {"applied_to_existing": True})
    _plan_later(rule.pk, include_past=True)


# --- reads ---------------------------------------------------------------------------------------------------------

def rule_rows() -> list:
    """Every rule for the list, with its levels, calendar, waiting rows and firings in the last 30 days (one query
    for the rules and counts, one for the levels)."""
    from crm.automation.models_escalations import EscalationDue, EscalationRule

    since = timezone.now() - timedelta(days=30)
    return list(EscalationRule.objects.select_related("calendar").prefetch_related("levels")
                .annotate(pending=Count("dues", filter=Q(dues__state=EscalationDue.State.PENDING)),
                          fired_30d=Count("dues", filter=Q(dues__state__in=["fired", "failed"],
                                                           dues__fired_at__gte=since)))
                .order_by("record_type", "order", "pk"))


def record_dues(record, limit: int = 10) -> list:
    from crm.automation.models_escalations import EscalationDue

    return list(EscalationDue.objects.filter(content_type=ContentType.objects.get_for_model(record),
                                             object_id=record.pk, state__in=["pending", "fired", "failed"])
                .select_related("rule", "level").order_by("-due_at")[:limit])


def register() -> None:
    """Called from the automation app's ready(): one outbox subscriber per record model and one for activities,
    the beat entry, the settings section, the record panel and the demo."""
    from django.apps import apps
    from django.utils.translation import gettext_lazy

    from crm.core.demo import register_demo
    from crm.core.events import subscribe
    from crm.core.models import Record
    from crm.core.panels import register_panel
    from crm.core.schedule import periodic
    from crm.core.settings_sections import register_section

    from crm.automation import escalation_tasks  # noqa: F401 - the tasks register

    for model in apps.get_models():
        if issubclass(model, Record):
            name = model._meta.model_name
            subscribe(f"{name}.*", handle_event, name=subscriber_name(name))
    # "activity.created" is emitted on the record the activity belongs to: someone touched it.
    subscribe("activity.*", handle_event, name=subscriber_name("activity"))
    periodic("escalations-tick", "crm.automation.escalation_tasks.escalations_tick_task", every=60)
    periodic("escalations-cleanup", "crm.automation.escalation_tasks.escalations_cleanup_task", every=24 * 3600)
    register_section("escalations", gettext_lazy("Escalation rules"), "alarm", "automation:escalation_list",
                     right="manage_customization", order=306)
    register_panel("*", "escalations", "automation/escalations/_panel.html", _panel, order=92)
    register_demo("automation_escalations", "crm.automation.escalation_demo.seed",
                  after=("automation", "automation_rules", "access", "leads", "activities"))


def _panel(request, record):
    from crm.automation.escalation_views import record_panel

    return record_panel(request, record)
