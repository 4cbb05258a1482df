"""The forecast in a real browser, as a manager clicks through it: from the opportunities tabs to this quarter's
forecast (their reps' rows and subtotal), to this month's, down to the deals behind a number, then to what
moved since last week's snapshot; and the stage history page with its velocity chart."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD
from opportunities import forecasts
from opportunities.models import Opportunity, Quota
from opportunities.tests.factories import OpportunityFactory, stage
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_manager_opens_the_forecast_switches_to_the_month_drills_down_and_sees_what_moved(page, live_server, reps):
    rep, other, manager = reps
    today = timezone.localdate()
    month = forecasts.period_start(today, "month")
    quarter = forecasts.period_start(today, "quarter")
    # This month: a won deal and a committed one; later in the quarter (or, in its last month, the next
    # quarter's first day) a deal in best case that will be pushed out after the snapshot.
    OpportunityFactory(owner=rep, name="Won this month", stage=stage("Closed won"), amount=1000, close_date=month)
    OpportunityFactory(owner=other, name="Committed", stage=stage("Proposal / price quote"), amount=3000,
                       probability=50, close_date=month)
    slipping = OpportunityFactory(owner=rep, name="Slipping", stage=stage("Value proposition"), amount=700,
                                  close_date=month)
    Quota.objects.create(user=rep, period_kind="quarter", period_start=quarter, amount=4000)
    forecasts.snapshot_take(week=today - dt.timedelta(days=7))
    Opportunity.objects.filter(pk=slipping.pk).update(close_date=forecasts.shift(month, "month", 1))
    login(page, live_server, manager.email, PASSWORD)

    page.goto(live_server.url + reverse("opportunities:list"))
    page.locator("[data-opportunity-tabs] [data-tab=forecast]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(forecasts.period_label(quarter, "quarter"))
    table = page.get_by_test_id("forecast-table")
    total = table.locator("tfoot tr")
    expect(total.locator("[data-category=won]")).to_contain_text("€1,000.00")
    expect(total.locator("[data-category=commit]")).to_contain_text("€3,000.00")
    # Weighted: 3,000 × 50 %, plus 700 × 40 % when next month is still in this quarter.
    slipped_within = forecasts.shift(month, "month", 1) < forecasts.period_end(quarter, "quarter")
    expect(total.locator("[data-category=open]")).to_contain_text("€1,780.00" if slipped_within else "€1,500.00")
    rep_row = table.locator(f"tr[data-user='{rep.pk}']")
    expect(rep_row.get_by_test_id("attainment")).to_have_text("25.0%")  # 1,000 of 4,000

    page.locator("[data-kind=month]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(forecasts.period_label(month, "month"))
    expect(total.locator("[data-category=best_case]")).to_contain_text("€0.00")  # it slipped to next month
    table.locator(f"tr[data-user='{other.pk}'] a[data-category=commit]").click()
    deals = page.get_by_test_id("deal-table")
    expect(deals.locator("tbody tr")).to_have_count(1)
    expect(deals).to_contain_text("Committed")

    page.get_by_role("link", name="What moved").click()
    expect(page.get_by_test_id("moved-pushed_out")).to_contain_text("Slipping")
    expect(page.get_by_test_id("moved-totals").locator("tr[data-move=pushed_out]")).to_contain_text("€700.00")


def test_rep_sees_stage_history_and_velocity_with_its_chart(page, live_server, reps):
    rep, other, _ = reps
    now = timezone.now()
    OpportunityFactory(owner=rep, name="Won", stage=stage("Closed won"), amount=1000,
                       created_at=now - dt.timedelta(days=10), closed_at=now - dt.timedelta(days=1))
    OpportunityFactory(owner=rep, name="Open", stage=stage("Prospecting"), amount=1000)
    login(page, live_server, rep.email, PASSWORD)

    page.goto(live_server.url + reverse("opportunities:list"))
    page.locator("[data-opportunity-tabs] [data-tab=analytics]").click()
    expect(page.get_by_test_id("stage-table")).to_contain_text("Prospecting")
    expect(page.locator("canvas[data-velocity-chart]")).to_be_visible()
    page.get_by_label("Period").select_option("quarter")  # the filter form submits itself on change
    page.wait_for_url("**kind=quarter**")
    expect(page.get_by_test_id("velocity-trend").locator("tbody tr")).to_have_count(6)
    page.get_by_role("link", name="Win/loss").click()
    expect(page.get_by_test_id("win-loss-total")).to_contain_text("100.0%")
