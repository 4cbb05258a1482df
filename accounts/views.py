"""Account and contact pages: lists with search and sorting, detail with related
records, history and timeline. (Create and edit arrive with their issue.)"""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.models import Account, Contact
from crm.access.fls import hidden_fields, visible
from crm.core import display
from crm.core.formatting import format_money
from crm.core.history import field_history
from crm.core.services import recent_view_touch
from crm.customization.fields import definitions
from leads.models import Lead
from opportunities.models import Opportunity

ACCOUNT_RT = "accounts.account"
CONTACT_RT = "accounts.contact"
OPPORTUNITY_RT = "opportunities.opportunity"

ACCOUNT_COLUMNS = ["name", "account_type", "industry", "billing_city", "billing_country", "phone", "owner",
                   "created_at"]
CONTACT_COLUMNS = ["last_name", "first_name", "account", "title", "email", "phone", "owner", "created_at"]
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

# Sortable list columns: column name -> order_by field.
ACCOUNT_SORTS = {"name": "name", "account_type": "account_type", "industry": "industry", "billing_city": "billing_city",
                 "billing_country": "billing_country", "owner": "owner__last_name", "created_at": "created_at"}
CONTACT_SORTS = {"last_name": "last_name", "first_name": "first_name", "account": "account__name", "title": "title",
                 "email": "email", "owner": "owner__last_name", "created_at": "created_at"}


def _require(user, record_type: str, action: str) -> None:
    if not user.can(record_type, action):
        raise Http404


def _ordered(qs: QuerySet, user, record_type: str, sort: str, sorts: dict[str, str], default: str) -> QuerySet:
    # Only by fields the reader may see: the order of rows would otherwise reveal a hidden field.
    key = sort.lstrip("-")
    if key not in visible(user, record_type, list(sorts)):
        key, sort = default.lstrip("-"), default
    direction = "-" if sort.startswith("-") else ""
    return qs.order_by(f"{direction}{sorts[key]}", f"{direction}id")


def _search(qs: QuerySet, user, record_type: str, query: str, fields: list[str]) -> QuerySet:
    """Every word must match one of `fields`, so "anna virt" finds Anna Virtanen. Fields hidden
    from the reader are not searched (a match would reveal their value)."""
    fields = visible(user, record_type, fields)
    for word in query.split():
        if not fields:
            return qs.none()
        condition = Q()
        for f in fields:
            condition |= Q(**{f"{f}__icontains": word})
        qs = qs.filter(condition)
    return qs


def account_list(*, user, query: str = "", sort: str = "name") -> QuerySet:
    qs = Account.objects.visible_to(user).select_related("owner")
    qs = _search(qs, user, ACCOUNT_RT, query, ["name", "website", "phone"])
    return _ordered(qs, user, ACCOUNT_RT, sort, ACCOUNT_SORTS, "name")


def contact_list(*, user, query: str = "", sort: str = "last_name", account_id: int | None = None) -> QuerySet:
    qs = Contact.objects.visible_to(user).select_related("owner", "account")
    if account_id:
        qs = qs.filter(account_id=account_id)
    qs = _search(qs, user, CONTACT_RT, query, ["first_name", "last_name", "email"])
    return _ordered(qs, user, CONTACT_RT, sort, CONTACT_SORTS, "last_name")


def sort_headers(model, columns: list[str], sorts: dict[str, str], sort: str) -> list[dict]:
    """Table headers: label, and for sortable columns the sort parameter a click sets (toggling direction)."""
    headers = []
    for name in columns:
        direction = "ascending" if sort == name else "descending" if sort == f"-{name}" else ""
        headers.append({
            "name": name,
            "label": display.field_label(model, name),
            "sort": (f"-{name}" if sort == name else name) if name in sorts else None,
            "direction": direction,
        })
    return headers


def _list_columns(user, record_type: str, columns: list[str]) -> list[str]:
    return visible(user, record_type, columns + [cf.key for cf in definitions(record_type) if cf.show_in_list])


def _render_list(request, template: str, ctx: dict):
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, ctx)


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
def account_list_view(request):
    _require(request.user, ACCOUNT_RT, "view")
    q, sort = request.GET.get("q", ""), request.GET.get("sort", "name")
    qs = account_list(user=request.user, query=q, sort=sort)
    columns = _list_columns(request.user, ACCOUNT_RT, ACCOUNT_COLUMNS)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return _render_list(request, "accounts/account_list.html", {
        "page": page, "q": q, "sort": sort,
        "headers": sort_headers(Account, columns, ACCOUNT_SORTS, sort),
        "rows": [(a, [display.field_value(a, c) for c in columns]) for a in page],
    })


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
def contact_list_view(request):
    _require(request.user, CONTACT_RT, "view")
    q, sort = request.GET.get("q", ""), request.GET.get("sort", "last_name")
    account_id = request.GET.get("account")
    account_id = int(account_id) if account_id and account_id.isdigit() else None
    qs = contact_list(user=request.user, query=q, sort=sort, account_id=account_id)
    columns = _list_columns(request.user, CONTACT_RT, CONTACT_COLUMNS)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return _render_list(request, "accounts/contact_list.html", {
        "page": page, "q": q, "sort": sort, "account_id": account_id,
        "headers": sort_headers(Contact, columns, CONTACT_SORTS, sort),
        "rows": [(c, [display.field_value(c, col) for col in columns]) for c in page],
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
