"""Demo opportunities: two pipelines ("New business", the default, and "Renewals") with deals in every stage, in
euros, dollars and kronor, owned by rep1, rep2, the manager and (one in seven) rep3, and nine months of stage history, with won
and lost deals (each lost one with its loss reason), so the board, the velocity figures and the forecasts have
something to show. Other parts of the sales app add their seeds at the end of `seed` (one call each)."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

RENEWAL_STAGES = [  # name, fa, fi, probability, forecast category, outcome
    ("Up for renewal", "در انتظار تمدید", "Uusittavana", 50, "pipeline", "open"),
    ("Renewal quote sent", "پیشنهاد تمدید ارسال شد", "Uusintatarjous lähetetty", 75, "best_case", "open"),
    ("Verbal yes", "موافقت شفاهی", "Suullinen kyllä", 90, "commit", "open"),
    ("Renewed", "تمدید شد", "Uusittu", 100, "closed", "won"),
    ("Churned", "از دست رفت", "Menetetty", 0, "closed", "lost"),
]
PRODUCTS = ["platform licence", "analytics add-on", "support plan", "onboarding", "integration project",
            "seat expansion", "data migration", "training days"]
CURRENCIES = ["EUR", "EUR", "EUR", "USD", "SEK"]
# Units per euro from a year ago, so every demo close date has a rate in force (a later part may add newer).
DEMO_RATES = {"USD": Decimal("1.08"), "SEK": Decimal("11.40"), "GBP": Decimal("0.86")}


def _renewals_pipeline():
    from opportunities.models import Pipeline, Stage

    pipeline, created = Pipeline.objects.get_or_create(
        name="Renewals", defaults={"name_translations": {"fa": "تمدیدها", "fi": "Uusinnat"}, "order": 1})
    if created or not pipeline.stages.exists():
        for order, (name, fa, fi, probability, category, outcome) in enumerate(RENEWAL_STAGES):
            Stage.objects.create(pipeline=pipeline, name=name, name_translations={"fa": fa, "fi": fi},
                                 order=order * 10, probability=probability, forecast_category=category,
                                 outcome=outcome,
                                 required_fields=["close_date"] if outcome == "open" and probability >= 75 else [])
    return pipeline


def _rates() -> None:
    from opportunities.models import ExchangeRate

    since = timezone.localdate() - timedelta(days=400)
    for currency, rate in DEMO_RATES.items():
        if not ExchangeRate.objects.filter(currency=currency, valid_from__lte=since).exists():
            ExchangeRate.objects.get_or_create(currency=currency, valid_from=since, defaults={"rate": rate})


def seed(context: dict) -> None:
    from accounts.selectors import first_accounts
    from crm.customization.models import PicklistValue
    from opportunities.models import (LOSS_REASON_PICKLIST, Opportunity, OpportunityContactRole, OpportunityType,
                                      Pipeline, StageChange)

    if Opportunity.objects.exists():
        return
    users = context.get("users") or {}
    owners = [users[name] for name in ("rep1", "rep2", "manager", "rep1", "rep2") if name in users]
    other_team = users.get("rep3")  # every seventh deal, in the other team
    default = Pipeline.objects.filter(is_default=True).first()
    if default is None or not owners:
        return
    _rates()
    renewals = _renewals_pipeline()
    pairs = first_accounts(limit=20)
    if not pairs:
        return
    reasons = list(PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST, is_active=True))
    rng = random.Random(10)  # the same demo every time
    now = timezone.now()
    today = timezone.localdate()
    plans = []
    for pipeline, count in ((default, 30), (renewals, 12)):
        stages = list(pipeline.stages.order_by("order", "id"))
        open_stages = [s for s in stages if s.outcome == "open"]
        won = next(s for s in stages if s.outcome == "won")
        lost = next(s for s in stages if s.outcome == "lost")
        opened = 0
        for i in range(count):
            # Two in three still open, spread over every open stage; the rest won or lost months ago.
            if i % 3 != 2:
                final = open_stages[opened % len(open_stages)]
                opened += 1
            else:
                final = won if i % 2 else lost
            plans.append((pipeline, open_stages, final, won, lost))
    for i, (pipeline, open_stages, final, won, lost) in enumerate(plans):
        account, contact = pairs[i % len(pairs)]
        owner = other_team if other_team is not None and i % 7 == 6 else owners[i % len(owners)]
        currency = CURRENCIES[i % len(CURRENCIES)]
        amount = Decimal(rng.randrange(40, 900) * 250)
        started = now - timedelta(days=rng.randrange(40, 270))
        # The path: through the open stages up to the final one (a closed deal leaves from a random open stage).
        if final.outcome == "open":
            path = open_stages[:open_stages.index(final) + 1]
        else:
            path = open_stages[:rng.randrange(1, len(open_stages) + 1)] + [final]
        span = (now - started) if final.outcome == "open" else (now - started) * rng.uniform(0.4, 0.9)
        step = span / max(len(path), 1)
        times = [started + step * n for n in range(len(path))]
        entered = times[-1]
        closed = final.outcome != "open"
        close_date = (entered.date() if closed else today + timedelta(days=rng.randrange(5, 150)))
        kind = OpportunityType.RENEWAL if pipeline == renewals else (
            OpportunityType.UPSELL if i % 5 == 0 else OpportunityType.NEW_BUSINESS)
        product = PRODUCTS[i % len(PRODUCTS)]
        opportunity = Opportunity.objects.create(
            name=f"{account.name}: {product}" if pipeline != renewals else f"{account.name}: renewal {today.year}",
            account=account, contact=contact, pipeline=pipeline, stage=final, currency=currency, amount=amount,
            probability=100 if final.outcome == "won" else 0 if final.outcome == "lost" else final.probability,
            close_date=close_date, opportunity_type=kind, lead_source=("web", "referral", "event", "partner")[i % 4],
            next_step="" if closed else ("Send the proposal", "Book a demo", "Call the CFO", "Agree terms")[i % 4],
            competitors=("", "Northwind", "Contoso", "Northwind, Fabrikam")[i % 4],
            loss_reason=reasons[i % len(reasons)] if final.outcome == "lost" and reasons else None,
            owner=owner, created_by=owner, stage_entered_at=entered, closed_at=entered if closed else None)
        Opportunity.objects.filter(pk=opportunity.pk).update(created_at=started)
        previous = None
        for stage, when in zip(path, times):
            probability = 100 if stage.outcome == "won" else 0 if stage.outcome == "lost" else stage.probability
            StageChange.objects.create(opportunity=opportunity, from_stage=previous, to_stage=stage, amount=amount,
                                       probability=probability, actor=owner, created_at=when)
            previous = stage
        if contact is not None:
            OpportunityContactRole.objects.create(opportunity=opportunity, contact=contact, role="decision_maker",
                                                  is_primary=True)
    _converted_leads(now)
    # --- other parts' demo data (one call each) ---
    from opportunities.products import seed_demo as seed_catalogue

    seed_catalogue(context)  # products, price books, exchange rates, line items (helper B)
    from opportunities.forecasts import seed_demo as seed_forecasts

    seed_forecasts(context)  # quotas for this quarter and the next, last week's and this week's snapshots (helper D)
    from opportunities.quotes import seed_demo as seed_quotes

    seed_quotes(context)  # quotes (one in Persian, one waiting for approval) and an accepted one's paid invoice (helper C)


def _converted_leads(now) -> None:
    """Eight of the demo's sales-accepted and sales-qualified leads converted into deals, four of them won, so
    the dashboard's lead funnel runs through to "won" (their lifecycle history goes on to SQL and converted)."""
    from leads.models import Lead, LifecycleStage, LifecycleTransition
    from opportunities.models import Opportunity

    leads = list(Lead.objects.filter(lifecycle_stage__in=[LifecycleStage.SAL, LifecycleStage.SQL]).order_by("id")[:8])
    won = list(Opportunity.objects.filter(stage__outcome="won").order_by("id")[:4])
    open_ = list(Opportunity.objects.filter(stage__outcome="open").order_by("id")[:4])
    for lead, opportunity in zip(leads, won + open_):
        when = max(lead.created_at, now - timedelta(days=30))
        if lead.lifecycle_stage == LifecycleStage.SAL:
            LifecycleTransition.objects.create(lead=lead, from_stage=LifecycleStage.SAL, to_stage=LifecycleStage.SQL,
                                               actor=lead.owner, created_at=when)
        LifecycleTransition.objects.create(lead=lead, from_stage=LifecycleStage.SQL, to_stage=LifecycleStage.CONVERTED,
                                           actor=lead.owner, created_at=when)
        Lead.objects.filter(pk=lead.pk).update(
            lifecycle_stage=LifecycleStage.CONVERTED, converted_at=when, converted_opportunity=opportunity,
            converted_account_id=opportunity.account_id, converted_contact_id=opportunity.contact_id)
