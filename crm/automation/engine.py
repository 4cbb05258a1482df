"""The workflow-rule engine. It subscribes to the events of every record model (crm.core.events: one durable
delivery per event and subscriber), matches each against the active rules of the event's record type, and
writes what fired (a RuleRun and its ActionRuns) in the delivery's own transaction; after commit a worker runs the actions (`execute_action_run`).

    event ─► handle_events ─► trigger? criteria? ─► RuleRun + ActionRuns (unique keys) ─► on commit: action_run_task
    beat  ─► tick: heartbeat, due ScheduledRuns (SKIP LOCKED) ─► RuleRun + ActionRuns; waiting actions re-queued

Time-based rules keep one ScheduledRun per record and due time. Nothing waits in the broker: no task carries
an ETA or countdown (Redis would redeliver one that outlives its visibility timeout); beat polls the table.

Loops are bounded: an action that writes a record tags the events it causes with the run's depth and the chain
of rules that led to it. A rule never fires on an event its own action caused, and at MAX_DEPTH nothing fires
(the refusal is logged as a skipped run)."""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from crm.core import conditions, records
from crm.core.config_cache import ConfigCache

logger = logging.getLogger(__name__)

SUBSCRIBER = "automation.workflow_rules"
MAX_DEPTH = 5
MAX_ATTEMPTS = 6
SAFETY_NET = timedelta(minutes=2)  # a queued action not taken by then is queued again by beat
REQUEUE_AFTER = timedelta(minutes=5)
STUCK_AFTER = timedelta(minutes=10)  # "sending" this long: its worker died between the claim and the record
SCHEDULE_BATCH = 200
TICK_BUDGET_SECONDS = 40  # beat runs the tick every minute; a long backlog continues on the next one
BEAT_WARNING = timedelta(minutes=2)

rules_config = ConfigCache("automation-rules", size=500)


def subscriber_name(model_name: str) -> str:
    """The outbox subscriber of one record model's events: "automation.workflow_rules:lead"."""
    return f"{SUBSCRIBER}:{model_name}"


@dataclass(frozen=True)
class CompiledRule:
    """An active rule's current version as the engine reads it, kept per process (rules_config)."""

    id: int
    name: str
    record_type: str
    order: int
    version_id: int
    number: int
    trigger: str
    field: str
    criteria: dict
    actions: tuple
    offset: timedelta
    since: datetime  # the version's creation: time-based due times before it are not fired on their own


def _offset(version) -> timedelta:
    amount = version.offset_amount or 0
    delta = {"minutes": timedelta(minutes=amount), "hours": timedelta(hours=amount)}.get(
        version.offset_unit, timedelta(days=amount))
    return -delta if version.offset_direction == "before" else delta


def compile_version(rule, version) -> CompiledRule:
    return CompiledRule(rule.pk, rule.name, rule.record_type, rule.order, version.pk, version.number, version.trigger,
                        version.trigger_field, conditions.normalize(version.criteria), tuple(version.actions or ()),
                        _offset(version), version.created_at)


def _load(record_type: str) -> list[CompiledRule]:
    from crm.automation.models_rules import WorkflowRule

    rules = (WorkflowRule.objects.filter(record_type=record_type, is_active=True, current_version__isnull=False)
             .select_related("current_version").order_by("order", "pk"))
    return [compile_version(rule, rule.current_version) for rule in rules]


def active_rules(record_type: str) -> list[CompiledRule]:
    return rules_config.get(("active", record_type), lambda: _load(record_type))


def rules_changed() -> None:
    """Rule services call this: every process reloads the rules on its next event."""
    rules_config.changed()


def _fields(record_type: str) -> dict:
    return conditions.fields_for(record_type)


# --- reading events ---------------------------------------------------------------------------------------------

def event_verb(event, model_name: str) -> str | None:
    """"created", "updated" or "deleted" for the record's own events; None for the rest ("activity.created" is
    emitted on the record a task belongs to, "opportunity.stage_changed" follows an "opportunity.updated")."""
    prefix, _dot, verb = event.name.rpartition(".")
    if prefix != model_name:
        return None
    if verb == "created":
        return "created"
    if verb in ("updated", "stage_changed") and event.changes:
        return "updated"
    if verb == "deleted":
        return "deleted"
    return None


def _attname(field: conditions.Field) -> str:
    if field.custom is not None:
        return field.custom.name
    return field.model_field.attname


def _changed(field_name: str, changes: dict, fields: dict) -> bool:
    field = fields.get(field_name)
    if field is None or not changes:
        return False
    change = changes.get(_attname(field)) or changes.get(field.name)
    return change is not None and change[0] != change[1]


def record_before(record, changes: dict):
    """A copy of `record` with the old values of `changes` put back (what it was before the saved change)."""
    old = copy.copy(record)
    old._state = copy.copy(record._state)
    old._state.fields_cache = {}
    names = {f.attname for f in type(record)._meta.concrete_fields}
    custom = dict(record.custom or {}) if "custom" in names else None
    for key, (before, _after) in (changes or {}).items():
        if key in names:
            try:
                setattr(old, key, before)
            except (TypeError, ValueError):
                continue
        elif custom is not None and key.startswith("cf_"):  # a custom field's own entry (record_changes)
            if before is None:
                custom.pop(key[3:], None)
            else:
                custom[key[3:]] = before
    if custom is not None and "custom" not in (changes or {}):
        old.custom = custom
    return old


