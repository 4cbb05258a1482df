"""Account and contact pages: detail with related records, history and timeline.
The lists are the shared list engine's (crm.lists), configured in accounts/records.py."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.models import Account, Contact
from crm.access.fls import hidden_fields, visible
from crm.core import display
from crm.core.formatting import format_money
from crm.core.history import field_history
from crm.core.services import recent_view_touch
from leads.models import Lead
from opportunities.models import Opportunity

ACCOUNT_RT = "accounts.account"
CONTACT_RT = "accounts.contact"
OPPORTUNITY_RT = "opportunities.opportunity"

ACCOUNT_FIELDS = ["name", "account_type", "industry", "parent", "website", "phone", "billing_street", "billing_city",
                  "billing_state", "billing_postal_code", "billing_country", "employees", "annual_revenue", "rating",
                  "description", "owner", "created_at"]
CONTACT_FIELDS = ["salutation", "first_name", "last_name", "title", "department", "account", "reports_to", "email",
                  "phone", "mobile", "mailing_street", "mailing_city", "mailing_postal_code", "mailing_country",
                  "birthdate", "preferred_language", "email_opt_out", "do_not_call", "owner", "created_at"]
# Columns of the related tables on a detail page (each filtered by the reader's field-level security).
RELATED_CONTACT_COLUMNS = ["last_name", "first_name", "title", "email", "phone", "owner"]
RELATED_OPPORTUNITY_COLUMNS = ["name", "stage", "amount", "close_date", "owner"]
RELATED_LIMIT = 50

def _require(user, record_type: str, action: str) -> None:
    if not user.can(record_type, action):
        raise Http404


def _cell(record, name: str) -> str:
    if name == "amount":  # an opportunity's amount is read with its currency
        return format_money(record.amount, record.currency)
    return display.field_value(record, name)


def _table(user, record_type: str, model, columns: list[str], records) -> dict:
    """A related-records table: FLS-filtered headers and display values."""
    columns = visible(user, record_type, columns)
    return {"headers": [display.field_label(model, c) for c in columns],
            "rows": [(r, [_cell(r, c) for c in columns]) for r in records]}


def _converted_from(user, **lookup) -> list[Lead]:
    """The leads (visible to `user`) whose conversion created this record."""
    return list(Lead.objects.visible_to(user).filter(**lookup).only("id", "first_name", "last_name", "company"))


@login_required
def account_detail(request, pk):
    user = request.user
    account = get_object_or_404(Account.objects.visible_to(user).select_related("owner", "parent"), pk=pk)
    recent_view_touch(user=user, record=account)
    contacts = (Contact.objects.visible_to(user).filter(account=account).select_related("owner")
                .order_by("last_name", "first_name", "id"))
    opportunities = (Opportunity.objects.visible_to(user).filter(account=account).select_related("owner", "stage")
                     .order_by("close_date", "id"))
    contact_page = Paginator(contacts, RELATED_LIMIT).get_page(1)
    opportunity_page = Paginator(opportunities, RELATED_LIMIT).get_page(1)
    parent_visible = account.parent_id and Account.objects.visible_to(user).filter(pk=account.parent_id).exists()
    return render(request, "accounts/account_detail.html", {
        "account": account,
        "hidden": hidden_fields(user, ACCOUNT_RT),
        "parent_visible": parent_visible,
        "rows": display.detail_rows(account, ACCOUNT_FIELDS, user),
        "custom": display.custom_sections(account, user),
        "history": field_history(account, user),
        "can_edit": Account.objects.visible_to(user, "edit").filter(pk=pk).exists(),
        "can_view_contacts": user.can(CONTACT_RT, "view"),
        "can_view_opportunities": user.can(OPPORTUNITY_RT, "view"),
        "contacts": contact_page,
        "contacts_url": f"{reverse('accounts:contact_list')}?account={account.pk}",
        "opportunities_url": f"{reverse('opportunities:list')}?account={account.pk}",
        # Only web addresses become links (an imported value could carry another scheme).
        "website_url": account.website if account.website.lower().startswith(("http://", "https://")) else "",
        "contact_table": _table(user, CONTACT_RT, Contact, RELATED_CONTACT_COLUMNS, contact_page),
        "opportunities": opportunity_page,
        "opportunity_table": _table(user, OPPORTUNITY_RT, Opportunity, RELATED_OPPORTUNITY_COLUMNS, opportunity_page),
        "converted_from": _converted_from(user, converted_account=account),
    })


@login_required
def contact_detail(request, pk):
    user = request.user
    contact = get_object_or_404(
        Contact.objects.visible_to(user).select_related("owner", "account", "reports_to"), pk=pk)
    recent_view_touch(user=user, record=contact)
    account_visible = contact.account_id and Account.objects.visible_to(user).filter(pk=contact.account_id).exists()
    opportunities = (Opportunity.objects.visible_to(user).filter(contact=contact).select_related("owner", "stage")
                     .order_by("close_date", "id"))
    opportunity_page = Paginator(opportunities, RELATED_LIMIT).get_page(1)
    return render(request, "accounts/contact_detail.html", {
        "contact": contact,
        "hidden": hidden_fields(user, CONTACT_RT),
        "account_visible": account_visible,
        "rows": display.detail_rows(contact, CONTACT_FIELDS, user),
        "custom": display.custom_sections(contact, user),
        "history": field_history(contact, user),
        "can_edit": Contact.objects.visible_to(user, "edit").filter(pk=pk).exists(),
        "can_view_opportunities": user.can(OPPORTUNITY_RT, "view"),
        "opportunities": opportunity_page,
        "opportunities_url": f"{reverse('opportunities:list')}?contact={contact.pk}",
        "opportunity_table": _table(user, OPPORTUNITY_RT, Opportunity, RELATED_OPPORTUNITY_COLUMNS, opportunity_page),
        "converted_from": _converted_from(user, converted_contact=contact),
    })
