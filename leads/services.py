"""Writes to leads: create, update, delete. Each is atomic, takes the acting
user, keeps the duplicate keys and emits an event."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.events import emit
from crm.core.services import record_changes
from crm.customization.models import PicklistValue
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, Lead, LifecycleStage, LifecycleTransition


class LeadReadOnly(Exception):
    """A converted lead cannot change."""


def _keys(lead: Lead) -> None:
    """The normalised email and phone the duplicate rules match the lead on (its phone, else its mobile)."""
    from crm.core import records

    records.for_model(Lead).duplicates.set_keys(lead)


def _snapshot(lead: Lead) -> dict:
    data = {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields if f.attname not in ("updated_at",)}
    data["custom"] = dict(lead.custom or {})
    return data


@transaction.atomic
def lead_create(*, actor, lead: Lead, assign_by_rules: bool = False, campaign=None, channel: str = "manual") -> Lead:
    """Save a new, validated (unsaved) lead built by a form, an import or the web form.

    With `assign_by_rules` the first matching assignment rule names the owner (else the
    owner already set, else the actor). A campaign adds a touch (first and last touch)."""
    from leads.assignment import notify_owner, owner_by_rules

    if lead.status_id is None:
        lead.status = PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_default=True, is_active=True).first()
    if assign_by_rules:
        lead.owner = owner_by_rules(lead) or lead.owner
    if lead.owner_id is None and getattr(actor, "is_authenticated", False):
        lead.owner = actor
    lead.created_by = actor if getattr(actor, "is_authenticated", False) else None
    _keys(lead)
    lead._history_user = lead.created_by
    lead.save()
    LifecycleTransition.objects.create(lead=lead, to_stage=lead.lifecycle_stage, actor=lead.created_by)
    if campaign is not None:
        from campaigns.services import touch_add

        touch_add(record=lead, campaign=campaign, channel=channel, actor=actor)
    emit("lead.created", lead, actor=actor)
    notify_owner(lead, actor if getattr(actor, "is_authenticated", False) else None)
    return lead


@transaction.atomic
def lead_update(*, actor, lead: Lead, before: dict) -> Lead:
    """Save changes made to `lead` (a form's instance); `before` is `lead_snapshot()` taken before the edit."""
    if before.get("lifecycle_stage") == LifecycleStage.CONVERTED:
        raise LeadReadOnly(_("A converted lead cannot be changed."))
    _keys(lead)
    lead._history_user = actor
    lead.save()
    changes = record_changes(before, _snapshot(lead))
    changes.pop("custom", None)
    if changes or before.get("custom") != lead.custom:
        emit("lead.updated", lead, actor=actor, changes=changes)
    return lead


def lead_snapshot(lead: Lead) -> dict:
    return _snapshot(lead)


def lead_delete(*, actor, lead: Lead) -> None:
    from crm.core.services import record_delete

    record_delete(actor=actor, record=lead)


def source_choices():
    return PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, is_active=True)


def status_choices():
    return PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_active=True)


STAGE_ORDER = [LifecycleStage.NEW, LifecycleStage.MQL, LifecycleStage.SAL, LifecycleStage.SQL]


class TransitionRefused(Exception):
    """The lifecycle move is not allowed; the message says why, in the user's language."""


@transaction.atomic
def lead_stage_set(*, actor, lead: Lead, stage: str, reason: str = "") -> Lead:
    """Move a lead through new → MQL → SAL → SQL (forward or back), or mark it unqualified
    with a reason. SQL needs the qualification criteria the policy requires."""
    from leads.qualification import progress

    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.is_converted:
        raise TransitionRefused(_("A converted lead cannot change."))
    if stage == lead.lifecycle_stage:
        return lead
    if stage == LifecycleStage.CONVERTED:
        raise TransitionRefused(_("Use Convert to turn the lead into an account, a contact and an opportunity."))
    if stage == LifecycleStage.UNQUALIFIED:
        if not reason.strip():
            raise TransitionRefused(_("Say why the lead is unqualified."))
    elif stage not in STAGE_ORDER:
        raise TransitionRefused(_("Unknown lifecycle stage."))
    if stage == LifecycleStage.SQL:
        missing = progress(lead).missing_for_sql
        if missing:
            raise TransitionRefused(_("Qualification missing for SQL: %(items)s.")
                                    % {"items": ", ".join(str(i.criterion.label) for i in missing)})
    before = lead.lifecycle_stage
    lead.lifecycle_stage = stage
    lead.unqualified_reason = reason.strip() if stage == LifecycleStage.UNQUALIFIED else ""
    lead._history_user = actor
    lead.save(update_fields=["lifecycle_stage", "unqualified_reason", "updated_at"])
    LifecycleTransition.objects.create(lead=lead, from_stage=before, to_stage=stage, reason=lead.unqualified_reason,
                                       actor=actor)
    emit("lead.stage_changed", lead, actor=actor, changes={"lifecycle_stage": [before, stage]})
    return lead


def _visible_for_bulk(user, ids, action):
    return Lead.objects.visible_to(user, action).filter(pk__in=ids).exclude(lifecycle_stage=LifecycleStage.CONVERTED)


@transaction.atomic
def leads_status_set(*, actor, ids, status) -> int:
    """Give the leads among `ids` that the actor may edit (converted ones never change) a new status;
    returns how many changed."""
    count = 0
    for lead in _visible_for_bulk(actor, ids, "edit").select_for_update(of=("self",)):
        if lead.status_id == status.pk:
            continue
        before = _snapshot(lead)
        lead.status = status
        lead_update(actor=actor, lead=lead, before=before)
        count += 1
    return count