def explain(criteria, record, *, changes=None, fields=None) -> list[dict]:
    """Each criterion's outcome on `record`: what "why did / didn't this rule fire?" shows."""
    fields = fields if fields is not None else _fields(records.key_of(record))
    result = []
    for leaf in conditions.leaves(conditions.normalize(criteria)):
        field = fields.get(leaf.get("field", ""))
        actual = conditions.raw_value(record, field) if field is not None else None
        ok = field is not None and conditions.leaf_matches(field, leaf.get("op", ""), leaf, actual, changes)
        result.append({"field": leaf.get("field", ""), "label": field.label if field else leaf.get("field", ""),
                       "op": leaf.get("op", ""), "op_label": str(conditions.OPERATORS.get(leaf.get("op", ""), "")),
                       "value": leaf.get("value", ""), "actual": _jsonable(actual), "result": bool(ok)})
    return result


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return str(value)


def trigger_fires(rule: CompiledRule, verb: str, record, changes: dict, fields: dict) -> bool:
    """Whether the event starts the rule (its criteria are checked next; "became true" checks them here)."""
    trigger = rule.trigger
    if trigger == "created":
        return verb == "created"
    if trigger == "created_or_updated":
        return verb in ("created", "updated")
    if trigger == "field_changed":
        return verb == "updated" and _changed(rule.field, changes, fields)
    if trigger == "criteria_became_true":
        if verb == "created":
            return True
        if verb != "updated":
            return False
        # True now (checked next) and false before the change: not on every save while it holds.
        return not conditions.evaluate(rule.criteria, record_before(record, changes), fields=fields)
    return False


def run_key(rule: CompiledRule | object, version_id: int, content_type_id: int, object_id: int, cause: str) -> str:
    return f"{rule.id if isinstance(rule, CompiledRule) else rule}:{version_id}:{content_type_id}.{object_id}:{cause}"


# --- the subscriber ------------------------------------------------------------------------------------------------

def handle_event(event) -> None:
    handle_events([event])


def handle_events(events) -> None:
    """Match events against the active rules, in the delivery's transaction."""
    plan = _Plan()
    by_type: dict[int, list] = {}
    for event in events:
        by_type.setdefault(event.content_type_id, []).append(event)
    for content_type_id, group in by_type.items():
        content_type = ContentType.objects.get_for_id(content_type_id)
        key = f"{content_type.app_label}.{content_type.model}"
        try:
            records.get(key)
        except KeyError:
            continue
        verbs = [(e, event_verb(e, content_type.model)) for e in group]
        verbs = [(e, v) for e, v in verbs if v]
        if not verbs:
            continue
        deleted = [e.object_id for e, v in verbs if v == "deleted"]
        if deleted:
            _cancel_scheduled(content_type_id, deleted, _("The record was deleted."))
        rules = active_rules(key)
        if not rules:
            continue
        model = content_type.model_class()
        found = model._default_manager.in_bulk({e.object_id for e, v in verbs if v != "deleted"})
        fields = _fields(key)
        index = rule_index(key, rules, fields, fields_token(fields))
        for event, verb in verbs:
            record = found.get(event.object_id)
            if record is None:
                continue
            _match(plan, event, verb, record, index, fields, content_type_id)
    plan.save()


handle_event.many = handle_events


_matchers: dict[tuple, object] = {}


def fields_token(fields: dict) -> tuple:
    """What the compiled criteria depend on: which fields there are and of which kind."""
    return tuple((name, f.kind, getattr(f.custom, "pk", None)) for name, f in fields.items())


def matcher(rule: CompiledRule, fields: dict, token: tuple | None = None):
    """The rule's criteria compiled (crm.core.conditions.compile) for these fields, once per process."""
    key = (rule.version_id, token if token is not None else fields_token(fields))
    found = _matchers.get(key)
    if found is None:
        if len(_matchers) > 5000:
            _matchers.clear()
        found = _matchers[key] = conditions.compile(rule.criteria, fields)
    return found


_CHEAP_TRIGGER = {"created": ("created",), "created_or_updated": ("created", "updated"),
                  "criteria_became_true": ("created", "updated")}


