from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from crm.core import records

        from .models import Account, Contact
        from .records import ACCOUNT_LIST, CONTACT_LIST

        records.register(Account, slug="accounts", list=ACCOUNT_LIST,
                         list_url_name="accounts:list", detail_url_name="accounts:detail", icon="building",
                         search_fields=("name",), fields=("name", "account_type", "industry", "website", "phone",
                         "billing_city", "billing_country", "employees", "annual_revenue", "rating", "owner"), nav_order=20)
        records.register(Contact, slug="contacts", list=CONTACT_LIST, list_url_name="accounts:contact_list", detail_url_name="accounts:contact_detail",
                         icon="person-lines-fill", search_fields=("first_name", "last_name", "email"),
                         fields=("first_name", "last_name", "title", "department", "account", "email", "phone",
                                 "mobile", "mailing_city", "mailing_country", "owner"), nav_order=30,
                         history_exclude=frozenset({"email_normalized", "phone_normalized"}))
