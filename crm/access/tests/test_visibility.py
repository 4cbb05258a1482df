"""Visibility on real queries: org-wide defaults × role hierarchy × sharing
rules × teams, and `explain()` agreeing with `visible_to()`."""
import pytest

from crm.access.visibility import clear_caches

from crm.access import visibility
from crm.access.models import Access, SharingRule, Team
from crm.access.tests.factories import (
    AdminFactory,
    ProfileFactory,
    RoleFactory,
    SharingRuleFactory,
    TeamFactory,
    UserFactory,
    set_org_default,
)
from crm.customization.models import CustomField
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """CEO → manager → reps (rep1, rep2 share the rep role); CEO → manager B → rep3."""
    ceo_role = RoleFactory(name="CEO")
    manager_role = RoleFactory(name="Sales manager", parent=ceo_role)
    rep_role = RoleFactory(name="Sales rep A", parent=manager_role)
    manager_b_role = RoleFactory(name="Sales manager B", parent=ceo_role)
    rep_b_role = RoleFactory(name="Sales rep B", parent=manager_b_role)
    profile = ProfileFactory(record_types=["leads.lead"])

    def user(email, role):
        return UserFactory(email=email, role=role, profile=profile)

    o = type("Org", (), {})()
    o.ceo = user("ceo@x.test", ceo_role)
    o.manager = user("manager@x.test", manager_role)
    o.rep1 = user("rep1@x.test", rep_role)
    o.rep2 = user("rep2@x.test", rep_role)
    o.manager_b = user("managerb@x.test", manager_b_role)
    o.rep3 = user("rep3@x.test", rep_b_role)
    o.roles = dict(ceo=ceo_role, manager=manager_role, rep=rep_role, manager_b=manager_b_role, rep_b=rep_b_role)
    o.lead1 = Lead.objects.create(last_name="One", company="Acme", owner=o.rep1)
    o.lead2 = Lead.objects.create(last_name="Two", company="Beta", owner=o.rep2)
    o.lead3 = Lead.objects.create(last_name="Three", company="Gamma", owner=o.rep3, country="FI")
    o.unowned = Lead.objects.create(last_name="Nobody", company="Delta")
    return o


def visible(user, action="view"):
    return set(Lead.objects.visible_to(user, action).values_list("last_name", flat=True))


def test_private_default_owner_and_hierarchy(org):
    set_org_default("leads.lead", Access.PRIVATE)

    assert visible(org.rep1) == {"One"}
    assert visible(org.rep2) == {"Two"}  # a peer in the same role sees nothing of rep1
    assert visible(org.manager) == {"One", "Two"}
    assert visible(org.manager_b) == {"Three"}
    assert visible(org.ceo) == {"One", "Two", "Three"}
    # managers edit what their subordinates own
    assert visible(org.manager, "edit") == {"One", "Two"}
    assert visible(org.rep1, "edit") == {"One"}


def test_public_read_lets_everyone_read_but_only_owners_edit(org):
    set_org_default("leads.lead", Access.PUBLIC_READ)

    assert visible(org.rep1) == {"One", "Two", "Three", "Nobody"}
    assert visible(org.rep1, "edit") == {"One"}
    assert visible(org.manager, "edit") == {"One", "Two"}


def test_public_read_write_opens_everything(org):
    set_org_default("leads.lead", Access.PUBLIC_READ_WRITE)

    assert visible(org.rep3, "edit") == {"One", "Two", "Three", "Nobody"}


def test_admin_sees_everything_under_private(org):
    set_org_default("leads.lead", Access.PRIVATE)
    admin = AdminFactory()

    assert visible(admin, "edit") == {"One", "Two", "Three", "Nobody"}


def test_owner_based_rule_shares_read_only_with_a_role(org):
    set_org_default("leads.lead", Access.PRIVATE)
    SharingRuleFactory(
        kind=SharingRule.Kind.OWNER, source_role=org.roles["rep_b"],
        target_kind=SharingRule.Target.ROLE, target_role=org.roles["rep"],
        access_level=SharingRule.Level.READ,
    )

    assert visible(org.rep1) == {"One", "Three"}
    assert visible(org.rep1, "edit") == {"One"}
    assert visible(org.manager) == {"One", "Two"}  # ROLE target: not the role's superiors


def test_owner_rule_with_subordinates_and_role_and_subordinates_target(org):
    set_org_default("leads.lead", Access.PRIVATE)
    SharingRuleFactory(
        kind=SharingRule.Kind.OWNER, source_role=org.roles["manager_b"], source_include_subordinates=True,
        target_kind=SharingRule.Target.ROLE_AND_SUBORDINATES, target_role=org.roles["manager"],
        access_level=SharingRule.Level.READ_WRITE,
    )

    assert visible(org.manager, "edit") == {"One", "Two", "Three"}
    assert visible(org.rep2, "edit") == {"Two", "Three"}
    assert visible(org.manager_b) == {"Three"}


