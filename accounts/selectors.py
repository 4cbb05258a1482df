"""Reads of accounts and contacts other apps use, always through visibility."""
from __future__ import annotations

from accounts.models import Account, Contact
from crm.core import duplicates


def conversion_candidates(*, user, company: str, email: str, phone: str = "", country: str = "") -> tuple[list, list]:
    """The accounts a lead's company may already be (similar name, same phone) and the contacts its person may
    already be (same email), by the types' own duplicate rules, among the records `user` may see."""
    accounts = duplicates.find(Account, {"name": company, "phone": phone, "billing_country": country}) if company.strip() else []
    contacts = duplicates.find(Contact, {"email": email}) if email.strip() else []
    visible_accounts, _hidden = duplicates.visible_split(user, Account, accounts)
    visible_contacts, _hidden = duplicates.visible_split(user, Contact, contacts)
    return [m.record for m in visible_accounts][:5], [m.record for m in visible_contacts][:5]


def visible_ids(*, user, kind: str, ids) -> set[int]:
    """Which of the accounts (kind "account") or contacts ("contact") `ids` the user may open."""
    model = {"account": Account, "contact": Contact}[kind]
    ids = [i for i in ids if i is not None]
    if not ids:
        return set()
    return set(model.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def first_accounts(*, limit: int) -> list:
    """The oldest accounts with their first contact (the demo's opportunities are theirs)."""
    return [(account, account.contacts.order_by("pk").first()) for account in Account.objects.order_by("pk")[:limit]]
