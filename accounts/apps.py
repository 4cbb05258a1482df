from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from crm.core.demo import register_demo

        register_demo("accounts", "accounts.demo.seed", after=('access',))
        from crm.core import records

        from .models import Account, Contact
        from .records import (ACCOUNT_LIST, CONTACT_LIST, account_duplicates, account_import, account_merge,
                              contact_duplicates, contact_import, contact_merge)

        from crm.activities.merged import register_related
        from crm.core.panels import register_panel

        from .panels import account_contacts, account_related, contact_related

        register_panel("accounts.account", "contacts", "lists/_related.html", account_contacts, order=10)
        # The 360° timeline of an account covers its contacts and opportunities; a contact's, its opportunities.
        register_related("accounts.account", "accounts", account_related)
        register_related("accounts.contact", "accounts", contact_related)
        records.register(Account, slug="accounts", list=ACCOUNT_LIST, duplicates=account_duplicates(),
                         imports=account_import(), merge=account_merge(),
                         history_exclude=frozenset({"phone_normalized"}),
                         list_url_name="accounts:list", detail_url_name="accounts:detail",
                         create_url_name="accounts:create", icon="building",
                         search_fields=("name",), fields=("name", "account_type", "industry", "parent", "website",
                                                          "phone", "billing_city", "billing_country",
                                                          "shipping_country", "employees", "annual_revenue",
                                                          "rating", "owner"), nav_order=20)
        records.register(Contact, slug="contacts", list=CONTACT_LIST, duplicates=contact_duplicates(),
                         imports=contact_import(), merge=contact_merge(), list_url_name="contacts:list",
                         detail_url_name="contacts:detail", create_url_name="contacts:create",
                         icon="person-lines-fill", search_fields=("first_name", "last_name", "email"),
                         fields=("first_name", "last_name", "title", "department", "account", "email", "phone",
                                 "mobile", "mailing_city", "mailing_country", "preferred_language", "email_opt_in",
                                 "email_opt_out", "do_not_call", "owner"), nav_order=30,
                         history_exclude=frozenset({"email_normalized", "phone_normalized"}))
