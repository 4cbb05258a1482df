"""Every demo role signs in to the seeded demo in a real browser and opens every sidebar entry, a record from
each list and every settings page they are offered. The page fixture fails the test on any HTTP error
or console error; the sidebar each role gets follows its profile."""
import pytest
from django.core.management import call_command

from crm.access.demo import DEMO_PASSWORD
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]

# What each role's sidebar holds, among the entries that exist today.
EXPECTED_NAV = {
    "admin@demo.local": {"home", "calendar", "approvals", "leads", "accounts", "contacts", "opportunities", "campaigns", "settings"},
    # Managers (the CEO has the manager profile) read the login history and audit log under Settings.
    "ceo@demo.local": {"home", "calendar", "approvals", "leads", "accounts", "contacts", "opportunities", "campaigns", "settings"},
    "manager@demo.local": {"home", "calendar", "approvals", "leads", "accounts", "contacts", "opportunities", "campaigns", "settings"},
    "rep1@demo.local": {"home", "calendar", "approvals", "leads", "accounts", "contacts", "opportunities", "campaigns"},
    "rep3@demo.local": {"home", "calendar", "approvals", "leads", "accounts", "contacts", "opportunities", "campaigns"},
    "agent@demo.local": {"home", "calendar", "approvals", "accounts", "contacts"},
    "marketer@demo.local": {"home", "calendar", "approvals", "leads", "accounts", "contacts", "campaigns"},
}


def visit_everything(page, base: str) -> set[str]:
    links = page.locator("#sidebar a[data-nav]")
    entries = {links.nth(i).get_attribute("data-nav"): links.nth(i).get_attribute("href") for i in range(links.count())}
    for key, href in entries.items():
        response = page.goto(base + href)
        assert response.status == 200, (key, response.status)
        assert page.locator("main#main").count() == 1
        assert page.locator(f'#sidebar a[data-nav="{key}"].active').count() == 1, key
        first_record = page.locator("main table tbody a[href]").first
        if key != "home" and first_record.count():
            first_record.click()
            page.wait_for_load_state("load")
            assert page.locator("main#main h1").count() == 1, page.url
        if key == "settings":
            sections = page.locator("main a[href^='/settings/']")
            for href in {sections.nth(i).get_attribute("href") for i in range(sections.count())}:
                assert page.goto(base + href).status == 200, href
    return set(entries)


@pytest.mark.parametrize("email", sorted(EXPECTED_NAV))
def test_each_demo_role_opens_everything_it_is_offered(page, live_server, email):
    call_command("seed_demo", verbosity=0)
    login(page, live_server, email, DEMO_PASSWORD)
    if "/login/verify/" in page.url:
        pytest.fail(f"{email} has two-factor sign-in in the demo; the demo logins must work with a password alone")
    assert visit_everything(page, live_server.url) == EXPECTED_NAV[email]