class RuleIndex:
    """The active rules of one record type arranged so that an event looks only at those that could fire: by
    the verb their trigger answers, "a field changed" rules by their field, and rules whose criteria require a
    text or choice field to equal one of some values (conditions.guard) under those values. Candidates come back
    in the rules' order, with their compiled criteria."""

    def __init__(self, rules: list[CompiledRule], fields: dict, token: tuple):
        self.rules, self.token = rules, token
        self.time_based: list[CompiledRule] = []
        self.plain: dict[str, list] = {"created": [], "updated": []}
        self.guarded: dict[str, dict[str, dict[str, list]]] = {"created": {}, "updated": {}}
        self.changed: dict[str, list] = {}
        for position, rule in enumerate(rules):
            if rule.trigger == "time_based":
                self.time_based.append(rule)
                continue
            entry = (position, rule, matcher(rule, fields, token))
            if rule.trigger == "field_changed":
                field = fields.get(rule.field)
                for name in {rule.field, _attname(field) if field is not None else rule.field}:
                    self.changed.setdefault(name, []).append(entry)
                continue
            found = conditions.guard(rule.criteria, fields)
            for verb in _CHEAP_TRIGGER.get(rule.trigger, ()):
                if found is None:
                    self.plain[verb].append(entry)
                    continue
                table = self.guarded[verb].setdefault(found[0], {})
                for value in found[1]:
                    table.setdefault(value, []).append(entry)
        self.readers = {name: conditions.reader(fields[name]) for tables in self.guarded.values() for name in tables}

    def candidates(self, verb: str, record, changes: dict) -> list:
        found = list(self.plain.get(verb, ()))
        for name, table in self.guarded.get(verb, {}).items():
            value = self.readers[name](record)
            if value is not None and value != "" and value != []:
                found.extend(table.get(str(value).upper(), ()))
        if verb == "updated" and changes:
            for name in changes:
                found.extend(self.changed.get(name, ()))
        if len(found) > 1:
            found = sorted({entry[0]: entry for entry in found}.values(), key=lambda entry: entry[0])
        return found


_indexes: dict[str, tuple] = {}


def rule_index(record_type: str, rules: list[CompiledRule], fields: dict, token: tuple) -> RuleIndex:
    """The index of these rules, built once per process until the rules or the fields change."""
    held = _indexes.get(record_type)
    if held is None or held.rules is not rules or held.token != token:
        held = _indexes[record_type] = RuleIndex(rules, fields, token)
    return held


def _match(plan, event, verb, record, index: RuleIndex, fields, content_type_id) -> None:
    """The candidate rules in order, cheapest test first: the compiled criteria on the record now, and for
    "became true" the same criteria on the record as it was (built once per event, when needed)."""
    automation = (event.data or {}).get("automation") or {}
    depth, chain = int(automation.get("depth") or 0), tuple(automation.get("rules") or ())
    changes = event.changes or {}
    for rule in index.time_based:
        if rule.id not in chain:
            schedule(rule, record, content_type_id=content_type_id, fields=fields)
    before = None
    for _position, rule, matches in index.candidates(verb, record, changes):
        if rule.id in chain:
            continue  # its own action's update: never re-triggered by it
        if event.created_at < rule.since:
            continue  # what happened before the rule existed (a backlog the sweep delivers late) is not its business
        if rule.trigger == "field_changed" and not _changed(rule.field, changes, fields):
            continue
        started = time.monotonic()
        if not matches(record, changes):
            continue
        if rule.trigger == "criteria_became_true" and verb == "updated":
            # True now and false before the change: not on every save while it holds.
            before = before if before is not None else record_before(record, changes)
            if matches(before):
                continue
        outcome = explain(rule.criteria, record, changes=changes, fields=fields)
        key = run_key(rule, rule.version_id, content_type_id, record.pk, f"e{event.pk}")
        if depth + 1 > MAX_DEPTH:
            plan.add(rule, record, content_type_id, key, event_id=event.pk, depth=depth + 1, outcome=outcome,
                     skipped=_("Depth limit of %(n)s reached: rules triggered by rules stop here.") % {"n": MAX_DEPTH},
                     chain=chain)
            continue
        plan.add(rule, record, content_type_id, key, event_id=event.pk, depth=depth + 1, outcome=outcome, chain=chain,
                 started=started)


class _Plan:
    """The runs one delivery writes: existing keys skipped (a replayed event), the rest inserted in bulk, their
    first actions queued after commit."""

    def __init__(self):
        self.items: list[tuple] = []

    def add(self, rule, record, content_type_id, key, *, event_id=None, due_at=None, depth=1, outcome=(),
            skipped: str = "", chain=(), started=None):
        self.items.append((rule, record, content_type_id, key, event_id, due_at, depth, list(outcome), skipped,
                           tuple(chain), started))

    def save(self) -> list:
        from crm.automation.models_rules import ActionRun, RuleRun

        if not self.items:
            return []
        existing = set(RuleRun.objects.filter(key__in=[i[3] for i in self.items]).values_list("key", flat=True))
        now = timezone.now()
        runs, todo = [], []
        for rule, record, ct_id, key, event_id, due_at, depth, outcome, skipped, chain, started in self.items:
            if key in existing:
                continue
            existing.add(key)
            runs.append(RuleRun(
                rule_id=rule.id, version_id=rule.version_id, content_type_id=ct_id, object_id=record.pk,
                record_repr=str(record)[:255], event_id=event_id, due_at=due_at, trigger=rule.trigger, matched=True,
                criteria_outcome=outcome, depth=depth, key=key, created_at=now, chain=list(chain),
                outcome=RuleRun.Outcome.SKIPPED if skipped or not rule.actions else RuleRun.Outcome.PENDING,
                note=skipped[:255], finished_at=now if skipped or not rule.actions else None,
                duration_ms=int((time.monotonic() - started) * 1000) if started else 0))
            todo.append((rule, skipped))
        if not runs:
            return []
        RuleRun.objects.bulk_create(runs)
        actions = []
        for run, (rule, skipped) in zip(runs, todo):
            if skipped:
                continue
            for index, config in enumerate(rule.actions):
                actions.append(ActionRun(run=run, index=index, kind=config.get("kind", ""), key=f"{run.key}:{index}",
                                         next_attempt_at=now + SAFETY_NET, created_at=now))
        ActionRun.objects.bulk_create(actions)
        first = [a.pk for a in actions if a.index == 0]
        if first:
            transaction.on_commit(lambda: _enqueue(first), robust=True)
        return runs


