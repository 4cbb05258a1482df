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

        from crm.core.panels import register_panel

        from .panels import account_contacts

        register_panel("accounts.account", "contacts", "lists/_related.html", account_contacts, order=10)
        records.register(Account, slug="accounts", list=ACCOUNT_LIST, duplicates=account_duplicates(),
                         imports=account_import(), merge=account_merge(),
                         history_exclude=frozenset({"phone_normalized"}),
                         list_url_name="accounts:list", detail_url_name="accounts:detail", icon="building",
                         search_fields=("name",), fields=("name", "account_type", "industry", "website", "phone",
                         "billing_city", "billing_country", "employees", "annual_revenue", "rating", "owner"), nav_order=20)
        records.register(Contact, slug="contacts", list=CONTACT_LIST, duplicates=contact_duplicates(),
                         imports=contact_import(), merge=contact_merge(), list_url_name="accounts:contact_list", detail_url_name="accounts:contact_detail",
                         icon="person-lines-fill", search_fields=("first_name", "last_name", "email"),
                         fields=("first_name", "last_name", "title", "department", "account", "email", "phone",
                                 "mobile", "mailing_city", "mailing_country", "owner"), nav_order=30,
                         history_exclude=frozenset({"email_normalized", "phone_normalized"}))
