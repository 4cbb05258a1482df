"""Teams, organisation-wide defaults and sharing rules under /settings/."""
import json

import pytest
from django.urls import reverse

from crm.access import visibility
from crm.access.models import Access, AuditLog, OrgDefault, SharingRule, Team
from crm.access.tests.factories import AdminFactory, RoleFactory, SharingRuleFactory, TeamFactory, UserFactory
from crm.core import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def test_team_create_edit_delete(admin_client):
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    # when a team is created with a leader and members
    admin_client.post(reverse("settings:team_create"), {
        "name": "Nordics", "description": "", "leader": a.pk, "members": [a.pk, b.pk], "record_access": "read"})
    team = Team.objects.get(name="Nordics")
    assert team.leader == a and set(team.members.all()) == {a, b} and team.record_access == "read"
    # when it is edited
    admin_client.post(reverse("settings:team_edit", args=[team.pk]), {
        "name": "Nordics", "description": "North", "leader": a.pk, "members": [a.pk, c.pk], "record_access": "read_write"})
    team.refresh_from_db()
    assert set(team.members.all()) == {a, c} and team.record_access == "read_write"
    edit = AuditLog.objects.filter(action=AuditLog.Action.TEAM_CHANGED, target_id=str(team.pk)).latest("created_at")
    assert edit.data["changes"]["record_access"] == ["read", "read_write"]
    assert edit.data["changes"]["members"] == [sorted([a.pk, b.pk]), sorted([a.pk, c.pk])]
    # when it is deleted
    admin_client.post(reverse("settings:team_delete", args=[team.pk]))
    assert not Team.objects.filter(pk=team.pk).exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.TEAM_CHANGED, target_id=str(team.pk)).count() == 3


def test_team_leader_must_be_member(admin_client):
    a, b = UserFactory(), UserFactory()
    response = admin_client.post(reverse("settings:team_create"), {
        "name": "X", "description": "", "leader": a.pk, "members": [b.pk], "record_access": "none"})
    assert "leader" in response.context["form"].errors


def test_org_defaults_form_lists_every_type_and_saves(admin_client):
    page = admin_client.get(reverse("settings:org_defaults"))
    assert [f.name for f in page.context["form"]] == [rt.key for rt in records.all_types()]
    data = {rt.key: Access.PUBLIC_READ_WRITE for rt in records.all_types()}
    data["leads.lead"] = Access.PRIVATE
    admin_client.post(reverse("settings:org_defaults"), data, REMOTE_ADDR="10.9.9.9")
    assert OrgDefault.objects.get(record_type="leads.lead").access == Access.PRIVATE
    assert visibility.org_default("leads.lead") == Access.PRIVATE
    row = AuditLog.objects.get(action=AuditLog.Action.SHARING_CHANGED)
    assert row.data == {"record_type": "leads.lead", "access": "private"} and row.ip == "10.9.9.9"


def criteria(field, op, value):
    return json.dumps({"all": [{"field": field, "op": op, "value": value}]})


def rule_post(**overrides):
    data = {"name": "Share", "kind": "owner", "source_role": "", "criteria": "", "target_kind": "role",
            "target_role": "", "target_team": "",
            "access_level": "read", "is_active": "on"}
    data.update(overrides)
    return data


def test_owner_rule_create_edit_delete(admin_client):
    source, target = RoleFactory(name="Reps"), RoleFactory(name="Support")
    url = reverse("settings:sharing_rule_create", args=["leads.lead"])
    admin_client.post(url, rule_post(source_role=source.pk, source_include_subordinates="on", target_role=target.pk,
                                     criteria=criteria("email", "equals", "stale")))
    rule = SharingRule.objects.get(name="Share")
    assert (rule.record_type, rule.source_role, rule.source_include_subordinates, rule.target_role) == (
        "leads.lead", source, True, target)
    assert rule.criteria == {}  # stale criteria are not kept
    admin_client.post(reverse("settings:sharing_rule_edit", args=[rule.pk]),
                      rule_post(name="Share 2", source_role=source.pk, target_role=target.pk, access_level="read_write"))
    rule.refresh_from_db()
    assert rule.name == "Share 2" and rule.access_level == "read_write" and not rule.source_include_subordinates
    edit = AuditLog.objects.filter(action=AuditLog.Action.SHARING_CHANGED, target_id=str(rule.pk)).latest("created_at")
    assert edit.data["changes"]["name"] == ["Share", "Share 2"]
    admin_client.post(reverse("settings:sharing_rule_delete", args=[rule.pk]))
    assert not SharingRule.objects.exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.SHARING_CHANGED, target_id=str(rule.pk)).count() == 3


def test_criteria_rule_with_team_target(admin_client):
    team = TeamFactory()
    admin_client.post(reverse("settings:sharing_rule_create", args=["leads.lead"]), rule_post(
        kind="criteria", criteria=criteria("country", "equals", "FI"), target_kind="team", target_team=team.pk))
    rule = SharingRule.objects.get()
    assert (rule.criteria, rule.target_team) == ({"all": [{"field": "country", "op": "equals", "value": "FI"}]}, team)
    assert rule.criteria_text == "Country equals FI"


@pytest.mark.parametrize("overrides, fields", [
    ({"kind": "owner", "target_role": "ROLE"}, {"source_role"}),
    ({"kind": "criteria", "target_role": "ROLE"}, {"criteria"}),
    ({"kind": "criteria", "criteria": '{"all": [{"field": "score", "op": "gt", "value": "lots"}]}',
      "target_role": "ROLE"}, {"criteria"}),
    ({"kind": "criteria", "criteria": "{not json", "target_role": "ROLE"}, {"criteria"}),
    ({"kind": "criteria", "criteria": '{"all": [{"field": "rating", "op": "changed"}]}', "target_role": "ROLE"},
     {"criteria"}),
    ({"source_role": "ROLE", "target_kind": "role_subordinates"}, {"target_role"}),
    ({"source_role": "ROLE", "target_kind": "team"}, {"target_team"}),
    ({"kind": "criteria", "criteria": '{"all": [{"field": "not_a_field", "op": "equals", "value": "x"}]}',
      "target_role": "ROLE"}, {"criteria"}),
])
def test_rule_validation(admin_client, overrides, fields):
    role = RoleFactory()
    data = rule_post(**{k: (role.pk if v == "ROLE" else v) for k, v in overrides.items()})
    response = admin_client.post(reverse("settings:sharing_rule_create", args=["leads.lead"]), data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == fields
    assert not SharingRule.objects.exists()


def test_the_condition_builder_offers_custom_fields(admin_client):
    from crm.customization.tests.factories import CustomFieldFactory

    CustomFieldFactory(record_type="leads.lead", name="region")
    page = admin_client.get(reverse("settings:sharing_rule_create", args=["leads.lead"])).content.decode()
    assert "data-condition-builder" in page and '"name": "cf_region"' in page and '"name": "country"' in page
    assert "js/conditions.js" in page


def test_rule_list_groups_by_type(admin_client):
    role = RoleFactory()
    SharingRuleFactory(name="Lead rule", record_type="leads.lead", source_role=role, target_role=role)
    groups = admin_client.get(reverse("settings:sharing_rules")).context["groups"]
    lead_group = next(g for g in groups if g["type"].key == "leads.lead")
    assert [r.name for r in lead_group["rules"]] == ["Lead rule"]
