"""Writes to opportunities: each atomic, taking the acting user, recording stage changes and emitting an event.
(Forms, the board and forecasts arrive with the opportunities issue; lead conversion uses these.)"""
from __future__ import annotations

from django.db import transaction

from crm.core.events import emit
from opportunities.models import Opportunity, Stage, StageChange


def default_open_stage() -> Stage | None:
    """The first open stage of the default pipeline (else of any pipeline)."""
    return (Stage.objects.filter(pipeline__is_default=True, outcome=Stage.Outcome.OPEN).order_by("order").first()
            or Stage.objects.filter(outcome=Stage.Outcome.OPEN).order_by("pipeline__order", "order").first())


def open_stages_of_default_pipeline():
    return Stage.objects.filter(pipeline__is_default=True, outcome=Stage.Outcome.OPEN).order_by("order")


@transaction.atomic
def opportunity_create(*, actor, data: dict | None = None, **fields) -> Opportunity:
    """A new opportunity from field values: its first stage change is recorded with the amount and probability."""
    opportunity = Opportunity(**fields)
    opportunity.created_by = actor if getattr(actor, "is_authenticated", False) else None
    opportunity._history_user = opportunity.created_by
    opportunity.full_clean()
    opportunity.save()
    StageChange.objects.create(opportunity=opportunity, to_stage=opportunity.stage, amount=opportunity.amount,
                               probability=opportunity.probability, actor=opportunity.created_by)
    emit("opportunity.created", opportunity, actor=actor, data=data)
    return opportunity
