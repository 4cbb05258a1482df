"""A rep's day in a real browser: create a lead, qualify it with BANT, watch the score change (a real Celery
worker recomputes it), convert it and land on the new account."""
import pytest

from crm.access.models import Access
from crm.access.tests.factories import PASSWORD, ProfileFactory, UserFactory, set_org_default
from leads.models import ScoringRule
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def score_on_page(page) -> int:
    return int(page.locator("[data-score]").get_attribute("data-score"))


def wait_for_score(page, expected: int, tries: int = 60) -> None:
    for _ in range(tries):
        if score_on_page(page) == expected:
            return
        page.wait_for_timeout(500)
        page.reload()
    assert score_on_page(page) == expected


def test_rep_creates_qualifies_scores_and_converts_a_lead(page, live_server, celery_worker):
    set_org_default("leads.lead", Access.PRIVATE)
    rep = UserFactory(profile=ProfileFactory(), email="rep.day@example.com")
    ScoringRule.objects.create(name="Title is C-level", kind="fit", points=20,
                               conditions={"all": [{"field": "title", "op": "contains", "value": "CEO"}]})
    ScoringRule.objects.create(name="Budget confirmed", kind="fit", points=15,
                               conditions={"all": [{"field": "budget_confirmed", "op": "equals", "value": "true"}]})
    login(page, live_server, rep.email, PASSWORD)

    page.goto(f"{live_server.url}/leads/new/")
    page.fill("#id_first_name", "Aino")
    page.fill("#id_last_name", "Laine")
    page.fill("#id_company", "Laine Logistics Oy")
    page.fill("#id_title", "CEO")
    page.fill("#id_email", "aino@laine.example")
    page.click("form button[type=submit]:has-text('Save')")
    page.wait_for_url("**/leads/*/")
    assert page.locator("h1").inner_text().startswith("Aino Laine")
    wait_for_score(page, 20)
    lead_url = page.url

    page.goto(f"{live_server.url}/leads/?q=laine")  # the list shows its rows, then its count arrives
    assert page.locator("tbody tr").count() == 1 and "Laine Logistics Oy" in page.locator("tbody").inner_text()
    page.locator("[data-count]", has_text="1 lead").wait_for()
    page.goto(lead_url)

    page.click("#tab-qualification-btn")
    page.select_option("#id_budget_confirmed", "true")
    page.fill("#id_budget_amount", "48000")
    page.select_option("#id_authority_role", "decision_maker")
    page.fill("#id_need_pain_points", "Fleet planning in spreadsheets")
    page.select_option("#id_timeline_timeframe", "0_3_months")
    page.click("#qualification button[type=submit]")
    page.locator("#qualification").get_by_text("Ready for conversion.").wait_for()
    page.reload()
    wait_for_score(page, 35)
    explanation = page.locator("[data-score-explanation]").inner_text()
    assert "Title is C-level" in explanation and "Budget confirmed" in explanation

    page.click("a:has-text('Convert')")
    page.wait_for_url("**/convert/")
    page.fill("#id_opportunity_name", "Laine – fleet CRM")
    page.fill("#id_close_date", "2027-03-31")
    page.click("form button[type=submit]:has-text('Convert')")
    page.wait_for_url("**/accounts/*/")
    assert "Laine Logistics Oy" in page.locator("h1").inner_text()
    assert page.get_by_text("Lead converted").count() >= 1
