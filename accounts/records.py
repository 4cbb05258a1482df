"""How accounts and contacts take part in the platform's shared machinery: their lists (columns, filters,
search, views, export), duplicate rules, merge and import. Registered from AccountsConfig.ready()."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.filters import ContactFilter
from crm.lists.columns import money_cell
from crm.lists.spec import ListSpec, View

ACCOUNT_LIST = ListSpec(
    columns=("name", "account_type", "industry", "billing_city", "billing_country", "phone", "owner", "created_at"),
    optional_columns=("website", "parent", "fax", "employees", "annual_revenue", "rating", "billing_street",
                      "billing_state", "billing_postal_code", "shipping_street", "shipping_city", "shipping_state",
                      "shipping_postal_code", "shipping_country", "description", "updated_at"),
    default_sort="name",
    search_fields=("name", "website", "phone"),
    filters=("account_type", "industry", "rating", "billing_country", "owner", "parent", "employees", "annual_revenue",
             "created_at"),
    views=(View("mine", _("My accounts"), "mine=1"),
           View("customers", _("Customers"), "account_type=customer"),
           View("partners", _("Partners and resellers"), "account_type=partner")),
    export_fields=("name", "account_type", "industry", "parent", "website", "phone", "fax", "billing_street",
                   "billing_city", "billing_state", "billing_postal_code", "billing_country", "shipping_street",
                   "shipping_city", "shipping_state", "shipping_postal_code", "shipping_country", "employees",
                   "annual_revenue", "currency", "rating", "description", "owner", "created_at"),
    cells={"annual_revenue": money_cell("annual_revenue", "currency")},
    load=("name", "currency"),
    create_label=_("New account"),
    count_text=ngettext_lazy("%(n)s account", "%(n)s accounts", "count"),
    count_capped=_("More than %(n)s accounts: filter or search to narrow the list."),
    empty_text=_("No accounts match."),
)

CONTACT_LIST = ListSpec(
    columns=("last_name", "first_name", "account", "title", "email", "phone", "owner", "created_at"),
    optional_columns=("salutation", "department", "mobile", "secondary_email", "reports_to", "mailing_street",
                      "mailing_city", "mailing_state", "mailing_postal_code", "mailing_country", "birthdate",
                      "preferred_language", "email_opt_in", "email_opt_out", "do_not_call", "description",
                      "updated_at"),
    default_sort="last_name",
    search_fields=("first_name", "last_name", "email"),
    # preferred_language: a choice of languages by name (ContactFilter), not a box for a code.
    filters=("account", "owner", "title", "department", "mailing_country", "email_opt_in", "email_opt_out",
             "do_not_call", "created_at"),
    filterset=ContactFilter,
    views=(View("mine", _("My contacts"), "mine=1"),
           View("opted_in", _("Opted in to email"), "email_opt_in=true")),
    export_fields=("salutation", "first_name", "last_name", "title", "department", "account", "email",
                   "secondary_email", "phone", "mobile", "mailing_street", "mailing_city", "mailing_state",
                   "mailing_postal_code", "mailing_country", "birthdate", "preferred_language", "email_opt_in",
                   "email_opt_in_at", "email_opt_in_source", "email_opt_out", "email_opt_out_at",
                   "email_opt_out_source", "do_not_call", "do_not_call_at", "do_not_call_source", "description",
                   "owner", "created_at"),
    load=("first_name", "last_name"),
    create_label=_("New contact"),
    count_text=ngettext_lazy("%(n)s contact", "%(n)s contacts", "count"),
    count_capped=_("More than %(n)s contacts: filter or search to narrow the list."),
    empty_text=_("No contacts match."),
    # The shared list, with the vCard export of the ticked rows beside its bulk actions.
    template="accounts/contact_list.html",
)


# --- duplicates, merge, import ------------------------------------------------------------------------------

ACCOUNT_FIELDS = ("name", "account_type", "industry", "parent", "website", "phone", "fax", "billing_street",
                  "billing_city", "billing_state", "billing_postal_code", "billing_country", "shipping_street",
                  "shipping_city", "shipping_state", "shipping_postal_code", "shipping_country", "employees",
                  "annual_revenue", "currency", "rating", "description", "owner")
CONTACT_FIELDS = ("salutation", "first_name", "last_name", "title", "department", "account", "reports_to", "email",
                  "secondary_email", "phone", "mobile", "mailing_street", "mailing_city", "mailing_state",
                  "mailing_postal_code", "mailing_country", "birthdate", "preferred_language", "email_opt_in",
                  "email_opt_out", "do_not_call", "description", "owner")
# A file names its contacts' accounts; whom they report to is set in the CRM.
CONTACT_IMPORT_FIELDS = tuple(n for n in CONTACT_FIELDS if n != "reports_to")
CONSENT_COLUMNS = tuple(f"{flag}_{part}" for flag in ("email_opt_in", "email_opt_out", "do_not_call")
                        for part in ("at", "source"))


def account_duplicates():
    from crm.core.duplicates import DuplicateSpec

    return DuplicateSpec(phones=("phone",), country="billing_country", similar=("name",))


def contact_duplicates():
    from crm.core.duplicates import DuplicateSpec

    return DuplicateSpec(email="email", phones=("phone", "mobile"), country="mailing_country",
                         similar=("last_name", "first_name"))


def account_merge():
    from accounts.services import account_merge_before
    from crm.core.merge import MergeSpec

    return MergeSpec(fields=ACCOUNT_FIELDS, before=account_merge_before)


def contact_merge():
    from accounts.services import contact_merge_before
    from crm.core.merge import MergeSpec

    return MergeSpec(fields=CONTACT_FIELDS, before=contact_merge_before)


def account_import():
    from django.utils.translation import gettext_lazy

    from crm.core.vocabularies import INDUSTRY_ALIASES
    from crm.imports.spec import ImportSpec

    return ImportSpec(
        fields=ACCOUNT_FIELDS,
        concepts={"company": "name", "account_type": "account_type", "industry": "industry",
                  "parent_account": "parent", "website": "website", "phone": "phone", "fax": "fax",
                  "street": "billing_street", "city": "billing_city", "state": "billing_state",
                  "postal_code": "billing_postal_code", "country": "billing_country",
                  "shipping_street": "shipping_street", "shipping_city": "shipping_city",
                  "shipping_state": "shipping_state", "shipping_postal_code": "shipping_postal_code",
                  "shipping_country": "shipping_country", "employees": "employees",
                  "annual_revenue": "annual_revenue", "currency": "currency", "rating": "rating",
                  "description": "description", "owner": "owner"},
        required_any=("name",),
        related_by_name={"parent": "name"},
        value_aliases={"industry": INDUSTRY_ALIASES},
        title=gettext_lazy("Import accounts"),
        records_label=gettext_lazy("Back to accounts"),
    )


def _consent_on_create(values: dict, columns: set) -> None:
    """A new contact's consent flags that the file sets are stamped as given by the import, now."""
    from django.utils import timezone

    from accounts.models import CONSENT_FLAGS, ConsentSource

    if values.get("email_opt_out"):
        values["email_opt_in"] = False
    now = None
    for flag in CONSENT_FLAGS:
        if values.get(flag):
            now = now or timezone.now()
            values[f"{flag}_at"], values[f"{flag}_source"] = now, ConsentSource.IMPORT


