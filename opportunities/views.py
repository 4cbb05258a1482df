"""Opportunity pages: detail with its stage path, stage changes, history and
timeline. The list is the shared list engine's (crm.lists), configured in
opportunities/records.py. (Create, edit and kanban arrive with their issue.)"""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from accounts.selectors import visible_ids
from crm.access.fls import hidden_fields
from crm.core import display
from crm.core.formatting import format_money, ltr
from crm.core.services import recent_view_touch
from opportunities.models import Opportunity, Stage

RT = "opportunities.opportunity"
DETAIL_FIELDS = ["name", "account", "contact", "pipeline", "stage", "amount", "currency", "probability", "close_date",
                 "lead_source", "campaign", "description", "owner", "created_at"]


def _require(user, action: str) -> None:
    if not user.can(RT, action):
        raise Http404


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
    rows = [(label, ltr(format_money(opportunity.amount, opportunity.currency)) if name == "amount" else value, name)
            for label, value, name in display.detail_rows(opportunity, DETAIL_FIELDS, user)]
    stage_changes = list(opportunity.stage_changes.select_related("from_stage", "to_stage", "actor")
                         .order_by("-created_at", "-id")[:100])
    return render(request, "opportunities/opportunity_detail.html", {
        "opportunity": opportunity,
        "hidden": hidden,
        "amount": format_money(opportunity.amount, opportunity.currency),
        "account_visible": opportunity.account_id in visible_ids(user=user, kind="account", ids=[opportunity.account_id]),
        "contact_visible": opportunity.contact_id in visible_ids(user=user, kind="contact", ids=[opportunity.contact_id]),
        "stages": [] if "stage" in hidden else list(Stage.objects.filter(pipeline_id=opportunity.pipeline_id)),
        "stage_changes": stage_changes,
        "rows": rows,
        "custom": display.custom_sections(opportunity, user),
        "can_edit": Opportunity.objects.visible_to(user, "edit").filter(pk=pk).exists(),
    })
