"""Reads of accounts, contacts and contact roles, always through visibility: what other apps use (lead
conversion, opportunities), the account hierarchy, the roles on a record page, the merged timeline's related
records and the people a vCard export writes."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from accounts.models import Account, Contact, ContactRole
from crm.core import duplicates

# How far the hierarchy is followed: deep enough for any real group of companies, and a bound on the work a
# page does if data ever held a loop.
MAX_DEPTH = 12
TREE_LIMIT = 500
# The merged timeline follows at most this many of an account's contacts (the newest first).
TIMELINE_RELATED_LIMIT = 2000


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


# --- the hierarchy -------------------------------------------------------------------------------------------

def _ancestors(account_id: int) -> list[tuple[int, str]]:
    """(id, name) of the account's parent, its parent's parent and so on up to the top, nearest first."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH RECURSIVE up (id, name, parent_id, depth) AS ('
            f'  SELECT id, name, parent_id, 0 FROM "{table}" WHERE id = %s'
            f'  UNION ALL SELECT a.id, a.name, a.parent_id, up.depth + 1 FROM "{table}" a'
            f'  JOIN up ON a.id = up.parent_id WHERE up.depth < %s'
            f') SELECT id, name FROM up WHERE depth > 0 ORDER BY depth', [account_id, MAX_DEPTH * 4])
        return cursor.fetchall()


def ancestor_ids(*, account_id: int) -> list[int]:
    """The account's parent, its parent's parent and so on up to the top, nearest first (one query)."""
    return [pk for pk, _name in _ancestors(account_id)]


def _descendants(account_id: int) -> list[tuple[int, str, int]]:
    """(id, name, parent id) of the account's subsidiaries at every level, breadth first, at most TREE_LIMIT."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH RECURSIVE down (id, name, parent_id, depth) AS ('
            f'  SELECT id, name, parent_id, 1 FROM "{table}" WHERE parent_id = %s'
            f'  UNION ALL SELECT a.id, a.name, a.parent_id, down.depth + 1 FROM "{table}" a'
            f'  JOIN down ON a.parent_id = down.id WHERE down.depth < %s'
            f') SELECT id, name, parent_id FROM down ORDER BY depth, name, id LIMIT %s',
            [account_id, MAX_DEPTH, TREE_LIMIT])
        return cursor.fetchall()


@dataclass
class TreeNode:
    id: int
    name: str
    visible: bool
    current: bool = False
    children: list[TreeNode] = field(default_factory=list)


@dataclass
class Hierarchy:
    ancestors: list[TreeNode]  # the top first; accounts the reader may not open are kept nameless
    root: TreeNode  # the account itself, with the subsidiaries the reader may open below it
    subtree_ids: list[int]  # the account and every subsidiary the reader may open (what roll-ups add up)
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not self.ancestors and not self.root.children


def hierarchy(*, user, account: Account) -> Hierarchy:
    """The account's place in its group for `user`: its ancestors and its subsidiaries. A subsidiary the user may
    not open is left out and its own subsidiaries hang from the nearest one they may open; an ancestor they may
    not open keeps its place but not its name. Three queries at most, however large the group."""
    up = _ancestors(account.pk) if account.parent_id else []
    down = _descendants(account.pk)
    ids = {pk for pk, _name in up} | {row[0] for row in down}
    visible = set(Account.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    ancestors = [TreeNode(pk, name if pk in visible else "", pk in visible) for pk, name in reversed(up)]
    root = TreeNode(account.pk, account.name, True, current=True)
    nodes: dict[int, TreeNode] = {account.pk: root}
    attach_to: dict[int, int] = {account.pk: account.pk}  # an account id → the shown node its children join
    for pk, name, parent_id in down:  # breadth first: a parent comes before its children
        host = attach_to.get(parent_id, account.pk)
        if pk in visible:
            node = nodes[pk] = TreeNode(pk, name, True)
            nodes[host].children.append(node)
            attach_to[pk] = pk
        else:
            attach_to[pk] = host
    subtree = [account.pk] + [pk for pk, _name, _parent in down if pk in visible]
    return Hierarchy(ancestors, root, subtree, truncated=len(down) >= TREE_LIMIT)


# --- contact roles -------------------------------------------------------------------------------------------

def account_roles(*, user, account: Account) -> list[ContactRole]:
    """The roles contacts play on `account`, of the contacts `user` may see: primary first, then by name."""
    contacts = Contact.objects.visible_to(user).values("pk")
    return list(ContactRole.objects.filter(account=account, contact__in=contacts).select_related("contact")
                .only("id", "role", "is_primary", "account_id", "contact__id", "contact__first_name",
                      "contact__last_name", "contact__account_id")
                .order_by("-is_primary", "contact__last_name", "contact__first_name", "role", "id"))


def contact_roles(*, user, contact: Contact) -> list[ContactRole]:
    """The roles `contact` plays on the accounts `user` may see."""
    accounts = Account.objects.visible_to(user).values("pk")
    return list(ContactRole.objects.filter(contact=contact, account__in=accounts).select_related("account")
                .only("id", "role", "is_primary", "contact_id", "account__id", "account__name")
                .order_by("account__name", "role", "id"))


def roles_by_contact(*, account: Account, contact_ids) -> dict[int, list[ContactRole]]:
    """{contact id: their roles on `account`} for a page of contacts (one query)."""
    result: dict[int, list[ContactRole]] = {}
    for role in ContactRole.objects.filter(account=account, contact_id__in=list(contact_ids)).order_by("role", "id"):
        result.setdefault(role.contact_id, []).append(role)
    return result


# --- the merged timeline's related records -------------------------------------------------------------------

def account_contact_labels(*, user, account: Account, limit: int = TIMELINE_RELATED_LIMIT) -> dict[int, str]:
    """{id: name} of the account's contacts `user` may see."""
    rows = (Contact.objects.visible_to(user).filter(account=account).order_by("-pk")
            .values_list("pk", "first_name", "last_name")[:limit])
    return {pk: f"{first} {last}".strip() for pk, first, last in rows}


