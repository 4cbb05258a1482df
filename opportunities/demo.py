"""Demo opportunities: one per demo account, across the default pipeline's open stages."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone


def seed(context: dict) -> None:
    from accounts.selectors import first_accounts
    from opportunities.models import Opportunity, Pipeline

    if Opportunity.objects.exists():
        return
    pipeline = Pipeline.objects.filter(is_default=True).first()
    stages = list(pipeline.stages.all()) if pipeline else []
    if len(stages) < 3:
        return
    for i, (account, contact) in enumerate(first_accounts(limit=9)):
        stage = stages[i % (len(stages) - 2)]
        Opportunity.objects.create(name=f"{account.name}: platform licence", account=account, contact=contact,
                                   pipeline=pipeline, stage=stage, probability=stage.probability,
                                   amount=Decimal(10000 + 2500 * i),
                                   close_date=timezone.localdate() + timedelta(days=15 * (i + 1)),
                                   owner=account.owner, created_by=account.owner)
