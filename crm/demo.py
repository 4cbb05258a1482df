"""Demo data for `make run`: a small company with sales, support and marketing
people, a role hierarchy, private sharing on sales records and realistic leads,
accounts and opportunities with English, Persian and Finnish names.

Idempotent: every row is found by a natural key first, so a second start adds
only what is missing and keeps whatever users changed.
"""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

DEMO_PASSWORD = "crm-demo-2026"

DEMO_USERS = [
    ("admin@demo.local", "administrator"),
    ("ceo@demo.local", "CEO, top of the role hierarchy"),
    ("manager@demo.local", "sales manager (team A)"),
    ("rep1@demo.local", "sales rep, reports to the manager"),
    ("rep2@demo.local", "sales rep, reports to the manager"),
    ("rep3@demo.local", "sales rep in another team (B)"),
    ("agent@demo.local", "support tier 1"),
    ("agent2@demo.local", "support tier 2"),
    ("marketer@demo.local", "marketing"),
]

# email: (first, last, title, role key, profile key, language, time zone, jalali)
PEOPLE = {
    "admin@demo.local": ("Aino", "Mäkinen", "System administrator", "ceo", "admin", "fi", "Europe/Helsinki", False),
    "ceo@demo.local": ("Daniel", "Carter", "Chief executive", "ceo", "manager", "en", "Europe/London", False),
    "manager@demo.local": ("Sara", "Ahmadi", "Sales manager", "sales_manager", "manager", "fa", "Asia/Tehran", True),
    "rep1@demo.local": ("Mikko", "Virtanen", "Account executive", "rep_a", "rep", "fi", "Europe/Helsinki", False),
    "rep2@demo.local": ("Emily", "Johnson", "Account executive", "rep_a", "rep", "en", "Europe/London", False),
    "rep3@demo.local": ("Reza", "Karimi", "Account executive", "rep_b", "rep", "fa", "Asia/Tehran", True),
    "agent@demo.local": ("Laura", "Nieminen", "Support agent", "support_t1", "support", "fi", "Europe/Helsinki", False),
    "agent2@demo.local": ("Ali", "Hosseini", "Senior support engineer", "support_t2", "support", "fa", "Asia/Tehran", False),
    "marketer@demo.local": ("Olivia", "Brown", "Marketing manager", "marketing", "marketing", "en", "Europe/London", False),
}

ROLES = [
    # key, name, parent key
    ("ceo", "CEO", None),
    ("sales_director", "Sales director", "ceo"),
    ("sales_manager", "Sales manager (team A)", "sales_director"),
    ("rep_a", "Sales rep (team A)", "sales_manager"),
    ("sales_manager_b", "Sales manager (team B)", "sales_director"),
    ("rep_b", "Sales rep (team B)", "sales_manager_b"),
    ("support_manager", "Support manager", "ceo"),
    ("support_t2", "Support tier 2", "support_manager"),
    ("support_t1", "Support tier 1", "support_t2"),
    ("marketing", "Marketing", "ceo"),
]

ALL = ("view", "create", "edit", "delete", "import", "export")
READ = ("view",)
PROFILES = {
    # key: (name, is_admin, rights, {record type: actions})
    "admin": ("Administrator", True, (), {}),
    "manager": ("Sales manager", False, ("view_audit_log",), {
        "leads.lead": ALL, "accounts.account": ALL, "accounts.contact": ALL,
        "opportunities.opportunity": ALL, "campaigns.campaign": READ}),
    "rep": ("Sales rep", False, (), {
        "leads.lead": ("view", "create", "edit", "import", "export"),
        "accounts.account": ("view", "create", "edit"), "accounts.contact": ("view", "create", "edit"),
        "opportunities.opportunity": ("view", "create", "edit"), "campaigns.campaign": READ}),
    "support": ("Support agent", False, (), {
        "accounts.account": READ, "accounts.contact": ("view", "create", "edit"),
        "support.ticket": ("view", "create", "edit"), "support.article": ("view", "create", "edit")}),
    "marketing": ("Marketing", False, (), {
        "leads.lead": ALL, "campaigns.campaign": ALL, "accounts.contact": READ, "accounts.account": READ}),
}

