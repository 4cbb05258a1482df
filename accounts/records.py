"""How accounts and contacts take part in the platform's shared machinery: their
lists (columns, filters, search, views, export). Registered from AccountsConfig.ready()."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from crm.lists.columns import money_cell
from crm.lists.spec import ListSpec, View

ACCOUNT_LIST = ListSpec(
    columns=("name", "account_type", "industry", "billing_city", "billing_country", "phone", "owner", "created_at"),
    optional_columns=("website", "parent", "employees", "annual_revenue", "rating", "billing_street", "billing_state",
                      "billing_postal_code", "description", "updated_at"),
    default_sort="name",
    search_fields=("name", "website", "phone"),
    filters=("account_type", "industry", "rating", "billing_country", "owner", "parent", "employees", "annual_revenue",
             "created_at"),
    views=(View("mine", _("My accounts"), "mine=1"),
           View("customers", _("Customers"), "account_type=customer")),
    export_fields=("name", "account_type", "industry", "parent", "website", "phone", "billing_street", "billing_city",
                   "billing_state", "billing_postal_code", "billing_country", "employees", "annual_revenue", "rating",
                   "description", "owner", "created_at"),
    cells={"annual_revenue": money_cell("annual_revenue")},
    load=("name",),
    create_label=_("New account"),
    count_text=ngettext_lazy("%(n)s account", "%(n)s accounts", "count"),
    count_capped=_("More than %(n)s accounts: filter or search to narrow the list."),
    empty_text=_("No accounts match."),
)

CONTACT_LIST = ListSpec(
    columns=("last_name", "first_name", "account", "title", "email", "phone", "owner", "created_at"),
    optional_columns=("salutation", "department", "mobile", "reports_to", "mailing_street", "mailing_city",
                      "mailing_postal_code", "mailing_country", "birthdate", "preferred_language", "email_opt_out",
                      "do_not_call", "updated_at"),
    default_sort="last_name",
    search_fields=("first_name", "last_name", "email"),
    filters=("account", "owner", "title", "mailing_country", "email_opt_out", "do_not_call", "created_at"),
    views=(View("mine", _("My contacts"), "mine=1"),),
    export_fields=("salutation", "first_name", "last_name", "title", "department", "account", "email", "phone", "mobile",
                   "mailing_street", "mailing_city", "mailing_postal_code", "mailing_country", "birthdate",
                   "preferred_language", "email_opt_out", "do_not_call", "owner", "created_at"),
    load=("first_name", "last_name"),
    create_label=_("New contact"),
    count_text=ngettext_lazy("%(n)s contact", "%(n)s contacts", "count"),
    count_capped=_("More than %(n)s contacts: filter or search to narrow the list."),
    empty_text=_("No contacts match."),
)


# --- duplicates, merge, import ------------------------------------------------------------------------------

ACCOUNT_FIELDS = ("name", "account_type", "industry", "parent", "website", "phone", "billing_street", "billing_city",
                  "billing_state", "billing_postal_code", "billing_country", "employees", "annual_revenue", "rating",
                  "description", "owner")
CONTACT_FIELDS = ("salutation", "first_name", "last_name", "title", "department", "account", "reports_to", "email",
                  "phone", "mobile",
                  "mailing_street", "mailing_city", "mailing_postal_code", "mailing_country", "birthdate",
                  "preferred_language", "email_opt_out", "do_not_call", "owner")
# A file names its contacts' accounts; whom they report to is set in the CRM.
CONTACT_IMPORT_FIELDS = tuple(n for n in CONTACT_FIELDS if n != "reports_to")


def account_duplicates():
    from crm.core.duplicates import DuplicateSpec

    return DuplicateSpec(phones=("phone",), country="billing_country", similar=("name",))


def contact_duplicates():
    from crm.core.duplicates import DuplicateSpec

    return DuplicateSpec(email="email", phones=("phone", "mobile"), country="mailing_country",
                         similar=("last_name", "first_name"))


def account_merge():
    from crm.core.merge import MergeSpec

    return MergeSpec(fields=ACCOUNT_FIELDS)


def contact_merge():
    from crm.core.merge import MergeSpec

    return MergeSpec(fields=CONTACT_FIELDS)


def account_import():
    from django.utils.translation import gettext_lazy

    from crm.core.vocabularies import INDUSTRY_ALIASES
    from crm.imports.spec import ImportSpec

    return ImportSpec(
        fields=ACCOUNT_FIELDS,
        concepts={"company": "name", "account_type": "account_type", "industry": "industry",
                  "parent_account": "parent", "website": "website", "phone": "phone", "street": "billing_street",
                  "city": "billing_city", "state": "billing_state", "postal_code": "billing_postal_code",
                  "country": "billing_country", "employees": "employees", "annual_revenue": "annual_revenue",
                  "rating": "rating", "description": "description", "owner": "owner"},
        required_any=("name",),
        related_by_name={"parent": "name"},
        value_aliases={"industry": INDUSTRY_ALIASES},
        title=gettext_lazy("Import accounts"),
        records_label=gettext_lazy("Back to accounts"),
    )


def contact_import():
    from django.utils.translation import gettext_lazy

    from crm.imports.spec import ImportSpec

    return ImportSpec(
        fields=CONTACT_IMPORT_FIELDS,
        concepts={"salutation": "salutation", "first_name": "first_name", "last_name": "last_name", "title": "title",
                  "department": "department", "company": "account", "email": "email", "phone": "phone",
                  "mobile": "mobile", "street": "mailing_street", "city": "mailing_city",
                  "postal_code": "mailing_postal_code", "country": "mailing_country", "birthdate": "birthdate",
                  "preferred_language": "preferred_language", "email_opt_out": "email_opt_out",
                  "do_not_call": "do_not_call", "owner": "owner"},
        required_any=("last_name",),
        # A contacts file names its accounts: matched by name among the accounts the user sees, else created.
        related_by_name={"account": "name"},
        create_related=("account",),
        supports_campaign=True,
        vcard=True,
        title=gettext_lazy("Import contacts"),
        records_label=gettext_lazy("Back to contacts"),
    )
