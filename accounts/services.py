"""Writes to accounts, contacts and contact roles: each atomic, taking the acting user, keeping the duplicate
keys, refusing hierarchy loops, stamping consent changes with their time and source, and emitting an event.
Lead conversion, imports, merges, the forms and inline edit all come through here."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CONSENT_FLAGS, Account, ConsentSource, Contact, ContactRole
from crm.core import records
from crm.core.events import emit
from crm.core.services import record_changes, record_delete


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def snapshot(record) -> dict:
    """The stored values of an account or contact, to diff after an edit (`account_update`, `contact_update`)."""
    data = {f.attname: getattr(record, f.attname) for f in type(record)._meta.concrete_fields
            if f.attname != "updated_at"}
    data["custom"] = dict(record.custom or {})
    return data


# --- accounts ------------------------------------------------------------------------------------------------

def hierarchy_loop(*, account_id: int | None, parent_id: int | None) -> bool:
    """Whether making `parent_id` the parent of `account_id` would close a loop (the account would be its own
    ancestor): the parent is the account itself or one of its subsidiaries."""
    if parent_id is None or account_id is None:
        return False
    if parent_id == account_id:
        return True
    from accounts.selectors import ancestor_ids

    return account_id in ancestor_ids(account_id=parent_id)


def _check_parent(account: Account) -> None:
    if hierarchy_loop(account_id=account.pk, parent_id=account.parent_id):
        raise ValidationError({"parent": _("An account cannot be its own parent or sit under one of its own "
                                           "subsidiaries.")})


@transaction.atomic
def account_create(*, actor, data: dict | None = None, **fields) -> Account:
    """A new account from field values (validated here as the model's fields demand)."""
    account = Account(**fields)
    records.for_model(Account).duplicates.set_keys(account)
    account.created_by = _actor(actor)
    if account.owner_id is None:
        account.owner = account.created_by
    account._history_user = account.created_by
    account.full_clean()
    account.save()
    emit("account.created", account, actor=actor, data=data)
    return account


@transaction.atomic
def account_update(*, actor, account: Account, before: dict) -> Account:
    """Save the changes made to `account` (a form's instance); `before` is `snapshot(account)` from before the
    edit. A new parent that would make the account its own ancestor is refused (ValidationError)."""
    if account.parent_id != before.get("parent_id"):
        # Two people moving two accounts under each other at once: the second waits and then sees the loop.
        Account.objects.select_for_update().filter(pk__in=[account.pk, account.parent_id]).exists()
        _check_parent(account)
    records.for_model(Account).duplicates.set_keys(account)
    account._history_user = _actor(actor)
    account.full_clean()
    account.save()
    changes = record_changes(before, snapshot(account))
    custom_changed = changes.pop("custom", None) is not None
    if changes or custom_changed:
        emit("account.updated", account, actor=actor, changes=changes)
    return account


def account_delete(*, actor, account: Account) -> None:
    """Delete an account: its subsidiaries lose their parent, its contacts their account, its roles go."""
    record_delete(actor=actor, record=account)


# --- contacts ------------------------------------------------------------------------------------------------

def stamp_consent(contact: Contact, before: dict | None, *, source: str, when=None) -> list[str]:
    """Give each consent flag that changed (or, for a new contact, that is set) the time and source of the
    change; opting out of email withdraws an opt-in. Returns the flags stamped."""
    when = when or timezone.now()
    if contact.email_opt_out and (before is None or not before.get("email_opt_out")):
        contact.email_opt_in = False
    stamped = []
    for flag in CONSENT_FLAGS:
        value = getattr(contact, flag)
        changed = bool(value) if before is None else value != before.get(flag)
        if changed:
            setattr(contact, f"{flag}_at", when)
            setattr(contact, f"{flag}_source", source)
            stamped.append(flag)
    return stamped


@transaction.atomic
def contact_create(*, actor, data: dict | None = None, consent_source: str = ConsentSource.MANUAL,
                   **fields) -> Contact:
    """A new contact from field values; consent flags set on it are stamped with now and `consent_source`."""
    contact = Contact(**fields)
    records.for_model(Contact).duplicates.set_keys(contact)
    contact.created_by = _actor(actor)
    if contact.owner_id is None:
        contact.owner = contact.created_by
    stamp_consent(contact, None, source=consent_source)
    contact._history_user = contact.created_by
    contact.full_clean()
    contact.save()
    emit("contact.created", contact, actor=actor, data=data)
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, before: dict, consent_source: str = ConsentSource.MANUAL) -> Contact:
    """Save the changes made to `contact`; `before` is `snapshot(contact)` from before the edit. A consent flag
    that changed gets the time and `consent_source` of the change."""
    if contact.reports_to_id is not None and contact.reports_to_id == contact.pk:
        raise ValidationError({"reports_to": _("A contact cannot report to themselves.")})
    records.for_model(Contact).duplicates.set_keys(contact)
    stamp_consent(contact, before, source=consent_source)
    contact._history_user = _actor(actor)
    contact.full_clean()
    contact.save()
    changes = record_changes(before, snapshot(contact))
    custom_changed = changes.pop("custom", None) is not None
    if changes or custom_changed:
        emit("contact.updated", contact, actor=actor, changes=changes)
    return contact