ORG_DEFAULTS = {
    "leads.lead": "private",
    "accounts.account": "private",
    "accounts.contact": "private",
    "opportunities.opportunity": "private",
    "campaigns.campaign": "public_read",
    "support.ticket": "public_read",
    "support.article": "public_read",
}

COMPANIES = [
    ("Nordic Timber Oy", "FI", "Helsinki", "manufacturing", "fi"),
    ("Aalto Robotics", "FI", "Espoo", "technology", "fi"),
    ("Kuopio Health Services", "FI", "Kuopio", "healthcare", "fi"),
    ("Lapland Logistics", "FI", "Rovaniemi", "transport", "fi"),
    ("Tampere Energy", "FI", "Tampere", "energy", "fi"),
    ("Oulu Software House", "FI", "Oulu", "technology", "fi"),
    ("پارس داده", "IR", "تهران", "technology", "fa"),
    ("صنایع غذایی البرز", "IR", "کرج", "manufacturing", "fa"),
    ("گروه بازرگانی آریا", "IR", "اصفهان", "retail", "fa"),
    ("بیمه سپهر", "IR", "مشهد", "finance", "fa"),
    ("ساختمان‌سازی شیراز", "IR", "شیراز", "construction", "fa"),
    ("Brightside Retail Ltd", "GB", "London", "retail", "en"),
    ("Harbor Finance", "US", "Boston", "finance", "en"),
    ("Greenfield Farms", "US", "Des Moines", "agriculture", "en"),
    ("Summit Consulting Group", "GB", "Manchester", "consulting", "en"),
    ("Bluewave Telecom", "IE", "Dublin", "telecom", "en"),
]
NAMES = {
    "fi": [("Juha", "Korhonen"), ("Anna", "Laine"), ("Timo", "Heikkinen"), ("Sanna", "Koskinen"),
           ("Petri", "Järvinen"), ("Liisa", "Lehtonen"), ("Matti", "Salminen"), ("Kaisa", "Rantanen")],
    "fa": [("مریم", "رضایی"), ("علی", "محمدی"), ("زهرا", "کریمی"), ("حسین", "موسوی"),
           ("نرگس", "جعفری"), ("امیر", "صادقی"), ("فاطمه", "نوری"), ("رضا", "قاسمی")],
    "en": [("James", "Smith"), ("Olivia", "Williams"), ("Noah", "Brown"), ("Emma", "Jones"),
           ("Liam", "Miller"), ("Ava", "Davis"), ("Lucas", "Wilson"), ("Mia", "Taylor")],
}
TITLES = ["CEO", "CTO", "Head of Purchasing", "IT Manager", "Operations Director", "CFO", "Project Manager", "Buyer"]


def seed(*, leads: int = 60, stdout=None) -> None:
    with transaction.atomic():
        users = _access()
        _leads(users, count=leads)
        _lead_rules(users)
        _accounts_and_opportunities(users)
        _tasks(users)
    if stdout:
        stdout.write("Demo data ready.\n")


def _access() -> dict:
    from crm.access import services
    from crm.access.models import ObjectPermission, OrgDefault, PermissionProfile, Role, SharingRule, Team, User
    from crm.core import records

    roles: dict[str, Role] = {}
    for key, name, parent in ROLES:
        role = Role.objects.filter(name=name).first()
        if role is None:
            role = services.role_create(actor=None, name=name, parent=roles.get(parent))
        roles[key] = role

    known_types = {rt.key for rt in records.all_types()}
    profiles: dict[str, PermissionProfile] = {}
    for key, (name, is_admin, rights, perms) in PROFILES.items():
        profile, created = PermissionProfile.objects.get_or_create(
            name=name, defaults={"is_admin": is_admin, **{r: True for r in rights}})
        if created:
            for record_type, actions in perms.items():
                if record_type in known_types:
                    ObjectPermission.objects.create(profile=profile, record_type=record_type,
                                                    **{f"can_{a}": a in actions for a in ObjectPermission.ACTIONS})
        profiles[key] = profile

    users: dict[str, User] = {}
    for email, (first, last, title, role_key, profile_key, language, tz, jalali) in PEOPLE.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, first_name=first, last_name=last, title=title, role=roles[role_key],
                profile=profiles[profile_key], language=language, timezone=tz, use_jalali=jalali,
                is_superuser=profile_key == "admin", is_staff=profile_key == "admin",
            )
        users[email.split("@")[0]] = user

    for name, members, access in (
        ("Team A", ("manager", "rep1", "rep2"), Team.Access.NONE),
        ("Team B", ("rep3",), Team.Access.NONE),
        ("Inbound team", ("rep1", "rep2", "rep3"), Team.Access.NONE),
        ("Support", ("agent", "agent2"), Team.Access.READ_WRITE),
    ):
        team, created = Team.objects.get_or_create(name=name, defaults={"record_access": access})
        if created:
            team.members.set([users[m] for m in members])
            if name == "Team A":
                team.leader = users["manager"]
                team.save(update_fields=["leader"])

    for record_type, access in ORG_DEFAULTS.items():
        if record_type in known_types and not OrgDefault.objects.filter(record_type=record_type).exists():
            services.org_default_set(actor=None, record_type=record_type, access=access)

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
    return users