def _enqueue(ids: list[int]) -> None:
    from crm.automation.rule_tasks import action_run_task

    for pk in ids:
        try:
            action_run_task.delay(pk)
        except Exception:  # noqa: BLE001 - the rows wait; beat queues them again after SAFETY_NET
            logger.exception("action run %s could not be queued; beat will queue it", pk)
            return


# --- time-based rules -------------------------------------------------------------------------------------------------

def date_value(record, field_name: str, fields: dict):
    """The record's date or date-time in `field_name` as an aware datetime (a date is its midnight in the
    site's time zone), or None."""
    field = fields.get(field_name)
    if field is None:
        value = getattr(record, field_name, None)
    elif field.custom is not None:
        raw = (record.custom or {}).get(field.custom.name)
        value = (parse_datetime(str(raw)) or parse_date(str(raw)[:10])) if raw else None
    else:
        value = getattr(record, field.model_field.attname, None)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    try:
        return timezone.make_aware(datetime.combine(value, dt_time.min), timezone.get_default_timezone())
    except (TypeError, ValueError):
        return None


def due_time(rule: CompiledRule, record, fields: dict | None = None):
    fields = fields if fields is not None else _time_fields(rule.record_type)
    base = date_value(record, rule.field, fields)
    return base + rule.offset if base is not None else None


def _time_fields(record_type: str) -> dict:
    """The date fields a time-based trigger may count from: every date or date-time of the model (not only the
    rule fields: "in stage since", "created") and the custom date fields."""
    from django.db import models as dj

    model = records.get(record_type).model
    result = {f.name: conditions._model_field(f) for f in model._meta.concrete_fields
              if isinstance(f, (dj.DateField, dj.DateTimeField))}
    for name, f in conditions.fields_for(record_type).items():
        if f.custom is not None and f.kind in (conditions.DATE, conditions.DATETIME):
            result[name] = f
    return result


def time_fields(record_type: str) -> list[tuple[str, str]]:
    return [(name, f.label) for name, f in _time_fields(record_type).items()]


def schedule(rule: CompiledRule, record, *, content_type_id: int, fields: dict, include_past: bool = False) -> str:
    """Keep the record's pending run of a time-based rule in step with it: created at its due time, moved when the
    date changes, cancelled when the criteria stop holding or the date is emptied. A due time from before the
    rule existed is left alone unless `include_past` ("apply to existing records"). Returns what it did."""
    from crm.automation.models_rules import ScheduledRun

    due = due_time(rule, record, _time_fields(rule.record_type))
    pending = ScheduledRun.objects.filter(rule_id=rule.id, content_type_id=content_type_id, object_id=record.pk,
                                          status=ScheduledRun.Status.PENDING)
    now = timezone.now()
    if due is None or not conditions.evaluate(rule.criteria, record, fields=fields):
        pending.update(status=ScheduledRun.Status.CANCELLED, updated_at=now, note=(
            _("The date is empty.") if due is None else _("The criteria no longer hold.")))
        return "cancelled"
    pending.exclude(due_at=due).update(status=ScheduledRun.Status.CANCELLED, updated_at=now,
                                       note=_("The date changed."))
    if due < rule.since and not include_past:
        return "past"
    table = ScheduledRun._meta.db_table
    with connection.cursor() as cursor:
        # A cancelled row at the same due time comes back; a done one stays done (a due time fires once).
        cursor.execute(
            f'INSERT INTO "{table}" (rule_id, version_id, content_type_id, object_id, due_at, status, note, '
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 'pending', '', %s, %s) "
            "ON CONFLICT (rule_id, content_type_id, object_id, due_at) DO UPDATE SET status = 'pending', "
            f'version_id = EXCLUDED.version_id, note = \'\', updated_at = EXCLUDED.updated_at WHERE "{table}".status = '
            "'cancelled' RETURNING id",
            [rule.id, rule.version_id, content_type_id, record.pk, due, now, now])
        return "scheduled" if cursor.fetchone() else "unchanged"


def _cancel_scheduled(content_type_id: int, ids, note: str) -> None:
    from crm.automation.models_rules import ScheduledRun

    ScheduledRun.objects.filter(content_type_id=content_type_id, object_id__in=list(ids),
                                status=ScheduledRun.Status.PENDING).update(
        status=ScheduledRun.Status.CANCELLED, note=note, updated_at=timezone.now())


