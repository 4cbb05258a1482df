"""The forecast's calls in a real browser: a rep calls a deal commit from the forecast's drill-down; their manager
sees the rep's call move while the weighted pipeline stays, adjusts the rep's forecast with a note and finds both
figures and the note in the history. And a deal dropped on "Closed lost" on the board leaves the forecast's
pipeline figure."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD
from crm.customization.models import PicklistValue
from opportunities import forecasts
from opportunities.models import LOSS_REASON_PICKLIST, ForecastAdjustment, Opportunity
from opportunities.tests.factories import OpportunityFactory, stage
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def this_quarter() -> str:
    return "?kind=quarter&start=" + forecasts.period_start(timezone.localdate(), "quarter").isoformat()


def test_rep_calls_a_deal_commit_and_the_manager_adjusts_beside_it(page, live_server, reps):
    rep, _, manager = reps
    deal = OpportunityFactory(owner=rep, name="Steel platform", stage=stage("Prospecting"), amount=1000,
                              probability=10, close_date=timezone.localdate())
    login(page, live_server, rep.email, PASSWORD)

    page.goto(live_server.url + reverse("opportunities:forecast") + this_quarter())
    row = page.get_by_test_id("forecast-table").locator(f"tr[data-user='{rep.pk}']")
    expect(row.locator("[data-category=rep_commit]")).to_contain_text("€0.00")
    row.locator("a[data-category=pipeline]").click()
    expect(page.get_by_test_id("deal-table")).to_contain_text("Steel platform")
    page.get_by_label("Forecast category of “Steel platform”").select_option("commit")
    expect(page.locator(f"[data-call='{deal.pk}']")).to_contain_text("Saved")
    assert Opportunity.objects.get(pk=deal.pk).forecast_override == "commit"
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("Prospecting")
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))  # the deal's page shows the call
    expect(page.get_by_label("Forecast category of “Steel platform”")).to_have_value("commit")

    page.context.clear_cookies()
    login(page, live_server, manager.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:forecast") + this_quarter())
    row = page.get_by_test_id("forecast-table").locator(f"tr[data-user='{rep.pk}']")
    expect(row.locator("[data-category=rep_commit]")).to_contain_text("€1,000.00")  # the rep's call moved
    expect(row.locator("[data-category=open]")).to_contain_text("€100.00")  # weighted: 1,000 × 10 %, unchanged
    expect(row.locator("[data-category=pipeline]")).to_contain_text("€1,000.00")  # still a pipeline stage
    row.get_by_role("link", name="Adjust").click()

    page.get_by_label("Your call (closed won + commit)").fill("800")
    page.get_by_label("Note").fill("The customer's budget was cut")
    page.get_by_role("button", name="Save my call").click()
    history = page.get_by_test_id("adjustment-history")
    expect(history).to_contain_text("The customer's budget was cut")
    current = history.locator("tr[data-current]")
    expect(current.locator("[data-figure=amount]")).to_have_text("€800.00")
    expect(current.locator("[data-figure=before]")).to_have_text("€1,000.00")  # the rep's call it replaced
    expect(page.get_by_test_id("person-figures").locator("[data-figure=rep_commit]")).to_contain_text("€1,000.00")
    assert ForecastAdjustment.objects.get().adjusted_by == manager

    page.get_by_role("link", name="Back to the forecast").click()
    row = page.get_by_test_id("forecast-table").locator(f"tr[data-user='{rep.pk}']")
    expect(row.get_by_test_id("manager-call")).to_contain_text("€800.00")
    expect(row.get_by_test_id("manager-call")).to_contain_text("1 adjustment")
    expect(row.locator("[data-category=rep_commit]")).to_contain_text("€1,000.00")  # side by side
    expect(row.locator("[data-category=open]")).to_contain_text("€100.00")


def test_a_deal_dropped_on_closed_lost_leaves_the_forecast_pipeline(page, live_server, reps):
    rep, _, _ = reps
    today = timezone.localdate()
    deal = OpportunityFactory(owner=rep, name="Steel platform", stage=stage("Prospecting"), amount=4000,
                              close_date=today)
    OpportunityFactory(owner=rep, name="Still open", stage=stage("Prospecting"), amount=250,
                       close_date=max(forecasts.period_start(today, "quarter"), today - timedelta(days=1)))
    reason = PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).order_by("order").first()
    login(page, live_server, rep.email, PASSWORD)
    page.set_viewport_size({"width": 2800, "height": 1000})  # every board column in view: a drag does not scroll

    page.goto(live_server.url + reverse("opportunities:forecast") + this_quarter())
    total = page.get_by_test_id("forecast-table").locator("tfoot tr")
    expect(total.locator("[data-category=pipeline]")).to_contain_text("€4,250.00")

    page.goto(live_server.url + reverse("opportunities:board"))
    lost = page.locator("section.board-column", has=page.locator("h2", has_text="Closed lost"))
    page.locator(f"[data-card='{deal.pk}']").drag_to(lost.locator("[data-board-cards]"))
    ask = page.locator("[data-board-ask]")
    ask.get_by_label("Loss reason").select_option(str(reason.pk))
    ask.get_by_role("button", name="Move to Closed lost").click()
    expect(page.locator("[data-board-notice=success]")).to_contain_text("moved to Closed lost")

    page.goto(live_server.url + reverse("opportunities:forecast") + this_quarter())
    expect(total.locator("[data-category=pipeline]")).to_contain_text("€250.00")
    expect(total.locator("[data-category=won]")).to_contain_text("€0.00")  # lost counts nowhere
