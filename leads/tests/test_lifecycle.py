"""Lifecycle stages, qualification (BANT/CHAMP, policies per team), the lead page's progress."""
import pytest
from django.urls import reverse

from crm.access.tests.factories import TeamFactory
from leads import services
from leads.models import Framework, Lead, LifecycleStage, LifecycleTransition, QualificationPolicy
from leads.qualification import progress
from leads.tests.conftest import bant
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_every_transition_is_recorded_with_who_and_when(sales):
    rep, _, _ = sales
    lead = services.lead_create(actor=rep, lead=Lead(last_name="Korhonen", **bant()))
    services.lead_stage_set(actor=rep, lead=lead, stage=LifecycleStage.MQL)
    services.lead_stage_set(actor=rep, lead=lead, stage=LifecycleStage.SAL)
    services.lead_stage_set(actor=rep, lead=lead, stage=LifecycleStage.SQL)
    rows = list(LifecycleTransition.objects.filter(lead=lead).values_list("from_stage", "to_stage", "actor"))
    assert rows == [("", "new", rep.pk), ("new", "mql", rep.pk), ("mql", "sal", rep.pk), ("sal", "sql", rep.pk)]
    assert Lead.objects.get(pk=lead.pk).lifecycle_stage == "sql"


def test_sql_needs_the_required_criteria_and_names_what_is_missing(sales):
    rep, _, _ = sales
    lead = LeadFactory(owner=rep, budget_confirmed=True, budget_amount=100)
    with pytest.raises(services.TransitionRefused) as refused:
        services.lead_stage_set(actor=rep, lead=lead, stage=LifecycleStage.SQL)
    assert "Authority" in str(refused.value) and "Need" in str(refused.value) and "Budget" not in str(refused.value)
    assert Lead.objects.get(pk=lead.pk).lifecycle_stage == "new"


def test_unqualified_needs_a_reason_and_keeps_it(sales):
    rep, _, _ = sales
    lead = LeadFactory(owner=rep)
    with pytest.raises(services.TransitionRefused):
        services.lead_stage_set(actor=rep, lead=lead, stage=LifecycleStage.UNQUALIFIED, reason="  ")
    services.lead_stage_set(actor=rep, lead=lead, stage=LifecycleStage.UNQUALIFIED, reason="No budget this year")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == "unqualified" and lead.unqualified_reason == "No budget this year"
    assert LifecycleTransition.objects.filter(lead=lead, to_stage="unqualified", reason="No budget this year").exists()


def test_policy_per_team_chooses_champ_and_its_required_criteria(sales):
    rep, other, _ = sales
    team = TeamFactory(name="Enterprise")
    team.members.add(rep)
    QualificationPolicy.objects.create(team=team, framework=Framework.CHAMP, criteria={
        "challenges": {"points": 40, "sql": True, "convert": True},
        "champ_authority": {"points": 20, "sql": False, "convert": True},
        "money": {"points": 20, "sql": False, "convert": False},
        "prioritization": {"points": 20, "sql": False, "convert": False}})
    lead = LeadFactory(owner=rep, champ_challenges="Legacy ERP")
    result = progress(lead)
    assert result.framework == "champ" and result.score == 40 and result.max_score == 100
    assert result.ready_for_sql and [i.criterion.key for i in result.missing_for_conversion] == ["champ_authority"]
    # The other rep is not in the team: the defaults (BANT, all required) apply.
    assert progress(LeadFactory(owner=other)).framework == "bant"


def test_lead_page_shows_progress_and_missing_items_and_saves_bant_through_htmx(client, sales):
    rep, _, _ = sales
    lead = LeadFactory(owner=rep, need_pain_points="Manual quoting")
    client.force_login(rep)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'data-criterion="need" data-met="1"' in page and 'data-criterion="budget" data-met="0"' in page
    assert "Missing before SQL:" in page and "Confirm the budget and its amount." in page

    response = client.post(reverse("leads:qualify", args=[lead.pk]), {
        "budget_confirmed": "true", "budget_amount": "25000", "authority_role": "economic_buyer",
        "need_pain_points": "Manual quoting", "timeline_urgency": "high", "timeline_timeframe": "0_3_months"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Ready for conversion." in response.content.decode()
    lead.refresh_from_db()
    assert lead.budget_confirmed is True and lead.authority_role == "economic_buyer"


def test_stage_change_from_the_page_reports_refusals(client, sales):
    rep, _, _ = sales
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    response = client.post(reverse("leads:stage", args=[lead.pk]), {"stage": "sql"}, follow=True)
    assert "Qualification missing for SQL" in response.content.decode()
    client.post(reverse("leads:stage", args=[lead.pk]), {"stage": "mql"})
    assert Lead.objects.get(pk=lead.pk).lifecycle_stage == "mql"


def test_another_rep_cannot_change_stage_or_qualify(client, sales):
    rep, other, _ = sales
    lead = LeadFactory(owner=rep)
    client.force_login(other)
    assert client.post(reverse("leads:stage", args=[lead.pk]), {"stage": "mql"}).status_code == 404
    assert client.post(reverse("leads:qualify", args=[lead.pk]), {"need_pain_points": "x"}).status_code == 404
    assert Lead.objects.get(pk=lead.pk).lifecycle_stage == "new"


def test_admin_edits_the_global_policy_in_the_browser(client, sales):
    from crm.access.tests.factories import AdminFactory

    client.force_login(AdminFactory())
    data = {"p-framework": "champ"}
    for key in ("budget", "authority", "need", "timeline", "challenges", "champ_authority", "money", "prioritization"):
        data[f"p-{key}_points"] = "25"
    data["p-challenges_sql"] = "on"
    response = client.post(reverse("leads:setup_qualification"), data)
    assert response.status_code == 302
    policy = QualificationPolicy.objects.get(team=None)
    assert policy.framework == "champ" and policy.criteria["challenges"]["sql"] is True
    assert policy.criteria["money"]["sql"] is False and "budget" not in policy.criteria
