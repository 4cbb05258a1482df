"""Segments in a real browser: a marketer opens Campaigns, builds a segment of contacts with the condition
builder and watches the live count follow each change, saves it, opens it, and follows its count from the
segments list to the contacts list filtered by it. Another rep's Finns are never counted."""
import pytest
from playwright.sync_api import expect

from accounts.tests.factories import ContactFactory
from campaigns.models import Segment
from crm.access.models import Access
from crm.access.tests.factories import PASSWORD, ProfileFactory, RoleFactory, UserFactory, set_org_default
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


@pytest.fixture
def marketer():
    """A marketer with their own contacts (contacts are private, so someone else's Finns stay out)."""
    set_org_default("accounts.contact", Access.PRIVATE)
    role = RoleFactory(name="Marketing")
    profile = ProfileFactory()
    user = UserFactory(email="segments.marketer@example.com", first_name="Olivia", last_name="Brown", role=role,
                       profile=profile)
    someone = UserFactory(email="segments.someone@example.com", role=RoleFactory(name="Elsewhere"), profile=profile)
    ContactFactory(first_name="Aino", last_name="Aalto", title="CTO", mailing_country="FI", owner=user)
    ContactFactory(first_name="Bo", last_name="Berg", title="Buyer", mailing_country="FI", owner=user)
    ContactFactory(first_name="Cai", last_name="Carlsson", title="CTO", mailing_country="SE", owner=user)
    ContactFactory(first_name="Dan", last_name="Dahl", title="CTO", mailing_country="FI", owner=someone)
    return user


def live_count(page):
    return page.locator("#segment-live-count [data-count-value]")


def add_condition(page, field: str, op: str, value: str) -> None:
    page.get_by_role("button", name="Add condition").first.click()
    row = page.locator("[data-condition-row]").last
    row.get_by_label("Field").select_option(field)
    row.get_by_label("Operator").select_option(op)
    row.get_by_label("Value").fill(value)


def test_a_marketer_builds_a_segment_watching_the_count_saves_and_opens_it(page, live_server, marketer):
    login(page, live_server, marketer.email, PASSWORD)
    page.locator('#sidebar a[data-nav="campaigns"]').click()
    expect(page.locator("h1")).to_have_text("Segments")
    page.get_by_test_id("new-segment").click()
    page.locator('[data-segment-types] a[data-type="accounts.contact"]').click()
    expect(page.locator("h1")).to_have_text("New segment of contacts")

    # No conditions yet: every contact the marketer may see
    expect(live_count(page)).to_have_text("3 contacts")
    add_condition(page, "mailing_country", "equals", "FI")
    expect(live_count(page)).to_have_text("2 contacts")
    # A row still being filled in is left out of the count, and says so
    page.get_by_role("button", name="Add condition").first.click()
    expect(page.locator("#segment-live-count")).to_contain_text("still being filled in")
    expect(live_count(page)).to_have_text("2 contacts")
    row = page.locator("[data-condition-row]").last
    row.get_by_label("Field").select_option("title")
    row.get_by_label("Operator").select_option("contains")
    row.get_by_label("Value").fill("cto")
    expect(live_count(page)).to_have_text("1 contact")
    expect(page.locator("[data-count-sample]")).to_contain_text("Aino Aalto")
    # Any of them instead of all: the Finns and the CTOs
    page.locator("[data-condition-tree] fieldset").first.get_by_label("Match").select_option("any")
    expect(live_count(page)).to_have_text("3 contacts")
    page.locator("[data-condition-tree] fieldset").first.get_by_label("Match").select_option("all")
    expect(live_count(page)).to_have_text("1 contact")

    page.get_by_label("Name").fill("Finnish CTOs")
    page.get_by_label("Share with everyone").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Finnish CTOs")
    segment = Segment.objects.get(name="Finnish CTOs")
    assert segment.owner == marketer and segment.shared and segment.record_type == "accounts.contact"
    expect(page.locator("[data-conditions]")).to_have_text("Mailing country equals FI and Title contains cto")
    expect(page.locator("[data-segment-count]")).to_have_text("1 contact")
    members = page.locator("[data-members] tbody tr")
    expect(members).to_have_count(1)
    expect(members.first).to_contain_text("Aalto")

    # From the segments list, the count opens the contacts list filtered by the segment
    page.get_by_role("link", name="Segments", exact=True).first.click()
    row = page.locator(f'tr[data-segment="{segment.pk}"]')
    expect(row.locator("[data-segment-count]")).to_have_text("1 contact")
    row.locator("[data-segment-count] a").click()
    expect(page.locator("table[data-list] tbody tr")).to_have_count(1)
    expect(page.locator("table[data-list] tbody")).to_contain_text("Aalto")