def fire_due(*, batch: int = SCHEDULE_BATCH, now=None) -> int:
    """Take one batch of due time-based runs (SKIP LOCKED: two beats never take the same row), check each
    record again and write its run; returns how many rows were taken."""
    from crm.automation.models_rules import RuleVersion, ScheduledRun, WorkflowRule

    now = now or timezone.now()
    with transaction.atomic():
        rows = list(ScheduledRun.objects.select_for_update(skip_locked=True)
                    .filter(status=ScheduledRun.Status.PENDING, due_at__lte=now).order_by("due_at")[:batch])
        if not rows:
            return 0
        rules = WorkflowRule.objects.in_bulk({r.rule_id for r in rows})
        versions = RuleVersion.objects.in_bulk({r.version_id for r in rows})
        plan = _Plan()
        done, cancelled = [], {}
        for row in rows:
            rule, version = rules.get(row.rule_id), versions.get(row.version_id)
            if rule is None or not rule.is_active or rule.current_version_id != row.version_id:
                cancelled.setdefault(_("The rule was changed or deactivated."), []).append(row.pk)
                continue
            model = ContentType.objects.get_for_id(row.content_type_id).model_class()
            record = model._default_manager.filter(pk=row.object_id).first()
            if record is None:
                cancelled.setdefault(_("The record was deleted."), []).append(row.pk)
                continue
            compiled = compile_version(rule, version)
            fields = _fields(rule.record_type)
            if not conditions.evaluate(compiled.criteria, record, fields=fields):
                cancelled.setdefault(_("The criteria no longer hold."), []).append(row.pk)
                continue
            key = run_key(compiled, version.pk, row.content_type_id, row.object_id, f"t{row.due_at.isoformat()}")
            plan.add(compiled, record, row.content_type_id, key, due_at=row.due_at, depth=1,
                     outcome=explain(compiled.criteria, record, fields=fields), started=time.monotonic())
            done.append(row)
        plan.save()
        from crm.automation.models_rules import RuleRun

        keys = {row.pk: run_key(row.rule_id, row.version_id, row.content_type_id, row.object_id,
                                f"t{row.due_at.isoformat()}") for row in done}
        known = dict(RuleRun.objects.filter(key__in=list(keys.values())).values_list("key", "pk"))
        for row in done:
            ScheduledRun.objects.filter(pk=row.pk).update(status=ScheduledRun.Status.DONE, updated_at=now,
                                                           run_id=known.get(keys[row.pk]))
        for note, ids in cancelled.items():
            ScheduledRun.objects.filter(pk__in=ids).update(status=ScheduledRun.Status.CANCELLED, note=note,
                                                           updated_at=now)
    return len(rows)


def schedule_existing(*, rule_id: int, include_past: bool = False, batch: int = 500) -> int:
    """Schedule a time-based rule on the records that exist (after activation: future due times; with
    `include_past`, the ones already past too, which fire on beat's next minute). Returns how many it scheduled."""
    from crm.automation.models_rules import WorkflowRule

    rule = WorkflowRule.objects.select_related("current_version").filter(pk=rule_id, is_active=True).first()
    if rule is None or rule.current_version is None or rule.current_version.trigger != "time_based":
        return 0
    compiled = compile_version(rule, rule.current_version)
    model = records.get(rule.record_type).model
    content_type_id = ContentType.objects.get_for_model(model).pk
    fields = _fields(rule.record_type)
    count = 0
    queryset = model._default_manager.filter(conditions.to_q(compiled.criteria, model, fields=fields)).order_by("pk")
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:batch])
        if not chunk:
            return count
        with transaction.atomic():
            for record in chunk:
                if schedule(compiled, record, content_type_id=content_type_id, fields=fields,
                            include_past=include_past) == "scheduled":
                    count += 1
        last = chunk[-1].pk


def past_due_count(rule) -> int:
    """How many existing records "apply to existing records" would fire on now: criteria met, due time past,
    not fired yet for that due time."""
    from crm.automation.models_rules import ScheduledRun

    version = rule.current_version
    if version is None or version.trigger != "time_based":
        return 0
    compiled = compile_version(rule, version)
    model = records.get(rule.record_type).model
    content_type_id = ContentType.objects.get_for_model(model).pk
    fields, time_fields_ = _fields(rule.record_type), _time_fields(rule.record_type)
    now = timezone.now()
    taken = set(ScheduledRun.objects.filter(rule_id=rule.pk, status__in=["done", "pending"])
                .values_list("object_id", "due_at"))
    count = 0
    for record in model._default_manager.filter(conditions.to_q(compiled.criteria, model, fields=fields)).iterator(2000):
        due = due_time(compiled, record, time_fields_)
        if due is not None and due <= now and (record.pk, due) not in taken:
            count += 1
    return count


