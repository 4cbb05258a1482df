"""Writes to leads: create, update, delete. Each is atomic, takes the acting
user, keeps the duplicate keys and emits an event."""
from __future__ import annotations

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
    try:
        number = phonenumbers.parse(value, (country or "FI").upper())
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_possible_number(number) else ""


def _keys(lead: Lead) -> None:
    lead.email_normalized = normalize_email(lead.email)
    lead.phone_normalized = normalize_phone(lead.phone or lead.mobile, lead.country)


def _snapshot(lead: Lead) -> dict:
    data = {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields if f.attname not in ("updated_at",)}
    data["custom"] = dict(lead.custom or {})
    return data


@transaction.atomic
def lead_create(*, actor, lead: Lead) -> Lead:
    """Save a new, validated (unsaved) lead built by a form, an import or the web form."""
    if lead.status_id is None:
        lead.status = PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_default=True, is_active=True).first()
    if lead.owner_id is None and getattr(actor, "is_authenticated", False):
        lead.owner = actor
    lead.created_by = actor if getattr(actor, "is_authenticated", False) else None
    _keys(lead)
    lead._history_user = lead.created_by
    lead.save()
    LifecycleTransition.objects.create(lead=lead, to_stage=lead.lifecycle_stage, actor=lead.created_by)
    emit("lead.created", lead, actor=actor)
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


@transaction.atomic
def lead_delete(*, actor, lead: Lead) -> None:
    emit("lead.deleted", lead, actor=actor)
    lead._history_user = actor
    lead.delete()


def source_choices():
    return PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, is_active=True)


def status_choices():
    return PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_active=True)
