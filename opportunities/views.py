"""Opportunity pages: list with search and sorting, detail with its stage path,
stage changes, history and timeline. (Create, edit and kanban arrive with their issue.)"""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from accounts.models import Account, Contact
from crm.access.fls import hidden_fields, visible
from crm.core import display
from crm.core.formatting import format_money
from crm.core.history import field_history
from crm.core.services import recent_view_touch
from crm.customization.fields import definitions
from leads.models import Lead
from opportunities.models import Opportunity, Stage

RT = "opportunities.opportunity"
LIST_COLUMNS = ["name", "account", "stage", "amount", "probability", "close_date", "owner"]
DETAIL_FIELDS = ["name", "account", "contact", "pipeline", "stage", "amount", "currency", "probability", "close_date",
                 "lead_source", "campaign", "description", "owner", "created_at"]
# Sortable list columns: column name -> order_by fields.
SORTS = {"name": ["name"], "account": ["account__name"], "stage": ["pipeline__order", "stage__order"],
         "amount": ["amount"], "probability": ["probability"], "close_date": ["close_date"],
         "owner": ["owner__last_name"], "created_at": ["created_at"]}
DEFAULT_SORT = "close_date"
# Searched fields: field-level security name -> lookup.
SEARCH = {"name": "name__icontains", "account": "account__name__icontains"}


def _require(user, action: str) -> None:
    if not user.can(RT, action):
        raise Http404


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def opportunity_list(*, user, query: str = "", sort: str = DEFAULT_SORT, account_id: int | None = None,
                     contact_id: int | None = None) -> QuerySet:
    qs = Opportunity.objects.visible_to(user).select_related("owner", "account", "stage")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    # Every word must match the name or the account's name; fields hidden from the reader are
    # neither searched nor sorted by (a match or the order of rows would reveal their values).
    lookups = [SEARCH[f] for f in visible(user, RT, list(SEARCH))]
    for word in query.split():
        if not lookups:
            return qs.none()
        condition = Q()
        for lookup in lookups:
            condition |= Q(**{lookup: word})
        qs = qs.filter(condition)
    key = sort.lstrip("-")
    if key not in visible(user, RT, list(SORTS)):
        key, sort = DEFAULT_SORT, DEFAULT_SORT
    direction = "-" if sort.startswith("-") else ""
    # Empty amounts and close dates go last whichever way the column is sorted.
    order = [F(f).desc(nulls_last=True) if direction else F(f).asc(nulls_last=True) for f in SORTS[key]]
    return qs.order_by(*order, f"{direction}id")


def sort_headers(columns: list[str], sort: str) -> list[dict]:
    """Table headers: label, and for sortable columns the sort parameter a click sets (toggling direction)."""
    return [{
        "name": name,
        "label": display.field_label(Opportunity, name),
        "sort": (f"-{name}" if sort == name else name) if name in SORTS else None,
        "direction": "ascending" if sort == name else "descending" if sort == f"-{name}" else "",
    } for name in columns]


def _cell(opportunity: Opportunity, name: str) -> str:
    if name == "amount":  # the amount is read with its currency
        return format_money(opportunity.amount, opportunity.currency)
    return display.field_value(opportunity, name)


@login_required
def opportunity_list_view(request):
    _require(request.user, "view")
    q, sort = request.GET.get("q", ""), request.GET.get("sort", DEFAULT_SORT)
    account_id, contact_id = _int(request.GET.get("account")), _int(request.GET.get("contact"))
    qs = opportunity_list(user=request.user, query=q, sort=sort, account_id=account_id, contact_id=contact_id)
    custom_columns = [cf.key for cf in definitions(RT) if cf.show_in_list]
    columns = visible(request.user, RT, LIST_COLUMNS + custom_columns)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    ctx = {
        "page": page, "q": q, "sort": sort, "account_id": account_id, "contact_id": contact_id,
        "headers": sort_headers(columns, sort),
        "rows": [(o, [_cell(o, c) for c in columns]) for o in page],
    }
    template = "opportunities/opportunity_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, ctx)


@login_required
def opportunity_detail(request, pk):
    user = request.user
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(user).select_related("owner", "account", "contact", "pipeline", "stage",
                                                            "campaign"),
        pk=pk,
    )
    recent_view_touch(user=user, record=opportunity)
    hidden = hidden_fields(user, RT)
    rows = [(label, format_money(opportunity.amount, opportunity.currency) if name == "amount" else value, name)
            for label, value, name in display.detail_rows(opportunity, DETAIL_FIELDS, user)]
    stage_changes = list(opportunity.stage_changes.select_related("from_stage", "to_stage", "actor")
                         .order_by("-created_at", "-id")[:100])
    return render(request, "opportunities/opportunity_detail.html", {
        "opportunity": opportunity,
        "hidden": hidden,
        "amount": format_money(opportunity.amount, opportunity.currency),
        "account_visible": opportunity.account_id is not None
        and Account.objects.visible_to(user).filter(pk=opportunity.account_id).exists(),
        "contact_visible": opportunity.contact_id is not None
        and Contact.objects.visible_to(user).filter(pk=opportunity.contact_id).exists(),
        "stages": [] if "stage" in hidden else list(Stage.objects.filter(pipeline_id=opportunity.pipeline_id)),
        "stage_changes": stage_changes,
        "rows": rows,
        "custom": display.custom_sections(opportunity, user),
        "history": field_history(opportunity, user),
        "can_edit": Opportunity.objects.visible_to(user, "edit").filter(pk=pk).exists(),
        "converted_from": list(Lead.objects.visible_to(user).filter(converted_opportunity=opportunity)
                               .only("id", "first_name", "last_name", "company")),
    })