# --- vCard export --------------------------------------------------------------------------------------------

VCARD_FIELDS = ("salutation", "first_name", "last_name", "title", "department", "account", "email",
                "secondary_email", "phone", "mobile", "mailing_street", "mailing_city", "mailing_state",
                "mailing_postal_code", "mailing_country", "birthdate", "preferred_language", "description")


def vcard_people(*, user, ids, hidden: set[str]) -> list[dict]:
    """The neutral person fields (crm.imports.vcard's names) of the contacts among `ids` that `user` may see,
    without the fields hidden from them, by name. Two queries however many contacts."""
    shown = [f for f in VCARD_FIELDS if f not in hidden]
    columns = ["pk", "updated_at", *(f"{f}_id" if f == "account" else f for f in shown)]
    rows = list(Contact.objects.visible_to(user).filter(pk__in=list(ids)).order_by("last_name", "first_name", "pk")
                .values(*columns))
    account_names = {}
    if "account" in shown:
        account_names = dict(Account.objects.filter(pk__in={r["account_id"] for r in rows} - {None})
                             .values_list("pk", "name"))
    people = []
    for row in rows:
        people.append({
            "uid": row["pk"], "revision": row["updated_at"],
            "salutation": row.get("salutation", ""), "first_name": row.get("first_name", ""),
            "last_name": row.get("last_name", ""), "title": row.get("title", ""),
            "department": row.get("department", ""), "company": account_names.get(row.get("account_id"), ""),
            "email": row.get("email", ""), "secondary_email": row.get("secondary_email", ""),
            "phone": row.get("phone", ""), "mobile": row.get("mobile", ""), "street": row.get("mailing_street", ""),
            "city": row.get("mailing_city", ""), "state": row.get("mailing_state", ""),
            "postal_code": row.get("mailing_postal_code", ""), "country": row.get("mailing_country", ""),
            "birthdate": row.get("birthdate"), "preferred_language": row.get("preferred_language", ""),
            "description": row.get("description", ""),
        })
    return people
