"""The opportunity board in a real browser: a rep drags a card to the next stage and sees both columns' totals
change; a locked deal dragged away snaps back with the reason; a deal dropped on "Closed lost" asks for the loss
reason, then moves; the "Move to" select does the same from the keyboard."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD
from crm.core import locks
from crm.customization.models import PicklistValue
from opportunities.models import LOSS_REASON_PICKLIST, Opportunity
from opportunities.tests.factories import OpportunityFactory, stage
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def column(page, name: str):
    return page.locator("section.board-column", has=page.locator("h2", has_text=name))


def total(page, name: str):
    return column(page, name).locator("[data-column-total]")


@pytest.fixture
def locked_deals():
    def check(record, user):
        return "An approval is waiting on this deal." if getattr(record, "name", "") == "Locked deal" else None

    locks.register_lock(check)
    yield
    locks._checks.remove(check)


def test_rep_drags_a_card_and_the_totals_follow_a_locked_card_snaps_back(page, live_server, reps, locked_deals):
    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, name="Steel platform", amount=4000, currency="EUR",
                              close_date=date(2027, 1, 31))
    OpportunityFactory(owner=rep, name="Locked deal", amount=1000, currency="EUR", close_date=date(2027, 2, 28))
    OpportunityFactory(owner=rep, name="Already qualified", amount=500, stage=stage("Qualification"),
                       close_date=date(2027, 3, 31))
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:list"))
    page.locator("[data-tab=board]").click()

    expect(total(page, "Prospecting")).to_have_attribute("data-column-total", "5000.00")
    expect(total(page, "Qualification")).to_have_attribute("data-column-total", "500.00")
    card = page.locator(f"[data-card='{deal.pk}']")
    card.drag_to(column(page, "Qualification").locator("[data-board-cards]"))

    expect(page.locator("[data-board-notice=success]")).to_contain_text("moved to Qualification")
    expect(total(page, "Prospecting")).to_have_attribute("data-column-total", "1000.00")
    expect(total(page, "Qualification")).to_have_attribute("data-column-total", "4500.00")
    expect(column(page, "Qualification").locator(f"[data-card='{deal.pk}']")).to_be_visible()
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Qualification")

    locked = page.locator("[data-card]", has_text="Locked deal")
    locked.drag_to(column(page, "Needs analysis").locator("[data-board-cards]"))

    expect(page.locator("[data-board-notice=danger]")).to_contain_text("An approval is waiting on this deal.")
    expect(column(page, "Prospecting").locator("[data-card]", has_text="Locked deal")).to_be_visible()
    expect(column(page, "Needs analysis").locator("[data-card]")).to_have_count(0)
    expect(total(page, "Prospecting")).to_have_attribute("data-column-total", "1000.00")


def test_dropping_on_closed_lost_asks_for_the_loss_reason_and_the_keyboard_can_move_too(page, live_server, reps):
    rep, _, _ = reps
    deal = OpportunityFactory(owner=rep, name="Steel platform", amount=4000, close_date=date(2027, 1, 31))
    other = OpportunityFactory(owner=rep, name="Keyboard deal", amount=250, close_date=date(2027, 2, 28))
    reason = PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).order_by("order").first()
    login(page, live_server, rep.email, PASSWORD)
    page.set_viewport_size({"width": 2800, "height": 1000})  # every column in view: a drag does not scroll
    page.goto(live_server.url + reverse("opportunities:board"))

    page.locator(f"[data-card='{deal.pk}']").drag_to(column(page, "Closed lost").locator("[data-board-cards]"))

    ask = page.locator("[data-board-ask]")
    expect(ask).to_contain_text("To move “Steel platform” to Closed lost, fill in:")
    expect(column(page, "Prospecting").locator(f"[data-card='{deal.pk}']")).to_be_visible()  # not moved yet
    ask.get_by_label("Loss reason").select_option(str(reason.pk))
    ask.get_by_role("button", name="Move to Closed lost").click()

    expect(page.locator("[data-board-notice=success]")).to_contain_text("moved to Closed lost")
    expect(column(page, "Closed lost").locator(f"[data-card='{deal.pk}']")).to_be_visible()
    expect(total(page, "Closed lost")).to_have_attribute("data-column-total", "4000.00")
    deal.refresh_from_db()
    assert deal.stage == stage("Closed lost") and deal.loss_reason == reason and deal.amount == Decimal("4000.00")

    # the keyboard alternative: the card's "Move to" select and its button
    select = page.get_by_label("Move “Keyboard deal” to")
    select.focus()
    select.select_option(label="Value proposition")
    page.locator(f"[data-card='{other.pk}']").get_by_role("button", name="Move").press("Enter")
    expect(column(page, "Value proposition").locator(f"[data-card='{other.pk}']")).to_be_visible()
    expect(total(page, "Value proposition")).to_have_attribute("data-column-total", "250.00")
    assert Opportunity.objects.get(pk=other.pk).stage == stage("Value proposition")


def test_a_column_shows_more_cards_when_asked(page, live_server, reps, monkeypatch):
    import opportunities.board

    rep, _, _ = reps
    monkeypatch.setattr(opportunities.board, "CARDS_PER_COLUMN", 2)
    for i in range(5):
        OpportunityFactory(owner=rep, name=f"Deal {i}", amount=100, close_date=date(2027, 1, 1 + i))
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:board"))

    cards = column(page, "Prospecting").locator("[data-card]")
    expect(cards).to_have_count(2)
    column(page, "Prospecting").get_by_role("button", name="Show more").click()
    expect(cards).to_have_count(4)
    column(page, "Prospecting").get_by_role("button", name="Show more").click()
    expect(cards).to_have_count(5)
    expect(column(page, "Prospecting").get_by_role("button", name="Show more")).to_have_count(0)
    expect(cards.last).to_contain_text("Deal 4")
    # a loaded card moves like the others
    cards.last.get_by_label("Move “Deal 4” to").select_option(label="Qualification")
    cards.last.get_by_role("button", name="Move").click()
    expect(column(page, "Qualification").locator("[data-card]", has_text="Deal 4")).to_be_visible()
