"""Opportunities in a real browser, as a rep works one: created from the list's "New opportunity" button with the
account picked by type-ahead (only accounts the rep may see), the stage offered only from the chosen pipeline,
then on its page a field edited in place, a contact role added, and the stage path asking for the loss reason
before the deal closes lost."""
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts import services as account_services
from crm.access.tests.factories import PASSWORD
from crm.customization.models import PicklistValue
from opportunities.models import LOSS_REASON_PICKLIST, Opportunity, Pipeline, Stage, StageChange
from opportunities.tests.factories import OpportunityFactory, stage
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_rep_creates_an_opportunity_through_the_form(page, live_server, reps):
    rep, other, _ = reps
    account = account_services.account_create(actor=rep, name="Lindqvist Logistics", owner=rep)
    account_services.account_create(actor=other, name="Lindqvist Secret Holdings", owner=other)
    renewals = Pipeline.objects.create(name="Renewals", order=1)
    Stage.objects.create(pipeline=renewals, name="Up for renewal", probability=50)
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:list"))

    page.get_by_role("link", name="New opportunity").click()
    page.fill("#id_name", "Lindqvist fleet tracking")
    picker = page.locator("select[name=account] + .ts-wrapper")
    picker.locator("input").fill("lindqvist")
    option = picker.locator(".ts-dropdown .option", has_text="Lindqvist Logistics")
    expect(option).to_be_visible()
    expect(picker.locator(".ts-dropdown .option", has_text="Secret")).to_have_count(0)
    option.click()
    # the stage select offers the chosen pipeline's stages only
    expect(page.locator("#id_stage optgroup[label='Renewals']")).to_be_hidden()
    expect(page.locator("#id_probability")).to_have_value("10")
    page.select_option("#id_stage", label="Needs analysis")
    expect(page.locator("#id_probability")).to_have_value("30")  # left at the stage's: follows it
    page.fill("#id_amount", "48000")
    page.select_option("#id_currency", "SEK")
    page.fill("#id_close_date", "2027-05-31")
    page.fill("#id_next_step", "Demo for the fleet team")
    page.locator("[data-testid=save]").click()

    expect(page.locator("h1")).to_contain_text("Lindqvist fleet tracking")
    expect(page.locator("[data-testid=opportunity-stage]")).to_have_text("Needs analysis")
    expect(page.locator("[data-testid=opportunity-account]")).to_contain_text("Lindqvist Logistics")
    opportunity = Opportunity.objects.get(name="Lindqvist fleet tracking")
    assert (opportunity.account, opportunity.owner, opportunity.currency, opportunity.probability) == (
        account, rep, "SEK", 30)
    assert opportunity.close_date == date(2027, 5, 31) and opportunity.next_step == "Demo for the fleet team"


def test_stage_path_asks_for_the_loss_reason_inline_edit_and_contact_roles(page, live_server, reps):
    rep, _, _ = reps
    account = account_services.account_create(actor=rep, name="Tampere Energy", owner=rep)
    anna = account_services.contact_create(actor=rep, owner=rep, account=account, first_name="Anna",
                                           last_name="Aalto")
    deal = OpportunityFactory(owner=rep, name="Energy dashboards", account=account, amount=9000,
                              close_date=date(2027, 1, 31))
    reason = PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).order_by("order").first()
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))

    # a field edited in place
    field = page.locator("#inline-next_step")
    field.get_by_role("button", name="Edit").click()
    field.locator("input[name=next_step]").fill("Workshop with Anna")
    field.get_by_role("button", name="Save").click()
    expect(field).to_contain_text("Workshop with Anna")
    expect(field.get_by_role("status")).to_have_text("Saved")

    # a contact role, the contact picked by type-ahead
    roles = page.locator("[data-roles]")
    roles.locator("summary").click()
    picker = roles.locator("select[name=contact] + .ts-wrapper")
    picker.locator("input").fill("aalto")
    picker.locator(".ts-dropdown .option", has_text="Anna Aalto").click()
    roles.locator("select[name=role]").select_option("champion")
    roles.get_by_role("button", name="Add").click()
    expect(page.locator("[data-roles] [data-role=champion]")).to_contain_text("Anna Aalto")

    # the stage path: closing lost asks for the loss reason first
    page.locator("[data-stage-path]").get_by_role("button", name="Closed lost").click()
    ask = page.locator("[data-stage-ask]")
    expect(ask).to_contain_text("To move “Energy dashboards” to Closed lost, fill in:")
    expect(page.locator("[data-testid=opportunity-stage]")).to_have_text("Prospecting")
    ask.get_by_role("button", name="Move to Closed lost").click()  # without the reason: asked again
    expect(ask.locator(".invalid-feedback")).to_be_visible()
    ask.get_by_label("Loss reason").select_option(str(reason.pk))
    ask.get_by_role("button", name="Move to Closed lost").click()

    expect(page.locator("[data-testid=opportunity-stage]")).to_have_text("Closed lost")
    expect(page.locator("[data-testid=opportunity-loss-reason]")).to_have_text(str(reason))
    expect(page.locator("[data-stage-history] tbody tr").first).to_contain_text("Closed lost")
    deal.refresh_from_db()
    assert deal.stage == stage("Closed lost") and deal.loss_reason == reason and deal.next_step == "Workshop with Anna"
    assert deal.contact_roles.get().contact == anna
    assert StageChange.objects.filter(opportunity=deal, to_stage=stage("Closed lost"), actor=rep).exists()
