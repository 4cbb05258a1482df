"""Writes to workflow rules: create, change (a new version whenever what the rule does changes), activate,
deactivate, delete, apply to existing records. Each is atomic, audited, and tells every process to reload the
rules (crm.automation.engine.rules_changed)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.automation.models_rules import OffsetDirection, OffsetUnit, RuleVersion, ScheduledRun, Trigger, WorkflowRule
from crm.core import conditions, records

BEHAVIOUR = ("trigger", "trigger_field", "offset_amount", "offset_unit", "offset_direction", "criteria", "actions")


def rule_spec_clean(*, record_type: str, spec: dict) -> dict:
    """What a version holds, checked against the record type: the trigger and its field, the criteria (one
    condition vocabulary: crm.core.conditions) and every action by its registered kind. ValidationError by key."""
    from crm.automation.actions import validate_actions
    from crm.automation.engine import time_fields

    try:
        records.get(record_type)
    except KeyError:
        raise ValidationError({"record_type": _("Unknown record type.")}) from None
    errors: dict[str, list] = {}
    trigger = spec.get("trigger") or ""
    if trigger not in Trigger.values:
        errors["trigger"] = [_("Choose when the rule runs.")]
    field = spec.get("trigger_field") or ""
    fields = conditions.fields_for(record_type)
    if trigger == Trigger.FIELD_CHANGED and field not in fields:
        errors["trigger_field"] = [_("Choose the field whose change starts the rule.")]
    if trigger == Trigger.TIME_BASED and field not in dict(time_fields(record_type)):
        errors["trigger_field"] = [_("Choose the date field the time counts from.")]
    amount = spec.get("offset_amount") or 0
    try:
        amount = int(amount)
        if amount < 0 or amount > 100_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["offset_amount"] = [_("Give a whole number, 0 or more.")]
        amount = 0
    unit = spec.get("offset_unit") or OffsetUnit.DAYS
    direction = spec.get("offset_direction") or OffsetDirection.AFTER
    if unit not in OffsetUnit.values:
        errors["offset_unit"] = [_("Choose minutes, hours or days.")]
    if direction not in OffsetDirection.values:
        errors["offset_direction"] = [_("Choose before or after.")]
    criteria = spec.get("criteria") or {}
    try:
        # A time-based rule runs long after any save: "changed" cannot be answered then.
        criteria = conditions.validate(criteria, record_type, sql=trigger == Trigger.TIME_BASED, fields=fields)
    except conditions.InvalidCondition as exc:
        errors["criteria"] = [str(exc)]
    try:
        actions = validate_actions(spec.get("actions") or [], record_type)
    except ValidationError as exc:
        errors["actions"] = exc.messages
        actions = []
    if not errors and not actions:
        errors["actions"] = [_("Add at least one action.")]
    if errors:
        raise ValidationError(errors)
    return {"trigger": trigger, "trigger_field": field if trigger in (Trigger.FIELD_CHANGED, Trigger.TIME_BASED) else "",
            "offset_amount": amount if trigger == Trigger.TIME_BASED else 0, "offset_unit": unit,
            "offset_direction": direction, "criteria": criteria, "actions": actions}


def _audit(actor, rule, ip, data: dict) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=rule, ip=ip,
          data={"what": "workflow_rule", "name": rule.name, "record_type": rule.record_type, **data})


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _new_version(rule: WorkflowRule, spec: dict, actor) -> RuleVersion:
    number = (rule.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = RuleVersion.objects.create(rule=rule, number=number, created_by=_actor(actor), **spec)
    rule.current_version = version
    return version


def _reschedule(rule: WorkflowRule, note: str) -> None:
    """Time-based rows of other versions (or of a rule no longer active) are cancelled; an active time-based
    rule is scheduled again on the existing records by a worker."""
    from crm.automation.engine import rules_changed

    pending = ScheduledRun.objects.filter(rule=rule, status=ScheduledRun.Status.PENDING)
    if rule.is_active and rule.current_version_id:
        pending = pending.exclude(version_id=rule.current_version_id)
    pending.update(status=ScheduledRun.Status.CANCELLED, note=note, updated_at=timezone.now())
    rules_changed()
    if rule.is_active and rule.current_version and rule.current_version.trigger == Trigger.TIME_BASED:
        from crm.automation.rule_tasks import schedule_existing_task

        rule_id = rule.pk
        transaction.on_commit(lambda: schedule_existing_task.delay(rule_id), robust=True)


@transaction.atomic
def rule_create(*, actor, record_type: str, name: str, spec: dict, description: str = "", order: int = 100,
                is_active: bool = True, ip: str | None = None) -> WorkflowRule:
    spec = rule_spec_clean(record_type=record_type, spec=spec)
    if not (name or "").strip():
        raise ValidationError({"name": _("Give the rule a name.")})
    rule = WorkflowRule.objects.create(name=name.strip(), description=description, record_type=record_type,
                                       order=order, is_active=is_active, created_by=_actor(actor))
    version = _new_version(rule, spec, actor)
    rule.save(update_fields=["current_version"])
    _audit(actor, rule, ip, {"created": True, "version": version.number, "active": is_active, **spec})
    _reschedule(rule, _("The rule changed."))
    return rule


@transaction.atomic
def rule_update(*, actor, rule: WorkflowRule, spec: dict, name: str | None = None, description: str | None = None,
                order: int | None = None, is_active: bool | None = None, ip: str | None = None) -> WorkflowRule:
    """Change a rule. What it does (trigger, criteria, actions) changing makes a new version; runs already
    made keep theirs. Name, order and the active flag are the rule's own and make none."""
    rule = WorkflowRule.objects.select_for_update().get(pk=rule.pk)
    spec = rule_spec_clean(record_type=rule.record_type, spec=spec)
    current = rule.current_version
    changed = current is None or any(getattr(current, k) != spec[k] for k in BEHAVIOUR)
    before = {"name": rule.name, "order": rule.order, "active": rule.is_active}
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": _("Give the rule a name.")})
        rule.name = name.strip()
    if description is not None:
        rule.description = description
    if order is not None:
        rule.order = order
    was_active = rule.is_active
    if is_active is not None:
        rule.is_active = is_active
    if changed:
        _new_version(rule, spec, actor)
    rule.updated_at = timezone.now()
    rule.save()
    _audit(actor, rule, ip, {"before": before, "version": rule.current_version.number, "new_version": changed,
                             "active": rule.is_active, **(spec if changed else {})})
    if changed or was_active != rule.is_active:
        _reschedule(rule, _("The rule changed.") if changed else _("The rule was deactivated."))
    else:
        from crm.automation.engine import rules_changed

        rules_changed()
    return rule