def test_criteria_rule_on_standard_and_custom_fields(org):
    set_org_default("leads.lead", Access.PRIVATE)
    team = TeamFactory()
    team.members.add(org.rep1)
    SharingRuleFactory(
        kind=SharingRule.Kind.CRITERIA, criteria={"all": [{"field": "country", "op": "equals", "value": "FI"}]},
        target_kind=SharingRule.Target.TEAM, target_team=team,
    )
    CustomField.objects.create(record_type="leads.lead", name="region", label="Region", field_type="text")
    Lead.objects.filter(pk=org.lead2.pk).update(custom={"region": "Nordics"})
    SharingRuleFactory(
        kind=SharingRule.Kind.CRITERIA, criteria={"all": [{"field": "cf_region", "op": "contains", "value": "nordic"}]},
        target_kind=SharingRule.Target.ROLE, target_role=org.roles["manager_b"],
    )

    assert visible(org.rep1) == {"One", "Three"}
    assert visible(org.manager_b) == {"Two", "Three"}
    assert visible(org.rep2) == {"Two"}


def test_inactive_rule_grants_nothing(org):
    set_org_default("leads.lead", Access.PRIVATE)
    SharingRuleFactory(
        kind=SharingRule.Kind.OWNER, source_role=org.roles["rep_b"], is_active=False,
        target_kind=SharingRule.Target.ROLE, target_role=org.roles["rep"],
    )

    assert visible(org.rep1) == {"One"}


def test_team_record_sharing(org):
    set_org_default("leads.lead", Access.PRIVATE)
    team = TeamFactory(record_access=Team.Access.READ)
    team.members.add(org.rep1, org.rep3)

    assert visible(org.rep1) == {"One", "Three"}
    assert visible(org.rep1, "edit") == {"One"}

    team.record_access = Team.Access.READ_WRITE
    team.save()
    clear_caches()  # what the team services do on every change
    fresh = type(org.rep1).objects.get(pk=org.rep1.pk)
    assert visible(fresh, "edit") == {"One", "Three"}


def test_profile_without_view_permission_sees_nothing(org):
    set_org_default("leads.lead", Access.PUBLIC_READ_WRITE)
    outsider = UserFactory(profile=ProfileFactory(record_types=[]))

    assert visible(outsider) == set()


def test_inactive_user_sees_nothing(org):
    set_org_default("leads.lead", Access.PUBLIC_READ_WRITE)
    org.rep1.is_active = False

    assert visible(org.rep1) == set()


def test_explain_names_the_granting_rule_and_agrees_with_visible_to(org):
    set_org_default("leads.lead", Access.PRIVATE)
    rule = SharingRuleFactory(
        name="B leads to A reps", kind=SharingRule.Kind.OWNER, source_role=org.roles["rep_b"],
        target_kind=SharingRule.Target.ROLE, target_role=org.roles["rep"],
    )

    assert [g.reason for g in visibility.explain(org.rep1, org.lead1)] == ["owner"]
    assert [g.reason for g in visibility.explain(org.manager, org.lead1)] == ["hierarchy"]
    grants = visibility.explain(org.rep1, org.lead3)
    assert [g.reason for g in grants] == ["sharing_rule"] and rule.name in grants[0].label
    assert visibility.explain(org.rep1, org.lead3, "edit") == []
    assert visibility.explain(org.rep2, org.lead1) == []
    # the same code answers both questions, for every user and lead
    for user in (org.ceo, org.manager, org.rep1, org.rep2, org.manager_b, org.rep3):
        for lead in (org.lead1, org.lead2, org.lead3, org.unowned):
            for action in ("view", "edit"):
                seen = Lead.objects.visible_to(user, action).filter(pk=lead.pk).exists()
                assert seen == bool(visibility.explain(user, lead, action)), (user, lead, action)


def test_visible_to_is_one_query(org, django_assert_max_num_queries):
    set_org_default("leads.lead", Access.PRIVATE)
    SharingRuleFactory(kind=SharingRule.Kind.OWNER, source_role=org.roles["rep_b"],
                       target_kind=SharingRule.Target.ROLE, target_role=org.roles["rep"])
    user = type(org.rep1).objects.get(pk=org.rep1.pk)
    visible(user)  # warm the per-request memo (profile, rules, teams, the owners whose records they reach)

    with django_assert_max_num_queries(1):
        list(Lead.objects.visible_to(user))


def test_field_level_security_reads_the_profile(org):
    from crm.access.models import FieldAccess, FieldPermission

    FieldPermission.objects.create(profile=org.rep1.profile, record_type="leads.lead", field_name="annual_revenue",
                                   access=FieldAccess.HIDDEN)
    FieldPermission.objects.create(profile=org.rep1.profile, record_type="leads.lead", field_name="cf_region",
                                   access=FieldAccess.READ_ONLY)
    user = type(org.rep1).objects.get(pk=org.rep1.pk)

    assert visibility.field_access(user, "leads.lead") == {"annual_revenue": "hidden", "cf_region": "read_only"}
    assert visibility.field_access(AdminFactory(), "leads.lead") == {}
