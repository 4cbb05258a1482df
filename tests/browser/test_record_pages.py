"""Record pages in a real browser: tabs that load when opened."""
import pytest

from crm.access.tests.factories import PASSWORD, ProfileFactory, UserFactory
from leads.services import lead_snapshot, lead_update
from leads.tests.factories import LeadFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_the_history_tab_loads_when_opened_and_the_timeline_shows_what_was_logged(page, live_server):
    rep = UserFactory(profile=ProfileFactory(), email="history.tab@example.com")
    lead = LeadFactory(owner=rep, company="Before Oy", first_name="Aino", last_name="Laine")
    before = lead_snapshot(lead)
    lead.company = "After Oy"
    lead_update(actor=rep, lead=lead, before=before)
    login(page, live_server, rep.email, PASSWORD)

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    assert page.locator("[data-history-loading]").count() == 1
    page.get_by_role("tab", name="History").click()
    history = page.locator("#tab-history")
    history.get_by_text("After Oy").wait_for()
    assert "Before Oy" in history.inner_text() and page.locator("[data-history-loading]").count() == 0

    page.get_by_role("tab", name="Activity").click()
    page.locator("[data-testid=log-call]").click()
    page.locator("#activity-form input[name=subject]").fill("Intro call <b>")
    page.locator("#activity-form button[type=submit]").click()
    page.locator("#timeline li[data-kind=call]", has_text="Intro call <b>").wait_for()
