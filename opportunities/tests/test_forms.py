"""Creating, editing, deleting and editing in place an opportunity through its pages; a stage's required fields and
the loss reason asked for on the form and on the detail page's stage path; contact roles; field-level security;
404 for what the user may not see."""
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory, ContactFactory
from crm.access.models import FieldAccess, FieldPermission
from crm.core import locks
from crm.customization.models import PicklistValue
from opportunities.models import LOSS_REASON_PICKLIST, Opportunity, OpportunityContactRole, StageChange
from opportunities.tests.factories import OpportunityFactory, default_pipeline, stage

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    prospecting = stage("Prospecting")
    data = {"name": "Steel platform", "pipeline": prospecting.pipeline_id, "stage": prospecting.pk,
            "opportunity_type": "new_business", "amount": "12000", "currency": "EUR", "probability": "",
            "close_date": "2027-03-31", "lead_source": "web", "next_step": "", "competitors": "",
            "description": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(opportunity: Opportunity, **overrides) -> dict:
    data = {"name": opportunity.name, "pipeline": opportunity.pipeline_id, "stage": opportunity.stage_id,
            "opportunity_type": opportunity.opportunity_type, "amount": str(opportunity.amount or ""),
            "currency": opportunity.currency, "probability": str(opportunity.probability),
            "close_date": opportunity.close_date.isoformat() if opportunity.close_date else "",
            "lead_source": opportunity.lead_source, "next_step": opportunity.next_step,
            "competitors": opportunity.competitors, "description": opportunity.description,
            "owner": opportunity.owner_id or ""}
    data.update(overrides)
    return data


@pytest.fixture
def lost_reason():
    return PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).order_by("order").first()


@pytest.fixture
def lock_named():
    """Register a lock on opportunities named "Locked deal" for the test, and take it away after."""
    def check(record, user):
        return "Waiting for approval." if getattr(record, "name", "") == "Locked deal" else None

    locks.register_lock(check)
    yield
    locks._checks.remove(check)


def test_rep_creates_an_opportunity_with_account_contact_and_the_stage_probability(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel")
    contact = ContactFactory(owner=rep, account=account)
    client.force_login(rep)
    assert client.get(reverse("opportunities:create")).status_code == 200

    response = client.post(reverse("opportunities:create"), form_data(account=account.pk, contact=contact.pk,
                                                                      owner=rep.pk))

    opportunity = Opportunity.objects.get(name="Steel platform")
    assert response.status_code == 302 and response.url == reverse("opportunities:detail", args=[opportunity.pk])
    assert (opportunity.account, opportunity.contact, opportunity.owner) == (account, contact, rep)
    assert opportunity.probability == 10  # Prospecting's, as the probability was left empty
    assert opportunity.amount_corporate == Decimal("12000.00") and opportunity.expected_revenue == Decimal("1200.00")
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage, change.to_stage, change.actor, change.probability) == (None, opportunity.stage, rep, 10)


def test_form_keeps_what_was_typed_on_error_and_refuses_a_stage_of_another_pipeline(client, reps):
    rep, _, _ = reps
    from opportunities.models import Pipeline, Stage

    renewals = Pipeline.objects.create(name="Renewals", order=1)
    foreign = Stage.objects.create(pipeline=renewals, name="Up for renewal", probability=50)
    client.force_login(rep)

    response = client.post(reverse("opportunities:create"), form_data(name="", amount="43210", next_step="Call Anna"))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'value="43210"' in page and 'value="Call Anna"' in page

    response = client.post(reverse("opportunities:create"), form_data(stage=foreign.pk))
    assert response.status_code == 422 and "stage" in response.context["form"].errors
    assert not Opportunity.objects.exists()


def test_edit_asks_for_the_fields_the_new_stage_requires(client, reps):
    rep, _, _ = reps
    proposal = stage("Proposal / price quote")
    proposal.required_fields = ["next_step", "close_date"]
    proposal.save()
    opportunity = OpportunityFactory(owner=rep, name="Steel platform", close_date=None)
    client.force_login(rep)

    response = client.post(reverse("opportunities:edit", args=[opportunity.pk]),
                           edit_data(opportunity, stage=proposal.pk))

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "next_step" in errors and "close_date" in errors
    assert Opportunity.objects.get(pk=opportunity.pk).stage == stage("Prospecting")

    response = client.post(reverse("opportunities:edit", args=[opportunity.pk]),
                           edit_data(opportunity, stage=proposal.pk, next_step="Send the quote",
                                     close_date="2027-01-31"))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.stage == proposal and opportunity.probability == 65  # followed the stage's default
    assert StageChange.objects.filter(opportunity=opportunity, to_stage=proposal, actor=rep).exists()


