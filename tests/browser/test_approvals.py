"""Approvals in a real browser, with a real worker delivering the events: a rep submits a quote whose discount
is over the threshold, the manager finds it in the Approvals inbox and approves it, and the rep's quote is
unlocked (approved, ready to send); and a rep sends a big deal for approval from its page, where the lock shows
until the manager rejects it with a comment."""
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD
from crm.automation.models_approvals import ApprovalProcess, ApprovalStep
from opportunities.models import LineItem, Quote, SalesSettings
from opportunities.tests.factories import OpportunityFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_a_quote_over_the_threshold_is_approved_from_the_inbox_and_unlocks(page, live_server, reps, celery_worker):
    rep, _, manager = reps
    process = ApprovalProcess.objects.create(name="Quote discounts", record_type="opportunities.quote")
    ApprovalStep.objects.create(process=process, order=1, name="Sales manager")
    SalesSettings.objects.update_or_create(pk=1, defaults={"discount_approval_threshold": Decimal(20)})
    deal = OpportunityFactory(owner=rep, name="Harbour cranes", amount=Decimal(10000))
    LineItem.objects.create(opportunity=deal, name="Crane licence", quantity=Decimal(1), list_price=Decimal(10000),
                            discount_percent=Decimal(30), order=1)

    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))
    page.locator("[data-testid=quotes-panel] [data-testid=new-quote]").click()
    page.locator("[data-testid=quote-form] [data-testid=save-quote]").click()
    quote = Quote.objects.get()
    page.get_by_test_id("submit-approval").click()
    expect(page.get_by_test_id("waiting-approval")).to_be_visible()

    context = page.context.browser.new_context()
    manager_page = context.new_page()
    login(manager_page, live_server, manager.email, PASSWORD)
    manager_page.goto(live_server.url + reverse("home"))
    manager_page.locator("nav").get_by_role("link", name="Approvals").click()
    task = manager_page.locator("[data-approval-task]").filter(has_text=str(quote))
    # The worker delivers the quote's event to the approval engine; the manager reloads the inbox until it shows,
    # as a person would (on a loaded machine the delivery can take longer than the first page load).
    for _attempt in range(12):
        if task.count():
            break
        manager_page.wait_for_timeout(5000)
        manager_page.reload()
    expect(task).to_be_visible()
    task.get_by_label("Comment (needed to reject)").fill("Fine for a first order")
    task.get_by_role("button", name="Approve").click()
    expect(manager_page.locator(".alert-success")).to_contain_text(f"Approved: {quote.number}")
    context.close()

    page.reload()
    expect(page.get_by_test_id("waiting-approval")).to_have_count(0)
    expect(page.get_by_test_id("send-quote")).to_be_visible()
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.APPROVED


def test_a_big_deal_sent_from_its_page_is_locked_until_the_manager_rejects_it(page, live_server, reps):
    rep, _, manager = reps
    process = ApprovalProcess.objects.create(name="Big deals", record_type="opportunities.opportunity",
                                             entry_criteria={"all": [{"field": "amount", "op": "gt", "value": "100000"}]})
    ApprovalStep.objects.create(process=process, order=1, name="Manager")
    deal = OpportunityFactory(owner=rep, name="Fleet renewal", amount=Decimal(250000))

    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))
    panel = page.get_by_test_id("approval-panel")
    panel.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("approval-panel")).to_contain_text("Waiting for approval")

    context = page.context.browser.new_context()
    manager_page = context.new_page()
    login(manager_page, live_server, manager.email, PASSWORD)
    manager_page.goto(live_server.url + reverse("approvals:inbox"))
    task = manager_page.locator("[data-approval-task]").filter(has_text="Fleet renewal")
    task.get_by_role("button", name="Reject").click()
    expect(manager_page.locator(".alert-danger, .alert-error").first).to_contain_text("Say why you reject it")
    task = manager_page.locator("[data-approval-task]").filter(has_text="Fleet renewal")
    task.get_by_label("Comment (needed to reject)").fill("Check the margin first")
    task.get_by_role("button", name="Reject").click()
    expect(manager_page.locator("[data-approval-task]")).to_have_count(0)
    context.close()

    page.reload()
    expect(page.get_by_test_id("approval-panel")).not_to_contain_text("Waiting for approval")
    page.get_by_test_id("approval-panel").get_by_role("link", name="Big deals").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Rejected")
    expect(page.get_by_test_id("request-steps")).to_contain_text("Check the margin first")
