"""Writes to accounts and contacts: each atomic, taking the acting user, keeping the duplicate keys and
emitting an event. (Forms and inline edit arrive with the accounts issue; lead conversion uses these.)"""
from __future__ import annotations

from django.db import transaction

from accounts.models import Account, Contact, ContactRole
from crm.core import records
from crm.core.events import emit


@transaction.atomic
def account_create(*, actor, data: dict | None = None, **fields) -> Account:
    """A new account from field values (validated here as the model's fields demand)."""
    account = Account(**fields)
    records.for_model(Account).duplicates.set_keys(account)
    account.created_by = actor if getattr(actor, "is_authenticated", False) else None
    account._history_user = account.created_by
    account.full_clean()
    account.save()
    emit("account.created", account, actor=actor, data=data)
    return account


@transaction.atomic
def contact_create(*, actor, data: dict | None = None, **fields) -> Contact:
    """A new contact from field values."""
    contact = Contact(**fields)
    records.for_model(Contact).duplicates.set_keys(contact)
    contact.created_by = actor if getattr(actor, "is_authenticated", False) else None
    contact._history_user = contact.created_by
    contact.full_clean()
    contact.save()
    emit("contact.created", contact, actor=actor, data=data)
    return contact


@transaction.atomic
def contact_account_set(*, actor, contact: Contact, account: Account) -> Contact:
    contact.account = account
    contact._history_user = actor
    contact.save(update_fields=["account", "updated_at"])
    emit("contact.updated", contact, actor=actor, changes={"account_id": [None, account.pk]})
    return contact


def contact_role_add(*, contact: Contact, account: Account, role: str) -> ContactRole:
    role_row, _created = ContactRole.objects.get_or_create(contact=contact, account=account, role=role)
    return role_row