# --- running actions ---------------------------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def execute_action_run(action_run_id: int, *, follow: bool = True) -> str | None:
    """Run one action under its row lock, recording the outcome in the same transaction as what it wrote, so
    a worker killed mid-way leaves it waiting (and its writes undone) and a redelivered task finds it done.
    Then the run's next waiting action, in order. Returns the status, or None when there was nothing to do.

    An action with an effect outside the database (an e-mail: `deliver` in its registration) goes in three
    steps instead, since no transaction can take back a message that left:
      A  prepare under the lock, mark it "sending", commit;
      B  deliver, outside any transaction;
      C  record the outcome (its timeline entry) and "succeeded", commit.
    A redelivered or duplicated task finds it "sending" or done and does nothing, so nothing is sent twice. A
    worker killed between A and C leaves it "sending"; beat fails it after STUCK_AFTER as interrupted (it may
    or may not have left), it shows on Failed runs and an admin decides whether to retry. An error raised by
    the delivery itself left nothing, so that one is retried with backoff."""
    from crm.automation.actions import ActionContext, ActionError, ActionSkipped, PermanentActionError, get_action
    from crm.automation.models_rules import ActionRun

    claimed = None
    with transaction.atomic():
        action_run = (ActionRun.objects.select_for_update(skip_locked=True, of=("self",))
                      .select_related("run", "run__rule", "run__version", "run__rule__created_by")
                      .filter(pk=action_run_id).first())
        if action_run is None or action_run.status != ActionRun.Status.PENDING:
            return None
        run, now = action_run.run, timezone.now()
        version = run.version
        config = (version.actions or [])[action_run.index] if action_run.index < len(version.actions or []) else {}
        action = get_action(config.get("kind", ""))
        model = ContentType.objects.get_for_id(run.content_type_id).model_class()
        record = model._default_manager.filter(pk=run.object_id).first()
        action_run.attempts += 1
        error, result, status = "", {}, ActionRun.Status.SUCCEEDED
        try:
            if action is None:
                raise PermanentActionError(_("The action “%(kind)s” is not available.") % {"kind": action_run.kind})
            if record is None:
                raise ActionSkipped(_("The record was deleted."))
            ctx = ActionContext(record=record, record_type=run.rule.record_type, rule=run.rule, version=version,
                                run=run, key=action_run.key, depth=run.depth, chain=(*(run.chain or ()), run.rule_id))
            with transaction.atomic():
                result = action.run(ctx, config) or {}
        except ActionSkipped as exc:
            status, result = ActionRun.Status.SKIPPED, {"skipped": str(exc)}
        except PermanentActionError as exc:
            status, error = ActionRun.Status.FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - kept on the row, retried with backoff, then surfaced
            logger.warning("action run %s (%s) failed: %s", action_run.pk, action_run.kind, exc)
            error = f"{type(exc).__name__}: {exc}"[:4000] if not isinstance(exc, ActionError) else str(exc)
            result = getattr(exc, "result", {}) or {}
            status = ActionRun.Status.FAILED if action_run.attempts >= MAX_ATTEMPTS else ActionRun.Status.PENDING
        if status == ActionRun.Status.SUCCEEDED and action.deliver is not None:
            # A: the claim, committed before anything leaves.
            claimed = _jsonable_dict(result)
            action_run.status, action_run.last_error, action_run.result = ActionRun.Status.SENDING, "", {}
            action_run.next_attempt_at = now + STUCK_AFTER
            action_run.save(update_fields=["status", "attempts", "last_error", "result", "next_attempt_at"])
            following = None
        else:
            following = _record_outcome(action_run, status, error, result)
    if claimed is not None:
        return _deliver(action_run.pk, action, claimed, follow=follow)
    if follow and following:
        execute_action_run(following)
    return status


def _record_outcome(action_run, status: str, error: str, result: dict) -> int | None:
    """Save an action run's outcome (a retry's time when it waits again), settle its run, and return the run's
    next action never tried, if any. Inside the caller's transaction, with the row locked."""
    from crm.automation.models_rules import ActionRun

    action_run.status, action_run.last_error, action_run.result = status, error, _jsonable_dict(result)
    if status == ActionRun.Status.PENDING:
        action_run.next_attempt_at = timezone.now() + backoff(action_run.attempts)
        action_run.result = {**action_run.result, "retry_at": action_run.next_attempt_at.isoformat()}
    else:
        action_run.next_attempt_at, action_run.finished_at = None, timezone.now()
    action_run.save(update_fields=["status", "attempts", "last_error", "result", "next_attempt_at", "finished_at"])
    if status == ActionRun.Status.FAILED:
        transaction.on_commit(lambda: _notify_admins(action_run.pk), robust=True)
    _settle(action_run.run_id)
    return ActionRun.objects.filter(run_id=action_run.run_id, index__gt=action_run.index,
                                    status=ActionRun.Status.PENDING, attempts=0).order_by("index") \
        .values_list("pk", flat=True).first()


def _deliver(action_run_id: int, action, payload: dict, *, follow: bool) -> str | None:
    """Steps B and C of an action with an outside effect (see execute_action_run)."""
    from crm.automation.actions import ActionError, PermanentActionError
    from crm.automation.models_rules import ActionRun

    Status = ActionRun.Status
    try:
        delivered = action.deliver(payload) or {}
    except Exception as exc:  # noqa: BLE001 - nothing left: retried with backoff, then surfaced
        logger.warning("action run %s could not deliver: %s", action_run_id, exc)
        permanent = isinstance(exc, PermanentActionError)
        error = str(exc) if isinstance(exc, (ActionError, PermanentActionError)) else f"{type(exc).__name__}: {exc}"
        with transaction.atomic():
            row = ActionRun.objects.select_for_update().filter(pk=action_run_id, status=Status.SENDING).first()
            if row is None:  # beat gave up on it meanwhile
                return None
            status = Status.FAILED if permanent or row.attempts >= MAX_ATTEMPTS else Status.PENDING
            _record_outcome(row, status, error[:4000], getattr(exc, "result", {}) or {})
        return status
    with transaction.atomic():
        row = (ActionRun.objects.select_for_update(of=("self",)).select_related("run")
               .filter(pk=action_run_id, status=Status.SENDING).first())
        if row is None:
            return None
        run = row.run
        model = ContentType.objects.get_for_id(run.content_type_id).model_class()
        record = model._default_manager.filter(pk=run.object_id).first()
        try:
            with transaction.atomic():
                result = {**(action.finish(record, payload, delivered) if action.finish else delivered or {})}
        except Exception as exc:  # noqa: BLE001 - it left: succeeded it stays, the missing entry is noted
            logger.exception("action run %s delivered, but recording it failed", action_run_id)
            result = {"note": _("Sent, but the timeline entry could not be written: %(error)s") % {"error": exc}}
        following = _record_outcome(row, Status.SUCCEEDED, "", result)
    if follow and following:
        execute_action_run(following)
    return Status.SUCCEEDED


