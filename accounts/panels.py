"""What the accounts app shows on record pages: an account's contacts."""
from __future__ import annotations

from django.utils.translation import gettext as _


def account_contacts(request, account):
    from accounts.models import Contact
    from crm.lists.related import related_table

    table = related_table(user=request.user, record_type="accounts.contact",
                          queryset=Contact.objects.filter(account=account).order_by("last_name", "first_name", "id"),
                          columns=["last_name", "first_name", "title", "email", "phone", "owner"],
                          list_query=f"account={account.pk}")
    return None if table is None else {"table": table, "title": _("Contacts"), "empty": _("No contacts yet.")}
