"""The workflow-rule settings pages: the list, the editor (condition builder, actions added one by one, a new
version on change), activate/deactivate, "Test this rule" and its replay, apply to existing records, the log,
Failed runs with Retry, the health panel and its beat warning; all behind the customization right."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.access.tests.factories import AdminFactory
from crm.automation.models_rules import ActionRun, Heartbeat, RuleRun, WorkflowRule
from crm.automation.tests.rule_helpers import hot, make_rule, settle
from crm.core.models import Event
from leads.models import Lead
from leads.services import lead_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = AdminFactory()
    client.force_login(admin)
    client.admin = admin
    return client


def test_only_admins_with_the_customization_right_see_the_pages(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    rule = make_rule()
    for url in (reverse("automation:rule_list"), reverse("automation:rule_edit", args=[rule.pk]),
                reverse("automation:rule_test", args=[rule.pk]), reverse("automation:run_list"),
                reverse("automation:failed_runs"), reverse("automation:health")):
        assert client.get(url).status_code == 404


def test_an_admin_builds_a_rule_adding_actions_one_by_one(admin_client, reps):
    rep, _, _ = reps
    url = reverse("automation:rule_create")
    assert b"Record type" in admin_client.get(url).content
    page = admin_client.get(url, {"record_type": "leads.lead"})
    assert b"data-condition-builder" in page.content
    base = {"record_type": "leads.lead", "name": "Hot leads get a call", "order": "10", "is_active": "on",
            "trigger": "created", "offset_unit": "days", "offset_direction": "after",
            "criteria": '{"all": [{"field": "rating", "op": "equals", "value": "hot"}]}', "actions-count": "0"}
    page = admin_client.post(url + "?record_type=leads.lead", {**base, "new_kind": "create_task", "add": "1"})
    assert page.status_code == 200 and b'name="a0-subject"' in page.content
    assert not WorkflowRule.objects.exists()
    page = admin_client.post(url + "?record_type=leads.lead", {**base, "save": "1", "actions-count": "1",
                                                               "a0-kind": "create_task", "a0-subject": "",
                                                               "a0-assignee": "owner", "a0-due_days": "0"})
    assert page.status_code == 200 and not WorkflowRule.objects.exists()  # the subject is required
    response = admin_client.post(url + "?record_type=leads.lead", {
        **base, "save": "1", "actions-count": "1", "a0-kind": "create_task", "a0-subject": "Call {{ lead.first_name }}",
        "a0-assignee": "owner", "a0-due_days": "0"})
    rule = WorkflowRule.objects.get()
    assert response.status_code == 302 and response.url == reverse("automation:rule_edit", args=[rule.pk])
    assert rule.current_version.actions == [{"kind": "create_task", "subject": "Call {{ lead.first_name }}",
                                             "assignee": "owner", "due_days": 0}]
    assert rule.current_version.criteria == hot()

    lead = lead_create(actor=rep, lead=Lead(first_name="Aino", last_name="Laine", owner=rep, rating="hot"))
    settle()
    assert lead.pk in RuleRun.objects.values_list("object_id", flat=True)

    # Editing what it does: version 2, shown with version 1 in the list of versions.
    edit = reverse("automation:rule_edit", args=[rule.pk])
    page = admin_client.get(edit)
    assert b'value="Call {{ lead.first_name }}"' in page.content
    admin_client.post(edit, {**base, "save": "1", "actions-count": "2", "a0-kind": "create_task",
                             "a0-subject": "Call", "a0-assignee": "owner", "a0-due_days": "1",
                             "a1-kind": "notify", "a1-to": "owner", "a1-message": "Hot!"})
    rule.refresh_from_db()
    assert rule.current_version.number == 2 and len(rule.current_version.actions) == 2
    page = admin_client.get(edit).content.decode()
    assert "v1" in page and "v2" in page
    # Removing an action.
    admin_client.post(edit, {**base, "save": "1", "actions-count": "2", "a0-kind": "create_task",
                             "a0-subject": "Call", "a0-assignee": "owner", "a0-due_days": "1",
                             "a1-kind": "notify", "a1-to": "owner", "a1-message": "Hot!", "a1-remove": "1"})
    rule.refresh_from_db()
    assert [a["kind"] for a in rule.current_version.actions] == ["create_task"]


def test_the_list_shows_trigger_criteria_actions_and_the_toggle_works(admin_client):
    rule = make_rule(name="Hot leads", criteria=hot())
    page = admin_client.get(reverse("automation:rule_list")).content.decode()
    assert "Hot leads" in page and "When a record is created" in page and "Rating equals Hot" in page
    assert "Create the task" in page
    admin_client.post(reverse("automation:rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.is_active


def test_test_this_rule_shows_each_criterion_and_the_actions_without_changing_anything(admin_client, reps):
    rep, _, _ = reps
    rule = make_rule(criteria={"all": [{"field": "rating", "op": "equals", "value": "hot"},
                                       {"field": "city", "op": "equals", "value": "Oulu"}]})
    lead = Lead.objects.create(first_name="Aino", last_name="Laine", rating="hot", city="Turku", owner=rep)
    url = reverse("automation:rule_test", args=[rule.pk])
    page = admin_client.get(url, {"q": "Laine"}).content.decode()
    assert f"record={lead.pk}" in page
    page = admin_client.get(url, {"record": lead.pk}).content.decode()
    assert 'data-outcome="not-matched"' in page and "Turku" in page and "Create the task" in page
    assert not RuleRun.objects.exists() and not ActionRun.objects.exists()
    Lead.objects.filter(pk=lead.pk).update(city="Oulu")
    assert 'data-outcome="matched"' in admin_client.get(url, {"record": lead.pk}).content.decode()


def test_replay_counts_how_often_the_rule_would_have_fired(admin_client, reps):
    rep, _, _ = reps
    rule = make_rule(criteria=hot())
    for rating in ("hot", "hot", "cold"):
        Lead.objects.create(last_name="X", rating=rating, owner=rep)
    Lead.objects.create(last_name="Old", rating="hot", owner=rep, created_at=timezone.now() - timedelta(days=30))
    page = admin_client.get(reverse("automation:rule_test", args=[rule.pk]), {"days": "7"}).content.decode()
    assert "It would have fired 2 times on 3 records" in page


def test_replay_of_a_change_trigger_reads_the_saved_changes(admin_client, reps):
    from leads.services import lead_snapshot, lead_update

    rep, _, _ = reps
    rule = make_rule(trigger="field_changed", trigger_field="title")
    lead = lead_create(actor=rep, lead=Lead(last_name="X", owner=rep, title="A"))
    before = lead_snapshot(lead)
    lead.title = "B"
    lead_update(actor=rep, lead=lead, before=before)
    page = admin_client.get(reverse("automation:rule_test", args=[rule.pk]), {"days": "1"}).content.decode()
    assert "It would have fired 1 times on 2 records" in page
    assert Event.objects.count() == 2


def test_apply_to_existing_records_shows_the_count_first(admin_client, reps):
    from opportunities.models import Opportunity
    from opportunities.tests.factories import OpportunityFactory

    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, close_date=timezone.localdate() - timedelta(days=10))
    rule = make_rule(record_type="opportunities.opportunity", trigger="time_based", trigger_field="close_date",
                     offset_amount=1, offset_unit="days")
    url = reverse("automation:rule_apply", args=[rule.pk])
    page = admin_client.get(url).content.decode()
    assert "1 existing record meets the criteria" in page
    assert Opportunity.objects.count() == 1 and deal.pk


def test_the_log_filters_and_failed_runs_retry(admin_client, reps, settings):
    settings.AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    rep, _, _ = reps
    rule = make_rule(name="Hooks", actions=[{"kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "k"}])
    make_rule(name="Tasks")
    lead_create(actor=rep, lead=Lead(last_name="Searchable", owner=rep))
    settle()
    page = admin_client.get(reverse("automation:run_list"), {"rule": rule.pk}).content.decode()
    assert "Hooks" in page and page.count("data-run=") == 1
    page = admin_client.get(reverse("automation:run_list"), {"record": "Searchab"}).content.decode()
    assert page.count("data-run=") == 2
    run = RuleRun.objects.get(rule=rule)
    assert "could not be reached" in admin_client.get(reverse("automation:run_detail", args=[run.pk])).content.decode()
    ActionRun.objects.filter(run=run).update(status="failed", finished_at=timezone.now())
    page = admin_client.get(reverse("automation:failed_runs")).content.decode()
    assert "could not be reached" in page and "Retry" in page
    action = ActionRun.objects.get(run=run)
    admin_client.post(reverse("automation:action_retry", args=[action.pk]))
    action.refresh_from_db()
    assert action.status == "pending" and action.attempts == 0


def test_the_health_panel_warns_when_beat_has_not_run_for_two_minutes(admin_client):
    page = admin_client.get(reverse("automation:health")).content.decode()
    assert 'id="beat-warning"' in page and "never run" in page
    Heartbeat.objects.create(name="automation-tick", at=timezone.now() - timedelta(minutes=3))
    assert 'id="beat-warning"' in admin_client.get(reverse("automation:health")).content.decode()
    from crm.automation.engine import tick

    tick()
    page = admin_client.get(reverse("automation:health")).content.decode()
    assert 'id="beat-warning"' not in page and "Failures in 24 hours" in page
    admin_client.post(reverse("automation:health"), {"log_retention_days": "7"})
    from crm.automation.models_rules import AutomationSettings

    assert AutomationSettings.get().log_retention_days == 7


def test_the_log_is_kept_for_the_configured_days(reps):
    from crm.automation.engine import cleanup
    from crm.automation.models_rules import AutomationSettings

    rep, _, _ = reps
    make_rule()
    lead_create(actor=rep, lead=Lead(last_name="X", owner=rep))
    settle()
    AutomationSettings.objects.update_or_create(pk=1, defaults={"log_retention_days": 3})
    RuleRun.objects.update(created_at=timezone.now() - timedelta(days=4))
    assert cleanup() == 1 and not ActionRun.objects.exists()


def test_a_record_page_tells_admins_why_a_rule_did_or_did_not_fire(admin_client, reps):
    from opportunities.services import opportunity_create
    from opportunities.tests.factories import stage

    rep, _, _ = reps
    rule = make_rule(record_type="opportunities.opportunity", name="Big deals",
                     criteria={"all": [{"field": "amount", "op": "gt", "value": "5000"}]})
    opp = opportunity_create(actor=rep, name="Small", stage=stage(), owner=rep, amount=100)
    settle()
    page = admin_client.get(opp.get_absolute_url()).content.decode()
    why = reverse("automation:rule_test", args=[rule.pk]) + f"?record={opp.pk}"
    assert 'id="workflow-rules"' in page and why.replace("&", "&amp;") in page
    assert 'data-outcome="not-matched"' in admin_client.get(why).content.decode()
    page = admin_client.get(reverse("automation:run_list"), {"record_type": "opportunities.opportunity",
                                                             "record_id": opp.pk}).content.decode()
    assert "No runs match." in page
    admin_client.force_login(rep)
    assert 'id="workflow-rules"' not in admin_client.get(opp.get_absolute_url()).content.decode()


def test_the_lead_page_shows_the_rule_panel_to_admins_only(admin_client, client, reps):
    rep, _, _ = reps
    rule = make_rule(name="Greets hot leads")
    lead = lead_create(actor=rep, lead=Lead(last_name="Paneled", owner=rep))
    settle()
    page = admin_client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="workflow-rules"' in page and "Greets hot leads" in page
    assert reverse("automation:rule_test", args=[rule.pk]) + f"?record={lead.pk}" in page
    client.force_login(rep)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Paneled" in page and 'id="workflow-rules"' not in page


def test_failed_runs_points_to_failed_auto_responses_and_escalations(admin_client, reps):
    from django.contrib.contenttypes.models import ContentType

    from crm.automation.models_autoresponders import AutoResponse

    rep, _, _ = reps
    assert 'data-testid="failed-elsewhere"' not in admin_client.get(reverse("automation:failed_runs")).content.decode()
    lead = lead_create(actor=rep, lead=Lead(last_name="Bounced", owner=rep))
    AutoResponse.objects.create(content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk,
                                record_repr=str(lead), outcome=AutoResponse.Outcome.FAILED, error="SMTP refused")
    page = admin_client.get(reverse("automation:failed_runs")).content.decode()
    link = reverse("automation:autoresponse_log") + "?outcome=failed"
    assert "1 failed auto-response" in page and link in page and "failed escalation" not in page
    assert "SMTP refused" in admin_client.get(link).content.decode()


def test_the_log_filters_a_day_range_in_the_site_time_zone(admin_client, reps):
    rep, _, _ = reps
    make_rule(name="Tasks")
    for name in ("Old", "New"):
        lead_create(actor=rep, lead=Lead(last_name=name, owner=rep))
    settle()
    RuleRun.objects.filter(record_repr__startswith="Old").update(created_at=timezone.now() - timedelta(days=3))
    url = reverse("automation:run_list")
    day = (timezone.localdate() - timedelta(days=3)).isoformat()
    old = admin_client.get(url, {"date_from": day, "date_to": day}).content.decode()
    assert old.count("data-run=") == 1 and "Old" in old
    recent = admin_client.get(url, {"date_from": timezone.localdate().isoformat()}).content.decode()
    assert recent.count("data-run=") == 1 and "New" in recent