@transaction.atomic
def rule_set_active(*, actor, rule: WorkflowRule, active: bool, ip: str | None = None) -> WorkflowRule:
    rule = WorkflowRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_active == active:
        return rule
    rule.is_active, rule.updated_at = active, timezone.now()
    rule.save(update_fields=["is_active", "updated_at"])
    _audit(actor, rule, ip, {"active": active})
    _reschedule(rule, _("The rule was deactivated."))
    return rule


@transaction.atomic
def rule_delete(*, actor, rule: WorkflowRule, ip: str | None = None) -> None:
    """Delete a rule with its versions and its log (deactivate it instead to keep the log)."""
    from crm.automation.engine import rules_changed

    _audit(actor, rule, ip, {"deleted": True})
    rule.delete()
    rules_changed()


@transaction.atomic
def rule_apply_to_existing(*, actor, rule: WorkflowRule, ip: str | None = None) -> None:
    """The admin's "apply to existing records" for a time-based rule: due times already past fire too (on
    beat's next minute), once each."""
    from crm.automation.rule_tasks import schedule_existing_task

    if not rule.is_active or rule.current_version is None or rule.current_version.trigger != Trigger.TIME_BASED:
        raise ValidationError(_("Only an active time-based rule can be applied to existing records."))
    _audit(actor, rule, ip, {"applied_to_existing": True})
    rule_id = rule.pk
    transaction.on_commit(lambda: schedule_existing_task.delay(rule_id, True), robust=True)
