"""Scoring rules (fit, engagement, decay), the explanation, and recomputation on events by a real Celery worker."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import wait_for
from crm.activities.models import Activity
from crm.activities.services import activity_create
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from leads import services
from leads.models import Lead, ScoringRule
from leads.scoring import compute, lead_score_update
from leads.tests.factories import LeadFactory


def rules():
    return [
        ScoringRule.objects.create(name="Title is C-level", kind="fit", points=20, order=1, conditions={"any": [
            {"field": "title", "op": "contains", "value": w} for w in ("CEO", "CTO", "Chief")]}),
        ScoringRule.objects.create(name="Calls this month", kind="engagement", engagement="call", within_days=30,
                                   points=5, max_points=15, order=2),
        ScoringRule.objects.create(name="Idle", kind="decay", within_days=30, points=10, max_points=30, order=3),
    ]


@pytest.mark.django_db
def test_fit_engagement_and_decay_add_up_and_explain_themselves(sales):
    rep, _, _ = sales
    rules()
    lead = LeadFactory(owner=rep, title="Chief Revenue Officer")
    for _ in range(4):
        activity_create(target=lead, actor=rep, kind="call", subject="Call")
    score, lines = compute(lead)
    assert score == 35
    assert [(line["label"], line["points"]) for line in lines] == [("Title is C-level", 20), ("Calls this month ×4", 15)]

    # Sixty-five idle days later: the calls fall out of the window and two periods of decay apply.
    later = timezone.now() + timedelta(days=65)
    score, lines = compute(lead, now=later)
    assert score == 0 and ("Idle", -20) in [(line["label"], line["points"]) for line in lines]


@pytest.mark.django_db
def test_custom_fields_in_fit_rules_and_the_explanation_on_the_page(client, sales):
    rep, _, _ = sales
    CustomFieldFactory(name="seats", label="Seats", field_type=FieldType.NUMBER)
    ScoringRule.objects.create(name="Over 50 seats", kind="fit", points=30,
                               conditions={"all": [{"field": "cf_seats", "op": "gt", "value": "50"}]})
    lead = LeadFactory(owner=rep, custom={"seats": "120"})
    lead_score_update(lead.pk)
    client.force_login(rep)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'data-score="30"' in page and "Over 50 seats" in page and "+30" in page


@pytest.mark.django_db
def test_list_filters_and_sorts_by_score(client, sales):
    rep, _, _ = sales
    LeadFactory(owner=rep, last_name="Low", score=5)
    LeadFactory(owner=rep, last_name="High", score=80)
    LeadFactory(owner=rep, last_name="Mid", score=40)
    client.force_login(rep)
    page = client.get(reverse("leads:list"), {"score_min": "30", "sort": "-score"}).content.decode()
    assert "Low" not in page and page.index("High") < page.index("Mid")


def test_a_real_worker_rescores_after_events(celery_worker, sales):
    """Creating a lead and logging calls queue tasks after commit; a separate worker process recomputes."""
    rep, _, _ = sales
    rules()
    lead = services.lead_create(actor=rep, lead=Lead(last_name="Mäkinen", title="CEO", owner=rep))
    wait_for(lambda: Lead.objects.get(pk=lead.pk).score == 20)
    activity_create(target=lead, actor=rep, kind=Activity.Kind.CALL, subject="Discovery call")
    fresh = wait_for(lambda: (lambda l: l if l.score == 25 else None)(Lead.objects.get(pk=lead.pk)))
    assert [line["label"] for line in fresh.score_breakdown] == ["Title is C-level", "Calls this month ×1"]


def test_a_large_rescoring_is_split_into_batches_on_the_worker(celery_worker, sales):
    from leads.tasks import SCORE_BATCH, lead_score_many_task

    rep, _, _ = sales
    rules()
    leads = Lead.objects.bulk_create([Lead(last_name=f"Bulk{i}", title="CEO", owner=rep) for i in range(SCORE_BATCH + 20)])
    lead_score_many_task.delay([lead.pk for lead in leads])
    wait_for(lambda: Lead.objects.filter(score=20).count() == len(leads), timeout=60)


@pytest.mark.django_db
def test_batch_rescoring_gives_every_lead_the_score_it_gets_alone(sales, django_assert_max_num_queries):
    from campaigns.models import Campaign, Touch
    from leads.scoring import lead_scores_update

    rep, _, _ = sales
    rules()
    ScoringRule.objects.create(name="Web forms", kind="engagement", engagement="web_form", points=7, order=4)
    ScoringRule.objects.create(name="Tasks done", kind="engagement", engagement="task", within_days=7, points=3, order=5)
    campaign = Campaign.objects.create(name="Webinar", owner=rep)
    old = timezone.now() - timedelta(days=70)
    quiet = LeadFactory(owner=rep, title="CEO", created_at=old)  # two periods of decay
    busy = LeadFactory(owner=rep, title="Buyer", created_at=old)
    for _ in range(2):
        activity_create(target=busy, actor=rep, kind="call", subject="Call")
    activity_create(target=busy, actor=rep, kind="task", subject="Done", status="done")
    activity_create(target=busy, actor=rep, kind="task", subject="Open", status="open")
    Touch.objects.create(campaign=campaign, record=busy, channel="web_form")
    touched = LeadFactory(owner=rep, created_at=old)
    Touch.objects.create(campaign=campaign, record=touched, channel="web_form", touched_at=old + timedelta(days=40))
    leads = [quiet, busy, touched]
    alone = {lead.pk: compute(Lead.objects.select_related("status", "source").get(pk=lead.pk)) for lead in leads}
    assert len({score for score, _ in alone.values()}) == 3  # three different cases
    with django_assert_max_num_queries(12):  # the same for 3 leads as for 500
        assert lead_scores_update([lead.pk for lead in leads]) == 3
    for lead in Lead.objects.filter(pk__in=alone):
        assert (lead.score, lead.score_breakdown) == alone[lead.pk] and lead.score_updated_at is not None
