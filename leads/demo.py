"""Demo leads: sixty people in English, Persian and Finnish companies at every lifecycle stage, with the
qualification policy, scoring and assignment rules, a web form, lead sharing rules and follow-up tasks."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.core.demo import COMPANIES, NAMES, TITLES


def seed(context: dict) -> None:
    users = context["users"]
    _sharing(users)
    _leads(users, context.get("campaigns", []), count=context.get("leads", 60))
    _lead_rules(users)
    _tasks(users)


def _sharing(users) -> None:
    from crm.access.models import Role, SharingRule

    roles = {"rep_b": Role.objects.get(name="Sales rep (team B)"),
             "sales_manager": Role.objects.get(name="Sales manager (team A)"),
             "marketing": Role.objects.get(name="Marketing")}
    # Team B's leads are visible (read only) to team A's manager and reps, so a
    # rep can check whether a prospect is already being worked on elsewhere.
    SharingRule.objects.get_or_create(
        name="Team B leads, read only for team A",
        defaults=dict(record_type="leads.lead", kind=SharingRule.Kind.OWNER, source_role=roles["rep_b"],
                      source_include_subordinates=True, target_kind=SharingRule.Target.ROLE_AND_SUBORDINATES,
                      target_role=roles["sales_manager"], access_level=SharingRule.Level.READ),
    )
    # Marketing reads every lead that came from a campaign or a web form.
    SharingRule.objects.get_or_create(
        name="Hot leads for marketing",
        defaults=dict(record_type="leads.lead", kind=SharingRule.Kind.CRITERIA,
                      criteria={"all": [{"field": "rating", "op": "equals", "value": "hot"}]},
                      target_kind=SharingRule.Target.ROLE, target_role=roles["marketing"],
                      access_level=SharingRule.Level.READ),
    )


def _leads(users, campaigns, *, count: int) -> None:
    from campaigns.services import touch_add
    from crm.customization.models import PicklistValue
    from leads.models import Lead, LifecycleStage, LifecycleTransition

    if Lead.objects.exists():
        return
    rng = random.Random(2026)
    statuses = list(PicklistValue.objects.filter(picklist="leads.status"))
    sources = list(PicklistValue.objects.filter(picklist="leads.source"))
    owners = [users["rep1"], users["rep2"], users["rep3"], users["manager"]]
    stages = [LifecycleStage.NEW] * 5 + [LifecycleStage.MQL] * 3 + [LifecycleStage.SAL] * 2 + [LifecycleStage.SQL]
    now = timezone.now()
    for i in range(count):
        company, country, city, industry, lang = COMPANIES[i % len(COMPANIES)]
        first, last = NAMES[lang][(i * 3) % len(NAMES[lang])]
        owner = owners[i % len(owners)]
        domain = f"lead{i}.example.com"
        stage = rng.choice(stages)
        lead = Lead.objects.create(
            first_name=first, last_name=last, company=company, title=rng.choice(TITLES),
            email=f"contact{i}@{domain}", email_normalized=f"contact{i}@{domain}",
            phone=f"+358 40 {1000000 + i}" if country == "FI" else (f"+98 21 {5550000 + i}" if country == "IR" else f"+44 20 {7946000 + i}"),
            website=f"https://{domain}", city=city, country=country, industry=industry,
            employees=rng.choice([12, 45, 120, 800, 3200]), annual_revenue=Decimal(rng.choice([0.5, 2, 10, 75])) * 1_000_000,
            currency="EUR", rating=rng.choice(["hot", "warm", "cold", ""]), owner=owner, created_by=owner,
            status=rng.choice(statuses) if statuses else None, source=rng.choice(sources) if sources else None,
            lifecycle_stage=stage, created_at=now - timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23)),
            budget_confirmed=rng.choice([True, None]), budget_amount=Decimal(rng.choice([5000, 20000, 80000])),
            authority_role=rng.choice(["decision_maker", "influencer", "user", ""]),
            need_pain_points=rng.choice(["", "Manual reporting takes days.", "Spreadsheets everywhere."]),
            timeline_timeframe=rng.choice(["", "0_3_months", "3_6_months"]),
            first_touch_campaign=campaigns[i % 3] if i % 4 == 0 else None,
            last_touch_campaign=campaigns[i % 3] if i % 4 == 0 else None,
        )
        LifecycleTransition.objects.create(lead=lead, to_stage=LifecycleStage.NEW, actor=owner, created_at=lead.created_at)
        if stage != LifecycleStage.NEW:
            LifecycleTransition.objects.create(lead=lead, from_stage=LifecycleStage.NEW, to_stage=stage, actor=owner)
        if i % 4 == 0:
            touch_add(record=lead, campaign=campaigns[i % 3], channel="event", at=lead.created_at)


def _lead_rules(users) -> None:
    """Qualification policy, scoring and assignment rules and a web form, each created once."""
    from crm.access.models import Team
    from leads.models import AssignmentRule, Framework, Lead, QualificationPolicy, ScoringRule, WebForm
    from leads.qualification import default_criteria
    from leads.scoring import lead_score_update

    criteria = default_criteria(Framework.BANT)
    criteria["timeline"]["sql"] = False  # SQL needs budget, authority and need; conversion needs all four
    QualificationPolicy.objects.get_or_create(team=None, defaults={"framework": Framework.BANT, "criteria": criteria})
    team_b = Team.objects.filter(name="Team B").first()
    if team_b:
        QualificationPolicy.objects.get_or_create(team=team_b, defaults={
            "framework": Framework.CHAMP, "criteria": default_criteria(Framework.CHAMP)})
    if not ScoringRule.objects.exists():
        for order, (name, kind, extra, points) in enumerate([
            ("Title is C-level", "fit", {"conditions": {"any": [
                {"field": "title", "op": "contains", "value": word} for word in ("CEO", "CTO", "CFO", "Chief")]}}, 20),
            ("Company over 100 employees", "fit", {"conditions": {"all": [
                {"field": "employees", "op": "gte", "value": "100"}]}}, 10),
            ("Budget confirmed", "fit", {"conditions": {"all": [
                {"field": "budget_confirmed", "op": "equals", "value": "true"}]}}, 15),
            ("Technology industry", "fit", {"conditions": {"all": [
                {"field": "industry", "op": "equals", "value": "technology"}]}}, 5),
            ("Calls this month", "engagement", {"engagement": "call", "within_days": 30, "max_points": 15}, 5),
            ("Meetings this quarter", "engagement", {"engagement": "meeting", "within_days": 90, "max_points": 20}, 10),
            ("Web form submissions", "engagement", {"engagement": "web_form", "max_points": 20}, 10),
            ("No engagement for 30 days", "decay", {"within_days": 30, "max_points": 30}, 5),
        ]):
            ScoringRule.objects.create(name=name, kind=kind, points=points, order=order, **extra)
        for pk in Lead.objects.values_list("pk", flat=True):
            lead_score_update(pk)
    inbound = Team.objects.filter(name="Inbound team").first()
    if not AssignmentRule.objects.exists() and inbound:
        AssignmentRule.objects.create(name="Nordic territory", order=1, target="territory", team=inbound,
                                      countries="FI, SE, EE, NO, DK")
        AssignmentRule.objects.create(name="Everyone else: take turns", order=2, target="round_robin", team=inbound)
    if not WebForm.objects.exists():
        from campaigns.models import Campaign

        WebForm.objects.create(
            name="Contact us", key="contact-us", fields=["first_name", "last_name", "email", "phone", "company",
                                                          "country", "description"],
            required_fields=["last_name", "email"], thank_you_message="Thank you! A specialist will call you within a day.",
            campaign=Campaign.objects.filter(name="Spring newsletter").first(), default_owner=users["manager"],
            created_by=users["admin"])


def _tasks(users) -> None:
    from django.contrib.contenttypes.models import ContentType

    from crm.activities.models import Activity
    from leads.models import Lead

    if Activity.objects.filter(kind=Activity.Kind.TASK).exists():
        return
    import zoneinfo

    now = timezone.now()
    for offset, user_key in enumerate(("rep1", "rep2", "rep3", "manager")):
        user = users[user_key]
        try:
            zone = zoneinfo.ZoneInfo(user.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        # In office hours of the user's own day: yesterday's is overdue, today's and tomorrow's are coming.
        morning = timezone.localtime(now, zone).replace(hour=9 + offset, minute=0, second=0, microsecond=0)
        for n, lead in enumerate(Lead.objects.filter(owner=user).order_by("pk")[:3]):
            Activity.objects.create(
                kind=Activity.Kind.TASK, subject=f"Follow up with {lead.full_name}",
                content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk,
                actor=user, assigned_to=user, status=Activity.Status.OPEN,
                due_at=morning + timedelta(days=n - 1),
            )