def fail_interrupted(*, now=None, limit: int = 500) -> int:
    """Actions left "sending" past STUCK_AFTER (their worker died between claim and record): failed, with the
    admins told. Never delivered again on their own: the message may have left."""
    from crm.automation.models_rules import ActionRun

    now = now or timezone.now()
    with transaction.atomic():
        rows = list(ActionRun.objects.select_for_update(skip_locked=True)
                    .filter(status=ActionRun.Status.SENDING, next_attempt_at__lte=now).order_by("pk")[:limit])
        for row in rows:
            _record_outcome(row, ActionRun.Status.FAILED, _(
                "Interrupted while sending: the worker stopped before it could record whether the message left. "
                "Check with the recipient before you retry."), {"interrupted": True})
    return len(rows)


def _jsonable_dict(value: dict) -> dict:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder))


def _settle(run_id: int) -> None:
    """A run's outcome once none of its actions waits: succeeded, failed, or partly failed."""
    from django.db.models import Count

    from crm.automation.models_rules import ActionRun, RuleRun

    run = RuleRun.objects.select_for_update().get(pk=run_id)
    counts = dict(ActionRun.objects.filter(run_id=run_id).values_list("status").annotate(n=Count("pk"))
                  .values_list("status", "n"))
    if counts.get(ActionRun.Status.PENDING) or counts.get(ActionRun.Status.SENDING):
        outcome = RuleRun.Outcome.PENDING
    elif counts.get(ActionRun.Status.FAILED):
        outcome = RuleRun.Outcome.PARTIAL if (counts.get(ActionRun.Status.SUCCEEDED) or 0) else RuleRun.Outcome.FAILED
    else:
        outcome = RuleRun.Outcome.SUCCEEDED
    finished = timezone.now() if outcome != RuleRun.Outcome.PENDING else None
    RuleRun.objects.filter(pk=run_id).update(
        outcome=outcome, finished_at=finished,
        duration_ms=int((finished - run.created_at).total_seconds() * 1000) if finished else run.duration_ms)