def _leads(users, *, count: int) -> None:
    from campaigns.models import Campaign, Touch
    from crm.customization.models import PicklistValue
    from leads.models import Lead, LifecycleStage, LifecycleTransition

    campaigns = []
    for name, kind in (("Helsinki Tech Expo 2026", "trade_show"), ("وبینار تحول دیجیتال", "webinar"),
                       ("Spring newsletter", "email")):
        campaign, _ = Campaign.objects.get_or_create(
            name=name, defaults=dict(campaign_type=kind, status="active", owner=users["marketer"],
                                     start_date=timezone.localdate() - timedelta(days=40),
                                     budget=Decimal("5000"), actual_cost=Decimal("3200")))
        campaigns.append(campaign)

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
            Touch.objects.create(campaign=campaigns[i % 3], lead=lead, channel=Touch.Channel.EVENT, touched_at=lead.created_at)


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


def _accounts_and_opportunities(users) -> None:
    from accounts.models import Account, Contact
    from opportunities.models import Opportunity, Pipeline

    if Account.objects.exists():
        return
    pipeline = Pipeline.objects.filter(is_default=True).first()
    stages = list(pipeline.stages.all()) if pipeline else []
    owners = [users["rep1"], users["rep2"], users["rep3"]]
    for i, (company, country, city, industry, lang) in enumerate(COMPANIES[:9]):
        owner = owners[i % 3]
        account = Account.objects.create(name=f"{company} Group" if lang == "en" else company + " ۲" if lang == "fa" else f"{company} Ab",
                                         account_type="customer" if i % 2 else "prospect", industry=industry,
                                         billing_city=city, billing_country=country, owner=owner, created_by=owner)
        first, last = NAMES[lang][i % len(NAMES[lang])]
        contact = Contact.objects.create(first_name=first, last_name=last, account=account, owner=owner,
                                         email=f"{i}.buyer@account{i}.example.com", title="Head of Purchasing",
                                         preferred_language=lang)
        if stages:
            stage = stages[i % (len(stages) - 2)]
            Opportunity.objects.create(name=f"{account.name}: platform licence", account=account, contact=contact,
                                       pipeline=pipeline, stage=stage, probability=stage.probability,
                                       amount=Decimal(10000 + 2500 * i), close_date=timezone.localdate() + timedelta(days=15 * (i + 1)),
                                       owner=owner, created_by=owner)


def _tasks(users) -> None:
    from django.contrib.contenttypes.models import ContentType

    from crm.activities.models import Activity
    from leads.models import Lead

    if Activity.objects.filter(kind=Activity.Kind.TASK).exists():
        return
    now = timezone.now()
    for offset, user_key in enumerate(("rep1", "rep2", "rep3", "manager")):
        user = users[user_key]
        for n, lead in enumerate(Lead.objects.filter(owner=user).order_by("pk")[:3]):
            Activity.objects.create(
                kind=Activity.Kind.TASK, subject=f"Follow up with {lead.full_name}",
                content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk,
                actor=user, assigned_to=user, status=Activity.Status.OPEN,
                due_at=now + timedelta(days=n - 1, hours=offset),
            )
