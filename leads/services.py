"""Writes to leads: create, update, delete. Each is atomic, takes the acting
user, keeps the duplicate keys and emits an event."""
from __future__ import annotations

import functools

import phonenumbers
from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.events import emit
from crm.core.services import record_changes
from crm.customization.models import PicklistValue
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, Lead, LifecycleStage, LifecycleTransition


class LeadReadOnly(Exception):
    """A converted lead cannot change."""


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()


def normalize_phone(value: str, country: str = "") -> str:
    if not value or not value.strip():
        return ""
    return _e164(value, (country or "").strip().upper() or "FI")


@functools.lru_cache(maxsize=65536)  # parsing costs ~0.1 ms; imports and duplicate checks repeat numbers
def _e164(value: str, country: str) -> str:
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_possible_number(number) else ""


def duplicate_keys(email: str, phone: str, mobile: str, country: str) -> tuple[str, str]:
    """The normalized email and phone a lead is matched on: its phone, or its mobile when it has none."""
    return normalize_email(email), normalize_phone(phone if (phone or "").strip() else mobile, country)


def _keys(lead: Lead) -> None:
    lead.email_normalized, lead.phone_normalized = duplicate_keys(lead.email, lead.phone, lead.mobile, lead.country)


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
        touch_add(lead=lead, campaign=campaign, channel=channel)
    emit("lead.created", lead, actor=actor)
    notify_owner(lead, actor if getattr(actor, "is_authenticated", False) else None)
    return lead


def touch_add(*, lead: Lead, campaign, channel: str, at=None):
    """Record a campaign touch; the first one is the lead's first touch, the newest its last touch."""
    from django.utils import timezone

    from campaigns.models import Touch

    touch = Touch.objects.create(lead=lead, campaign=campaign, channel=channel, touched_at=at or timezone.now())
    updates = {"last_touch_campaign": campaign}
    if lead.first_touch_campaign_id is None:
        updates["first_touch_campaign"] = campaign
    Lead.objects.filter(pk=lead.pk).update(**updates)
    for name, value in updates.items():
        setattr(lead, name, value)
    return touch


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


@transaction.atomic
def lead_delete(*, actor, lead: Lead) -> None:
    emit("lead.deleted", lead, actor=actor)
    lead._history_user = actor
    lead.delete()


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
def leads_bulk_update(*, actor, ids, owner=None, status=None) -> int:
    """Assign and/or change the status of the given leads the actor may edit; returns how many changed."""
    from leads.assignment import notify_owner

    count = 0
    for lead in _visible_for_bulk(actor, ids, "edit").select_for_update(of=("self",)).select_related("owner"):
        before = _snapshot(lead)
        if owner is not None:
            lead.owner = owner
        if status is not None:
            lead.status = status
        if _snapshot(lead) == before:
            continue
        lead_update(actor=actor, lead=lead, before=before)
        if owner is not None and before["owner_id"] != owner.pk:
            notify_owner(lead, actor)
        count += 1
    return count


@transaction.atomic
def leads_bulk_delete(*, actor, ids) -> int:
    if not actor.can("leads.lead", "delete"):
        return 0
    count = 0
    for lead in Lead.objects.visible_to(actor, "edit").filter(pk__in=ids):
        lead_delete(actor=actor, lead=lead)
        count += 1
    return count


@transaction.atomic
def leads_bulk_add_to_campaign(*, actor, ids, campaign) -> int:
    count = 0
    for lead in _visible_for_bulk(actor, ids, "edit"):
        touch_add(lead=lead, campaign=campaign, channel="manual")
        emit("lead.touched", lead, actor=actor, data={"campaign": campaign.pk})
        count += 1
    return count