def requeue_waiting(*, limit: int = 500, now=None) -> int:
    """Queue the waiting actions whose time has come: retries after their backoff, and any whose after-commit
    message was lost. Each is pushed back REQUEUE_AFTER, so a busy queue is not flooded with copies."""
    from crm.automation.models_rules import ActionRun

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(ActionRun.objects.select_for_update(skip_locked=True)
                   .filter(status=ActionRun.Status.PENDING, next_attempt_at__lte=now)
                   .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
        if ids:
            ActionRun.objects.filter(pk__in=ids).update(next_attempt_at=now + REQUEUE_AFTER)
            transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(ids)


def action_run_retry(*, action_run, actor) -> None:
    """An admin's Retry on the Failed runs screen: the action waits again, with fresh attempts."""
    from crm.automation.models_rules import ActionRun, RuleRun

    with transaction.atomic():
        row = ActionRun.objects.select_for_update().get(pk=action_run.pk)
        if row.status != ActionRun.Status.FAILED:
            return
        row.status, row.attempts, row.next_attempt_at = ActionRun.Status.PENDING, 0, timezone.now() + SAFETY_NET
        row.result = {**(row.result or {}), "retried_by": getattr(actor, "email", ""),
                      "retried_at": timezone.now().isoformat()}
        row.save(update_fields=["status", "attempts", "next_attempt_at", "result"])
        RuleRun.objects.filter(pk=row.run_id).update(outcome=RuleRun.Outcome.PENDING, finished_at=None)
        transaction.on_commit(lambda: _enqueue([row.pk]), robust=True)


def tell_admins(message, *, url: str, verb: str) -> None:
    """Notify every active admin, each in their own language: `message()` is called under it."""
    from django.utils.translation import override

    from crm.access.models import User
    from crm.notifications.services import notification_send

    for admin in User.objects.filter(Q(profile__is_admin=True) | Q(is_superuser=True), is_active=True):
        with override(admin.language or None):
            text = message()
        notification_send(recipient=admin, message=text, url=url, verb=verb)


def _notify_admins(action_run_id: int) -> None:
    from django.urls import reverse

    from crm.automation.models_rules import ActionRun

    row = ActionRun.objects.select_related("run__rule").filter(pk=action_run_id).first()
    if row is None:
        return
    tell_admins(lambda: _("Workflow rule “%(rule)s” failed on %(record)s: %(error)s") % {
        "rule": row.run.rule.name, "record": row.run.record_repr, "error": row.last_error[:200]},
        url=reverse("automation:failed_runs"), verb="automation.failed")


# --- beat --------------------------------------------------------------------------------------------------------------

def tick() -> dict:
    """Every minute: the heartbeat, the due time-based runs (in batches, within a time budget), and the waiting
    actions whose time has come."""
    from crm.automation.models_rules import Heartbeat

    started = time.monotonic()
    Heartbeat.objects.update_or_create(name="automation-tick", defaults={"at": timezone.now()})
    fired = 0
    while time.monotonic() - started < TICK_BUDGET_SECONDS:
        taken = fire_due()
        fired += taken
        if taken < SCHEDULE_BATCH:
            break
    return {"scheduled": fired, "requeued": requeue_waiting(), "interrupted": fail_interrupted()}


def cleanup(*, now=None) -> int:
    """Delete runs (and their action runs) older than the retention setting, and settled scheduled rows."""
    from crm.automation.models_rules import AutomationSettings, RuleRun, ScheduledRun

    now = now or timezone.now()
    cutoff = now - timedelta(days=AutomationSettings.get().log_retention_days)
    deleted = 0
    while True:
        ids = list(RuleRun.objects.filter(created_at__lt=cutoff).exclude(outcome=RuleRun.Outcome.PENDING)
                   .values_list("pk", flat=True)[:5000])
        if not ids:
            break
        deleted += RuleRun.objects.filter(pk__in=ids).delete()[1].get(RuleRun._meta.label, 0)
    ScheduledRun.objects.filter(updated_at__lt=cutoff, status__in=["done", "cancelled"]).delete()
    return deleted


def health(*, now=None) -> dict:
    """The automation settings page's panel: beat, waiting work and the age of the oldest, failures."""
    from django.db.models import Count, Min

    from crm.automation.models_rules import ActionRun, Heartbeat, ScheduledRun
    from crm.core import events

    now = now or timezone.now()
    beat = Heartbeat.objects.filter(name="automation-tick").values_list("at", flat=True).first()
    event_health = events.health()
    due = ScheduledRun.objects.filter(status="pending", due_at__lte=now).aggregate(n=Count("pk"), oldest=Min("due_at"))
    waiting = ScheduledRun.objects.filter(status="pending").count()
    actions = ActionRun.objects.filter(status="pending").aggregate(n=Count("pk"), oldest=Min("created_at"))
    failed_24h = ActionRun.objects.filter(status="failed", finished_at__gte=now - timedelta(hours=24)).count()
    return {
        "beat_at": beat, "beat_late": beat is None or now - beat > BEAT_WARNING,
        "events_waiting": event_health["waiting"], "events_oldest": event_health["oldest"],
        "scheduled_waiting": waiting, "scheduled_due": due["n"], "scheduled_oldest_due": due["oldest"],
        "actions_waiting": actions["n"], "actions_oldest": actions["oldest"], "failed_24h": failed_24h,
    }


# --- "test this rule" and replay --------------------------------------------------------------------------------------

def dry_run(rule, version, record) -> dict:
    """What the rule would do on `record` now, changing nothing: each criterion's outcome and the actions."""
    from crm.automation.actions import describe_action

    compiled = compile_version(rule, version)
    fields = _fields(rule.record_type)
    outcome = explain(compiled.criteria, record, fields=fields)
    matched = conditions.evaluate(compiled.criteria, record, fields=fields)
    result = {"criteria": outcome, "matched": matched,
              "actions": [describe_action(a, rule.record_type) for a in version.actions or []],
              "has_change_operators": any(leaf.get("op") in conditions.CHANGE_OPERATORS
                                          for leaf in conditions.leaves(compiled.criteria))}
    if compiled.trigger == "time_based":
        result["due_at"] = due_time(compiled, record)
    return result


def replay_count(rule, version, *, days: int, cap: int = 20000) -> dict:
    """How often the rule would have fired on the records created or changed in the last `days` days (their
    present values against the criteria; in SQL where the criteria allow, else record by record)."""
    from crm.core.models import Event

    compiled = compile_version(rule, version)
    model = records.get(rule.record_type).model
    fields = _fields(rule.record_type)
    since = timezone.now() - timedelta(days=days)
    content_type = ContentType.objects.get_for_model(model)
    sql_ok = not any(leaf.get("op") in conditions.CHANGE_OPERATORS for leaf in conditions.leaves(compiled.criteria))
    if compiled.trigger in ("created", "created_or_updated", "time_based") and sql_ok:
        stamp = "created_at" if compiled.trigger == "created" else "updated_at"
        window = model._default_manager.filter(**{f"{stamp}__gte": since})
        matched = window.filter(conditions.to_q(compiled.criteria, model, fields=fields)).count()
        return {"considered": window.count(), "matched": matched, "exact": True}
    # Change-based triggers: the events of the window, as the engine would have read them.
    events = list(Event.objects.filter(content_type=content_type, created_at__gte=since)
                  .order_by("-pk")[:cap])
    found = model._default_manager.in_bulk({e.object_id for e in events})
    considered = matched = 0
    for event in events:
        verb = event_verb(event, content_type.model)
        record = found.get(event.object_id)
        if not verb or verb == "deleted" or record is None:
            continue
        considered += 1
        changes = event.changes or {}
        if trigger_fires(compiled, verb, record, changes, fields) and conditions.evaluate(
                compiled.criteria, record, changes=changes, fields=fields):
            matched += 1
    return {"considered": considered, "matched": matched, "exact": False}