def contact_delete(*, actor, contact: Contact) -> None:
    record_delete(actor=actor, record=contact)


@transaction.atomic
def contact_account_set(*, actor, contact: Contact, account: Account) -> Contact:
    before = contact.account_id
    contact.account = account
    contact._history_user = actor
    contact.save(update_fields=["account", "updated_at"])
    emit("contact.updated", contact, actor=actor, changes={"account_id": [before, account.pk]})
    return contact


# --- contact roles -------------------------------------------------------------------------------------------

class RoleRefused(Exception):
    """The role cannot be given; the message says why, in the user's language."""


def _log_role(*, account: Account, actor, verb: str, subject: str, role: ContactRole) -> None:
    # The subject names the role, never the contact: everyone who may open the account reads its timeline,
    # and some of them may not see that contact (the contact's id is in the data).
    from crm.activities.services import activity_log

    activity_log(target=account, verb=verb, actor=actor, subject=subject,
                 data={"contact": role.contact_id, "role": role.role, "primary": role.is_primary})
    emit(f"account.{verb.rsplit('.', 1)[-1]}", account, actor=actor,
         data={"contact": role.contact_id, "role": role.role, "primary": role.is_primary})


@transaction.atomic
def contact_role_add(*, contact: Contact, account: Account, role: str, is_primary: bool = False,
                     actor=None) -> ContactRole:
    """Give `contact` the buying `role` on `account` (the same role twice is one role). As primary, it takes the
    place of the account's primary contact role."""
    from crm.core.vocabularies import BuyingRole

    if role not in BuyingRole.values:
        raise RoleRefused(_("Choose a role."))
    # The account's roles change one writer at a time: two people making two contacts primary at once would
    # otherwise meet the constraint instead of one taking the other's place.
    Account.objects.select_for_update().filter(pk=account.pk).exists()
    row, created = ContactRole.objects.get_or_create(contact=contact, account=account, role=role)
    if is_primary and not row.is_primary:
        ContactRole.objects.filter(account=account, is_primary=True).update(is_primary=False)
        row.is_primary = True
        row.save(update_fields=["is_primary"])
    if created or is_primary:
        subject = (_("Primary contact role given: %(role)s") if row.is_primary else
                   _("Contact role given: %(role)s")) % {"role": row.get_role_display()}
        _log_role(account=account, actor=actor, verb="account.role_added", subject=subject, role=row)
    return row


@transaction.atomic
def contact_role_make_primary(*, role: ContactRole, actor) -> ContactRole:
    Account.objects.select_for_update().filter(pk=role.account_id).exists()
    ContactRole.objects.filter(account_id=role.account_id, is_primary=True).exclude(pk=role.pk).update(is_primary=False)
    if not role.is_primary:
        role.is_primary = True
        role.save(update_fields=["is_primary"])
        _log_role(account=role.account, actor=actor, verb="account.role_primary", role=role,
                  subject=_("Primary contact role given: %(role)s") % {"role": role.get_role_display()})
    return role


@transaction.atomic
def contact_role_remove(*, role: ContactRole, actor) -> None:
    account, subject = role.account, _("Contact role removed: %(role)s") % {"role": role.get_role_display()}
    role.delete()
    _log_role(account=account, actor=actor, verb="account.role_removed", subject=subject, role=role)


# --- merge hooks (accounts/records.py MergeSpec) -------------------------------------------------------------

def account_merge_before(survivor: Account, other: Account) -> None:
    """Before the other account's rows move over: one primary contact role per account, so when both accounts
    have one the survivor's stays primary and the other's moves as an ordinary role."""
    if ContactRole.objects.filter(account=survivor, is_primary=True).exists():
        ContactRole.objects.filter(account=other, is_primary=True).update(is_primary=False)


def contact_merge_before(survivor: Contact, other: Contact) -> None:
    """Before the other contact's rows move over: a role both contacts have on an account stays the survivor's
    (the other's copy is dropped as a duplicate), primary if either was; consent picked from the other contact
    comes with the time and source it was given."""
    for theirs in ContactRole.objects.filter(contact=other, is_primary=True):
        mine = ContactRole.objects.filter(contact=survivor, account_id=theirs.account_id, role=theirs.role).first()
        if mine is not None:
            theirs.is_primary = False
            theirs.save(update_fields=["is_primary"])
            mine.is_primary = True
            mine.save(update_fields=["is_primary"])
    stored = Contact._base_manager.filter(pk=survivor.pk).values(*CONSENT_FLAGS).first() or {}
    for flag in CONSENT_FLAGS:
        if getattr(survivor, flag) != stored.get(flag):  # taken from the other contact
            setattr(survivor, f"{flag}_at", getattr(other, f"{flag}_at") or timezone.now())
            setattr(survivor, f"{flag}_source", getattr(other, f"{flag}_source") or ConsentSource.MERGE)
    if survivor.email_opt_out and survivor.email_opt_in:  # opted out on either record: the opt-out stands
        survivor.email_opt_in = False
        survivor.email_opt_in_at, survivor.email_opt_in_source = timezone.now(), ConsentSource.MERGE
