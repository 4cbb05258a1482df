"""What the opportunities app shows on other records' pages: an account's and a contact's opportunities."""
from __future__ import annotations

from django.utils.translation import gettext as _

COLUMNS = ["name", "stage", "amount", "close_date", "owner"]


def _table(request, filter_name: str, record):
    from crm.lists.related import related_table
    from opportunities.models import Opportunity

    table = related_table(user=request.user, record_type="opportunities.opportunity",
                          queryset=Opportunity.objects.filter(**{filter_name: record}).order_by("close_date", "id"),
                          columns=COLUMNS, list_query=f"{filter_name}={record.pk}")
    return None if table is None else {"table": table, "title": _("Opportunities"), "empty": _("No opportunities yet.")}


def account_opportunities(request, account):
    return _table(request, "account", account)


def contact_opportunities(request, contact):
    return _table(request, "contact", contact)
