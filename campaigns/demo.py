"""Demo campaigns: a trade show, a Persian webinar and a newsletter, that demo leads were touched by."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone


def seed(context: dict) -> None:
    from campaigns.models import Campaign

    users = context["users"]
    campaigns = []
    for name, kind in (("Helsinki Tech Expo 2026", "trade_show"), ("وبینار تحول دیجیتال", "webinar"),
                       ("Spring newsletter", "email")):
        campaign, _ = Campaign.objects.get_or_create(
            name=name, defaults=dict(campaign_type=kind, status="active", owner=users["marketer"],
                                     start_date=timezone.localdate() - timedelta(days=40),
                                     budget=Decimal("5000"), actual_cost=Decimal("3200")))
        campaigns.append(campaign)

    context["campaigns"] = campaigns
