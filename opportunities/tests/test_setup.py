"""Settings › Pipelines and stages: only for the customization right; pipelines with translated names and one
default; stages with translations, order, probability, forecast category, outcome and required fields; a stage
that holds deals is deleted only after they move; every change audited."""
import pytest
from django.urls import reverse
from django.utils import translation

from crm.access.models import AuditLog
from crm.access.tests.factories import ProfileFactory, UserFactory
from opportunities.models import Pipeline, Stage, StageChange
from opportunities.tests.factories import OpportunityFactory, default_pipeline, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def customizer(db):
    return UserFactory(profile=ProfileFactory(manage_customization=True))


def audited(what: str) -> list[dict]:
    return [row.data for row in AuditLog.objects.filter(action=AuditLog.Action.CUSTOMIZATION_CHANGED)
            if row.data.get("what") == what]


def test_pages_are_404_without_the_customization_right(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    prospecting = stage("Prospecting")
    for url in (reverse("opportunities:setup_pipelines"), reverse("opportunities:setup_pipeline_create"),
                reverse("opportunities:setup_stage_edit", args=[prospecting.pk]),
                reverse("opportunities:setup_stage_delete", args=[prospecting.pk])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("opportunities:setup_stage_reorder", args=[prospecting.pk]),
                       {"direction": "down"}).status_code == 404
    assert stage("Prospecting").order == prospecting.order


def test_the_section_is_listed_under_settings(client, customizer):
    client.force_login(customizer)
    page = client.get(reverse("settings:index")).content.decode()
    assert reverse("opportunities:setup_pipelines") in page


def test_pipelines_page_lists_stages_with_counts_within_a_query_budget(client, customizer, reps,
                                                                       django_assert_max_num_queries):
    rep, _, _ = reps
    OpportunityFactory(owner=rep)
    OpportunityFactory(owner=rep, stage=stage("Qualification"))
    renewals = Pipeline.objects.create(name="Renewals", order=1)
    Stage.objects.create(pipeline=renewals, name="Up for renewal", probability=50)
    client.force_login(customizer)
    client.get(reverse("opportunities:setup_pipelines"))

    with django_assert_max_num_queries(20):
        response = client.get(reverse("opportunities:setup_pipelines"))

    page = response.content.decode()
    assert "Renewals" in page and "Up for renewal" in page and "Negotiation / review" in page
    assert page.index("New business") < page.index("Renewals")  # in their order


def test_admin_creates_a_pipeline_with_translations_and_makes_it_the_default(client, customizer):
    client.force_login(customizer)

    response = client.post(reverse("opportunities:setup_pipeline_create"),
                           {"name": "Renewals", "name_fa": "تمدیدها", "name_fi": "Uusinnat", "order": "2",
                            "is_default": "on"})

    assert response.status_code == 302
    renewals = Pipeline.objects.get(name="Renewals")
    assert renewals.name_translations == {"fa": "تمدیدها", "fi": "Uusinnat"} and renewals.is_default
    assert list(Pipeline.objects.filter(is_default=True)) == [renewals]  # one default
    with translation.override("fi"):
        assert str(renewals) == "Uusinnat"
    assert audited("pipeline")[-1]["name"] == "Renewals"

    # renamed; unticking the only default keeps one
    client.post(reverse("opportunities:setup_pipeline_edit", args=[renewals.pk]),
                {"name": "Renewal deals", "name_fa": "", "name_fi": "Uusinnat", "order": "2"})
    renewals.refresh_from_db()
    assert renewals.name == "Renewal deals" and renewals.name_translations == {"fi": "Uusinnat"}
    assert renewals.is_default


def test_admin_adds_a_stage_with_required_fields_and_edits_it(client, customizer):
    from crm.customization.tests.factories import CustomFieldFactory

    CustomFieldFactory(record_type="opportunities.opportunity", name="budget_code", label="Budget code")
    pipeline = default_pipeline()
    client.force_login(customizer)
    form = client.get(reverse("opportunities:setup_stage_create", args=[pipeline.pk])).content.decode()
    assert 'value="custom.budget_code"' in form and 'value="next_step"' in form

    response = client.post(reverse("opportunities:setup_stage_create", args=[pipeline.pk]), {
        "name": "Legal review", "name_fa": "بررسی حقوقی", "name_fi": "Juridinen tarkastus", "probability": "85",
        "forecast_category": "commit", "outcome": "open", "required_fields": ["next_step", "custom.budget_code"]})

    assert response.status_code == 302
    legal = Stage.objects.get(name="Legal review")
    assert (legal.pipeline, legal.probability, legal.forecast_category, legal.outcome) == (pipeline, 85, "commit", "open")
    assert legal.required_fields == ["next_step", "custom.budget_code"]
    assert legal.order > stage("Closed lost").order  # added last
    assert audited("stage")[-1]["required_fields"] == ["next_step", "custom.budget_code"]

    client.post(reverse("opportunities:setup_stage_edit", args=[legal.pk]), {
        "name": "Legal review", "probability": "101", "forecast_category": "commit", "outcome": "open"})
    assert Stage.objects.get(pk=legal.pk).probability == 85  # refused: over 100


def test_stages_move_up_and_down(client, customizer):
    client.force_login(customizer)
    names = lambda: list(Stage.objects.filter(pipeline__is_default=True).order_by("order", "id")
                         .values_list("name", flat=True))
    before = names()

    client.post(reverse("opportunities:setup_stage_reorder", args=[stage("Qualification").pk]), {"direction": "up"})
    assert names()[:2] == ["Qualification", "Prospecting"]
    client.post(reverse("opportunities:setup_stage_reorder", args=[stage("Qualification").pk]), {"direction": "down"})
    assert names() == before
    client.post(reverse("opportunities:setup_stage_reorder", args=[stage("Prospecting").pk]), {"direction": "up"})
    assert names() == before  # already first
    assert audited("stage_order")


def test_a_stage_with_deals_is_deleted_only_after_they_move(client, customizer, reps):
    rep, _, _ = reps
    needs = stage("Needs analysis")
    deals = [OpportunityFactory(owner=rep, stage=needs) for _ in range(2)]
    for deal in deals:
        StageChange.objects.create(opportunity=deal, to_stage=needs)
    client.force_login(customizer)
    url = reverse("opportunities:setup_stage_delete", args=[needs.pk])

    asked = client.get(url).content.decode()
    assert "2 opportunities are in this stage" in asked
    refused = client.post(url, {})
    assert refused.status_code == 200 and Stage.objects.filter(pk=needs.pk).exists()

    response = client.post(url, {"move_to": stage("Qualification").pk})

    assert response.status_code == 302 and not Stage.objects.filter(pk=needs.pk).exists()
    for deal in deals:
        deal.refresh_from_db()
        assert deal.stage == stage("Qualification")
        moves = StageChange.objects.filter(opportunity=deal, to_stage=stage("Qualification"))
        assert moves.count() == 2  # the old entry, re-pointed, and the move itself
    assert audited("stage_deleted")[-1]["name"] == "Needs analysis"


def test_an_empty_stage_is_deleted_at_once(client, customizer):
    pipeline = default_pipeline()
    spare = Stage.objects.create(pipeline=pipeline, name="Spare", order=999)
    client.force_login(customizer)

    assert client.post(reverse("opportunities:setup_stage_delete", args=[spare.pk]), {}).status_code == 302
    assert not Stage.objects.filter(pk=spare.pk).exists()
