"""The demo's approval processes: a quote discount over 20 % needs the submitter's manager (the issue's demo
rule; the threshold is Settings → Sales), and a deal over €100,000 needs the manager, then the CEO when it is
over €500,000. The demo quote that waits for approval enters its process, and one big deal of rep1 waits in
the manager's inbox."""
from __future__ import annotations


def seed(context: dict | None = None) -> None:
    from django.core.exceptions import ValidationError

    from crm.access.models import User
    from crm.automation import approvals
    from crm.automation.models_approvals import ApprovalProcess, ApprovalRequest, ApprovalStep
    from opportunities.models import Opportunity, Quote

    if ApprovalProcess.objects.exists():
        return
    quotes = ApprovalProcess.objects.create(
        name="Quote discount over 20 %", record_type="opportunities.quote", order=10,
        description="Quotes whose discount is above the threshold of Settings → Sales (20 %).")
    ApprovalStep.objects.create(process=quotes, order=1, name="Sales manager", remind_after_hours=24,
                                escalate_after_hours=72)
    deals = ApprovalProcess.objects.create(
        name="Deals over €100,000", record_type="opportunities.opportunity", order=10,
        entry_criteria={"all": [{"field": "amount", "op": "gt", "value": "100000"}]})
    ApprovalStep.objects.create(process=deals, order=1, name="Sales manager")
    ceo = User.objects.filter(email="ceo@demo.local").first()
    if ceo is not None:
        ApprovalStep.objects.create(process=deals, order=2, name="CEO over €500,000", approver_kind="user",
                                    approver_user=ceo,
                                    criteria={"all": [{"field": "amount", "op": "gt", "value": "500000"}]})
    for quote in Quote.objects.filter(status=Quote.Status.NEEDS_APPROVAL).select_related("opportunity__owner"):
        if not ApprovalRequest.objects.filter(object_id=quote.pk, record_type="opportunities.quote").exists():
            approvals.approval_submit(actor=quote.created_by or quote.opportunity.owner, record=quote,
                                      comment="First order: the discount wins the account.")
    rep = User.objects.filter(email="rep1@demo.local").first()
    big = (Opportunity.objects.filter(owner=rep, stage__outcome="open", amount__gt=100000)
           .order_by("-amount").first() if rep else None)
    if big is not None:
        try:
            approvals.approval_submit(actor=rep, record=big, comment="Multi-year deal: please review the terms.")
        except ValidationError:
            pass