def test_closing_lost_needs_a_loss_reason(client, reps, lost_reason):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    lost = stage("Closed lost")
    client.force_login(rep)

    response = client.post(reverse("opportunities:edit", args=[opportunity.pk]), edit_data(opportunity, stage=lost.pk))
    assert response.status_code == 422 and "loss_reason" in response.context["form"].errors

    response = client.post(reverse("opportunities:edit", args=[opportunity.pk]),
                           edit_data(opportunity, stage=lost.pk, loss_reason=lost_reason.pk))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.loss_reason, opportunity.probability) == (lost, lost_reason, 0)
    assert opportunity.closed_at is not None


def test_an_overridden_probability_is_kept(client, reps):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)

    client.post(reverse("opportunities:edit", args=[opportunity.pk]),
                edit_data(opportunity, probability="35", stage=stage("Qualification").pk))

    opportunity.refresh_from_db()
    assert opportunity.stage == stage("Qualification") and opportunity.probability == 35


def test_field_level_security_hides_and_freezes_fields_on_the_form(client, reps):
    rep, _, _ = reps
    for name, access in (("competitors", FieldAccess.HIDDEN), ("probability", FieldAccess.READ_ONLY)):
        FieldPermission.objects.create(profile=rep.profile, record_type="opportunities.opportunity",
                                       field_name=name, access=access)
    opportunity = OpportunityFactory(owner=rep, competitors="Secret rival", probability=10)
    client.force_login(rep)

    page = client.get(reverse("opportunities:edit", args=[opportunity.pk]))
    assert "competitors" not in page.context["form"].fields and "Secret rival" not in page.content.decode()
    assert page.context["form"].fields["probability"].disabled

    response = client.post(reverse("opportunities:edit", args=[opportunity.pk]),
                           edit_data(opportunity, competitors="Changed", probability="99", name="Renamed"))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.competitors, opportunity.probability) == ("Renamed", "Secret rival", 10)
    # nor edited in place
    assert client.get(reverse("opportunities:field", args=[opportunity.pk, "competitors"])).status_code == 404


def test_pages_are_404_for_a_deal_the_user_may_not_see(client, reps):
    rep, other, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(other)

    for name in ("edit", "delete", "timeline"):
        assert client.get(reverse(f"opportunities:{name}", args=[opportunity.pk])).status_code == 404
    assert client.get(reverse("opportunities:field", args=[opportunity.pk, "amount"])).status_code == 404
    assert client.post(reverse("opportunities:move", args=[opportunity.pk]),
                       {"stage": stage("Qualification").pk}).status_code == 404
    assert client.post(reverse("opportunities:edit", args=[opportunity.pk]), edit_data(opportunity)).status_code == 404
    assert Opportunity.objects.get(pk=opportunity.pk).name == opportunity.name


def test_inline_edit_saves_one_field(client, reps):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep, next_step="")
    client.force_login(rep)
    url = reverse("opportunities:field", args=[opportunity.pk, "next_step"])

    assert 'name="next_step"' in client.get(url, {"edit": "1"}).content.decode()
    response = client.post(url, {"next_step": "Book the demo"})

    assert response.status_code == 200 and "Book the demo" in response.content.decode()
    assert Opportunity.objects.get(pk=opportunity.pk).next_step == "Book the demo"


def test_delete_asks_then_deletes(client, reps):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep, name="Gone deal")
    client.force_login(rep)

    assert "Gone deal" in client.get(reverse("opportunities:delete", args=[opportunity.pk])).content.decode()
    assert client.post(reverse("opportunities:delete", args=[opportunity.pk])).status_code == 302
    assert not Opportunity.objects.filter(pk=opportunity.pk).exists()


def test_stage_path_asks_for_the_loss_reason_then_moves(client, reps, lost_reason):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    lost = stage("Closed lost")
    client.force_login(rep)
    url = reverse("opportunities:move", args=[opportunity.pk])

    detail = client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()
    assert f'action="{url}"' in detail and f'data-stage="{lost.pk}"' in detail

    asked = client.post(url, {"stage": lost.pk}, headers={"HX-Request": "true"})
    assert asked.status_code == 200
    assert 'name="ask-loss_reason"' in asked.content.decode()
    assert Opportunity.objects.get(pk=opportunity.pk).stage != lost

    moved = client.post(url, {"stage": lost.pk, "answering": lost.pk, "ask-loss_reason": lost_reason.pk},
                        headers={"HX-Request": "true"})
    assert moved.status_code == 204 and moved["HX-Redirect"] == reverse("opportunities:detail", args=[opportunity.pk])
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.loss_reason) == (lost, lost_reason)

    # without JavaScript: a page asks
    other = OpportunityFactory(owner=rep)
    page = client.post(reverse("opportunities:move", args=[other.pk]), {"stage": lost.pk})
    assert page.status_code == 200 and 'name="ask-loss_reason"' in page.content.decode()


