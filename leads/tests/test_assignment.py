"""Assignment rules: user, round robin (fair under concurrency), territory; owners notified."""
import threading

import pytest
from django.db import connection
from django.urls import reverse

from crm.access.tests.factories import TeamFactory, UserFactory
from crm.notifications.models import Notification
from leads import services
from leads.assignment import owner_by_rules
from leads.models import AssignmentRule, Lead


@pytest.mark.django_db
def test_first_matching_rule_wins_user_and_territory(sales):
    rep, other, manager = sales
    nordic = TeamFactory(name="Nordics")
    nordic.members.add(other)
    AssignmentRule.objects.create(name="Tech to rep", order=1, target="user", user=rep,
                                  conditions={"all": [{"field": "industry", "op": "equals", "value": "technology"}]})
    AssignmentRule.objects.create(name="Nordic territory", order=2, target="territory", team=nordic, countries="FI, SE")
    assert owner_by_rules(Lead(last_name="A", industry="technology", country="FI")) == rep
    assert owner_by_rules(Lead(last_name="B", industry="retail", country="SE")) == other
    assert owner_by_rules(Lead(last_name="C", industry="retail", country="US")) is None


@pytest.mark.django_db
def test_round_robin_takes_turns_and_the_owner_is_notified_in_their_language(sales):
    rep, other, manager = sales
    other.language = "fi"
    other.save()
    team = TeamFactory()
    team.members.add(rep, other)
    AssignmentRule.objects.create(name="Everyone", target="round_robin", team=team)
    owners = [services.lead_create(actor=manager, lead=Lead(last_name=f"L{i}"), assign_by_rules=True).owner
              for i in range(4)]
    first, second = sorted([rep, other], key=lambda u: u.pk)
    assert owners == [first, second, first, second]
    assert Notification.objects.filter(recipient=other).count() == 2
    assert Notification.objects.filter(recipient=rep).count() == 2


@pytest.mark.django_db
def test_manual_creation_assigns_only_when_ticked(client, sales):
    rep, other, _ = sales
    AssignmentRule.objects.create(name="All to other", target="user", user=other)
    client.force_login(rep)
    client.post(reverse("leads:create"), {"last_name": "Untouched", "owner": rep.pk, "currency": "EUR"})
    client.post(reverse("leads:create"), {"last_name": "Routed", "owner": rep.pk, "currency": "EUR",
                                          "assign_by_rules": "on"})
    assert Lead.objects.get(last_name="Untouched").owner == rep
    assert Lead.objects.get(last_name="Routed").owner == other


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_round_robin_is_fair_under_concurrency():
    members = [UserFactory() for _ in range(3)]
    team = TeamFactory()
    team.members.add(*members)
    AssignmentRule.objects.create(name="RR", target="round_robin", team=team)
    results, barrier = [], threading.Barrier(6)

    def worker():
        try:
            barrier.wait()
            for _ in range(5):
                results.append(owner_by_rules(Lead(last_name="x")).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 30
    assert sorted(results.count(m.pk) for m in members) == [10, 10, 10]
    assert AssignmentRule.objects.get().assigned_count == 30


@pytest.mark.django_db
def test_admin_builds_rules_in_the_browser_with_validation(client):
    from crm.access.tests.factories import AdminFactory

    admin = AdminFactory()
    client.force_login(admin)
    bad = client.post(reverse("leads:setup_assignment_create"), {"name": "Territory", "order": 1, "target": "territory",
                                                                  "countries": "Finland"})
    assert bad.status_code == 200 and "two-letter" in bad.content.decode() and not AssignmentRule.objects.exists()
    team = TeamFactory()
    ok = client.post(reverse("leads:setup_assignment_create"), {
        "name": "Territory", "order": 1, "target": "territory", "team": team.pk, "countries": "fi, ee",
        "is_active": "on", "conditions": '{"all": [{"field": "industry", "op": "equals", "value": "energy"}]}'})
    assert ok.status_code == 302
    rule = AssignmentRule.objects.get()
    assert rule.countries == "FI, EE" and rule.conditions == {"all": [{"field": "industry", "op": "equals", "value": "energy"}]}
    assert rule.criteria_text == "Industry equals Energy"
    wrong = client.post(reverse("leads:setup_assignment_edit", args=[rule.pk]), {
        "name": "Territory", "order": 1, "target": "territory", "team": team.pk, "countries": "FI",
        "conditions": '{"all": [{"field": "employees", "op": "gt", "value": "many"}]}'})
    assert wrong.status_code == 200 and "not a valid value" in wrong.content.decode()
