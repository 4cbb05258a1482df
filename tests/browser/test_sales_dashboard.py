"""The sales dashboard in a real browser: a manager's home page opens with it, its charts are drawn, and its
figures lead to the records behind them (a stage's deals, a funnel step's leads, a top deal), in a second
pipeline too; a click on a chart's bar opens the same list as the table's link."""
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from crm.access.tests.factories import PASSWORD
from leads.models import LifecycleTransition
from leads.tests.factories import LeadFactory
from opportunities.models import Pipeline, Stage
from opportunities.tests.factories import OpportunityFactory, stage
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_manager_home_opens_with_the_dashboard_and_its_figures_lead_to_their_records(page, live_server, reps):
    rep, other, manager = reps
    today = timezone.localdate()
    OpportunityFactory(owner=rep, name="Harbour cranes", stage=stage("Negotiation / review"), amount=90000,
                       close_date=today)
    OpportunityFactory(owner=other, name="Ferry refit", stage=stage("Negotiation / review"), amount=1200,
                       close_date=today)
    OpportunityFactory(owner=rep, name="Small start", stage=stage("Prospecting"), amount=300, close_date=today)
    renewals = Pipeline.objects.create(name="Renewals", order=2)
    renewal_stage = Stage.objects.create(pipeline=renewals, name="Renewal due", probability=60, order=1)
    OpportunityFactory(owner=rep, name="Yearly renewal", pipeline=renewals, stage=renewal_stage, amount=5000,
                       close_date=today)
    for step in ("mql", "mql", "sal"):
        lead = LeadFactory(owner=rep, lifecycle_stage=step)
        LifecycleTransition.objects.create(lead=lead, to_stage=step)
    login(page, live_server, manager.email, PASSWORD)

    page.goto(live_server.url + reverse("home"))
    dashboard = page.locator("#home-sales-dashboard")
    expect(dashboard).to_be_visible()
    expect(page.get_by_test_id("dash-pipeline-total")).to_contain_text("€91,500.00")
    assert page.evaluate("Array.from(document.querySelectorAll('[data-dashboard-chart]'))"
                         ".every(c => window.Chart.getChart(c))")  # every chart was drawn

    # a stage's deal count opens the list of exactly those deals
    page.get_by_test_id("dash-pipeline").locator("tr[data-stage='Prospecting'] a").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\?"))
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text("Small start")

    # a bar of the chart opens its stage's list too
    page.go_back()
    canvas = page.locator("[data-dashboard-chart=pipeline]")
    position = page.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('[data-dashboard-chart=pipeline]'));
        const bars = chart.getDatasetMeta(0).data;
        const index = chart.data.labels.indexOf('Negotiation / review');
        return {x: bars[index].x, y: (bars[index].y + bars[index].base) / 2};
    }""")
    canvas.click(position=position)
    expect(page).to_have_url(re.compile(r"/opportunities/\?"))
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody")).to_contain_text("Harbour cranes")
    expect(page.locator("table tbody")).to_contain_text("Ferry refit")

    # the funnel's SAL step lists the one lead that reached it
    page.go_back()
    page.get_by_test_id("dash-funnel").locator("tr[data-step=sal] a").click()
    expect(page).to_have_url(re.compile(r"/leads/\?.*reached=sal"))
    expect(page.locator("table tbody tr")).to_have_count(1)

    # the pipeline switcher shows the second pipeline's stages; a top deal opens the deal
    page.go_back()
    page.get_by_label("Pipeline", exact=True).select_option(label="Renewals")
    expect(page.get_by_test_id("dash-pipeline")).to_contain_text("Renewal due")
    expect(page.get_by_test_id("dash-pipeline-total")).to_contain_text("€5,000.00")
    page.get_by_test_id("dash-top").get_by_role("link", name="Harbour cranes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour cranes")


def test_a_rep_sees_only_their_own_figures_after_my_day(page, live_server, reps):
    rep, other, _ = reps
    OpportunityFactory(owner=rep, name="Mine", stage=stage("Prospecting"), amount=700)
    OpportunityFactory(owner=other, name="Theirs", stage=stage("Prospecting"), amount=99999)
    login(page, live_server, rep.email, PASSWORD)

    page.goto(live_server.url + reverse("opportunities:dashboard"))
    expect(page.get_by_test_id("dash-pipeline-total")).to_contain_text("€700.00")
    expect(page.get_by_test_id("dash-top")).not_to_contain_text("Theirs")
    page.goto(live_server.url + reverse("home"))
    box_day = page.locator("#my-day-h").bounding_box()
    box_dash = page.locator("#home-sales-dashboard").bounding_box()
    assert box_dash["y"] > box_day["y"]