def test_stage_path_refuses_a_locked_deal_with_the_reason(client, reps, lock_named):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep, name="Locked deal")
    client.force_login(rep)

    response = client.post(reverse("opportunities:move", args=[opportunity.pk]),
                           {"stage": stage("Qualification").pk}, follow=True)

    assert "Waiting for approval." in response.content.decode()
    assert Opportunity.objects.get(pk=opportunity.pk).stage == stage("Prospecting")
    assert client.post(reverse("opportunities:edit", args=[opportunity.pk]),
                       edit_data(opportunity, name="Locked deal", next_step="x")).status_code == 422


def test_contact_roles_are_added_made_primary_and_removed(client, reps):
    rep, other, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    anna = ContactFactory(owner=rep, first_name="Anna", last_name="Aalto")
    bert = ContactFactory(owner=rep, first_name="Bert", last_name="Berg")
    hidden = ContactFactory(owner=other, first_name="Hidden", last_name="Person")
    client.force_login(rep)
    url = reverse("opportunities:roles", args=[opportunity.pk])

    client.post(url, {"contact": anna.pk, "role": "decision_maker", "is_primary": "on"})
    client.post(url, {"contact": bert.pk, "role": "champion"})
    client.post(url, {"contact": hidden.pk, "role": "influencer"})  # not visible: refused

    roles = {r.contact_id: r for r in OpportunityContactRole.objects.filter(opportunity=opportunity)}
    assert set(roles) == {anna.pk, bert.pk} and roles[anna.pk].is_primary
    assert Opportunity.objects.get(pk=opportunity.pk).contact == anna

    client.post(reverse("opportunities:role_primary", args=[roles[bert.pk].pk]))
    assert OpportunityContactRole.objects.get(pk=roles[bert.pk].pk).is_primary
    assert not OpportunityContactRole.objects.get(pk=roles[anna.pk].pk).is_primary
    assert Opportunity.objects.get(pk=opportunity.pk).contact == bert

    client.post(reverse("opportunities:role_remove", args=[roles[anna.pk].pk]))
    assert list(OpportunityContactRole.objects.filter(opportunity=opportunity).values_list("contact_id", flat=True)) \
        == [bert.pk]
    page = client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()
    assert "Bert Berg" in page and "Hidden Person" not in page

    client.force_login(other)  # another rep may not touch these roles
    assert client.post(reverse("opportunities:role_remove", args=[roles[bert.pk].pk])).status_code == 404


def test_detail_shows_stage_history_with_days_in_the_previous_stage_within_a_query_budget(
        client, reps, django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep, name="Steel platform")
    start = timezone.now() - timedelta(days=20)
    StageChange.objects.create(opportunity=opportunity, to_stage=stage("Prospecting"), created_at=start, actor=rep)
    StageChange.objects.create(opportunity=opportunity, from_stage=stage("Prospecting"),
                               to_stage=stage("Qualification"), created_at=start + timedelta(days=12), actor=rep)
    for i in range(3):
        OpportunityContactRole.objects.create(opportunity=opportunity, role="influencer",
                                              contact=ContactFactory(owner=rep))
    client.force_login(rep)
    client.get(reverse("opportunities:detail", args=[opportunity.pk]))  # warm the per-process caches

    with django_assert_max_num_queries(40):
        response = client.get(reverse("opportunities:detail", args=[opportunity.pk]))

    changes = response.context["stage_changes"]
    assert [c.to_stage.name for c in changes] == ["Qualification", "Prospecting"]
    assert changes[0].days_before == 12 and changes[1].days_before is None
    assert "Expected revenue" in response.content.decode()
    assert default_pipeline().pk == opportunity.pipeline_id


def test_a_new_deal_probability_left_at_the_first_stage_follows_the_stage_picked(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    needs = stage("Needs analysis")

    client.post(reverse("opportunities:create"), form_data(name="Followed", stage=needs.pk, probability="10"))
    client.post(reverse("opportunities:create"), form_data(name="Typed", stage=needs.pk, probability="15"))

    assert Opportunity.objects.get(name="Followed").probability == 30
    assert Opportunity.objects.get(name="Typed").probability == 15


def test_the_360_timeline_shows_the_stage_changes(client, reps):
    rep, _, _ = reps
    opportunity = OpportunityFactory(owner=rep)
    StageChange.objects.create(opportunity=opportunity, from_stage=stage("Prospecting"),
                               to_stage=stage("Qualification"), actor=rep)
    client.force_login(rep)

    detail = client.get(reverse("opportunities:detail", args=[opportunity.pk])).content.decode()
    assert reverse("opportunities:timeline", args=[opportunity.pk]) in detail
    timeline = client.get(reverse("opportunities:timeline", args=[opportunity.pk])).content.decode()
    assert 'data-kind="stage_change"' in timeline and "Qualification" in timeline