def _consent_after_import(*, job, actor, created, updated, assigned) -> None:
    """Updated contacts whose consent flags the file changed get the time and source of the change: the state
    before is the history row before the one the import wrote. Set-wise: one read and one write per flag."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import CONSENT_FLAGS, ConsentSource, Contact
    from crm.core.bulk import int_array, pk_in

    flags = [f for f in CONSENT_FLAGS if f in set((job.mapping or {}).values())]
    if not updated or not flags:
        return
    history = Contact.history.model._meta.db_table
    columns = ", ".join(f'"{f}"' for f in CONSENT_FLAGS)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, {columns} FROM (SELECT id, {columns}, row_number() OVER (PARTITION BY id ORDER BY '
            f'history_id DESC) AS n FROM "{history}" WHERE id = ANY(%s::bigint[])) AS t WHERE n = 2', [int_array(updated)])
        before = {row[0]: dict(zip(CONSENT_FLAGS, row[1:])) for row in cursor.fetchall()}
    now = timezone.now()
    current = Contact._base_manager.filter(pk_in(Contact, updated)).values("pk", *CONSENT_FLAGS)
    changed: dict[str, list[int]] = {flag: [] for flag in CONSENT_FLAGS}
    withdrawn = []
    for row in current:
        earlier = before.get(row["pk"])
        for flag in flags:
            if earlier is None and row[flag] or earlier is not None and earlier[flag] != row[flag]:
                changed[flag].append(row["pk"])
        if row["email_opt_out"] and row["email_opt_in"] and row["pk"] in changed["email_opt_out"]:
            withdrawn.append(row["pk"])
    if withdrawn:
        Contact._base_manager.filter(pk_in(Contact, withdrawn)).update(email_opt_in=False)
        changed["email_opt_in"] = sorted(set(changed["email_opt_in"]) | set(withdrawn))
    for flag, ids in changed.items():
        if ids:
            Contact._base_manager.filter(pk_in(Contact, ids)).update(**{f"{flag}_at": now,
                                                                          f"{flag}_source": ConsentSource.IMPORT})


def contact_import():
    from django.utils.translation import gettext_lazy

    from crm.imports.spec import ImportSpec

    return ImportSpec(
        fields=CONTACT_IMPORT_FIELDS,
        concepts={"salutation": "salutation", "first_name": "first_name", "last_name": "last_name", "title": "title",
                  "department": "department", "company": "account", "email": "email",
                  "secondary_email": "secondary_email", "phone": "phone", "mobile": "mobile",
                  "street": "mailing_street", "city": "mailing_city", "state": "mailing_state",
                  "postal_code": "mailing_postal_code", "country": "mailing_country", "birthdate": "birthdate",
                  "preferred_language": "preferred_language", "email_opt_in": "email_opt_in",
                  "email_opt_out": "email_opt_out", "do_not_call": "do_not_call", "description": "description",
                  "owner": "owner"},
        required_any=("last_name",),
        # A contacts file names its accounts: matched by name among the accounts the user sees, else created.
        related_by_name={"account": "name"},
        create_related=("account",),
        complete=_consent_on_create,
        row_fields=("email_opt_in", *CONSENT_COLUMNS),
        after_import=_consent_after_import,
        supports_campaign=True,
        vcard=True,
        title=gettext_lazy("Import contacts"),
        records_label=gettext_lazy("Back to contacts"),
    )
