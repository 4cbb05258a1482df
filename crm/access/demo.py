"""Demo people and access: users in a role hierarchy, permission profiles, teams and private sharing on
sales records, so the role hierarchy and sharing rules matter when a new user looks around."""
from __future__ import annotations

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



def seed(context: dict) -> None:
    context["users"] = _access()


def _access() -> dict:
    from crm.access import services
    from crm.access.models import ObjectPermission, OrgDefault, PermissionProfile, Role, Team, User
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

    return users


