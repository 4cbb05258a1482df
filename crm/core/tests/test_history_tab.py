"""A record page's History tab loads when it is opened, through visibility and field-level security."""
import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory, ContactFactory
from leads.services import lead_update, lead_snapshot
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _changed_lead(rep):
    lead = LeadFactory(owner=rep, company="Before Oy")
    before = lead_snapshot(lead)
    lead.company = "After Oy"
    lead_update(actor=rep, lead=lead, before=before)
    return lead


def test_the_lead_page_loads_its_history_when_the_tab_is_opened(client, reps):
    rep, _, _ = reps
    lead = _changed_lead(rep)
    client.force_login(rep)
    url = reverse("records:history", args=["leads", lead.pk])

    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f'hx-get="{url}"' in page and "After Oy" not in page.split('id="tab-history"')[1]

    history = client.get(url).content.decode()
    assert "Before Oy" in history and "After Oy" in history
    # opened on the tab (a link to it, a reload), the page holds the history itself
    on_tab = client.get(reverse("leads:detail", args=[lead.pk]), {"tab": "history"}).content.decode()
    assert "Before Oy" in on_tab.split('id="tab-history"')[1] and f'hx-get="{url}"' not in on_tab


@pytest.mark.parametrize(("slug", "factory"), [("accounts", AccountFactory), ("contacts", ContactFactory),
                                               ("opportunities", OpportunityFactory), ("leads", LeadFactory)])
def test_history_is_refused_for_records_the_reader_may_not_see(client, reps, slug, factory):
    rep, other, manager = reps
    record = factory(owner=other)
    url = reverse("records:history", args=[slug, record.pk])

    client.force_login(rep)
    assert client.get(url).status_code == 404
    client.force_login(manager)  # above the owner in the hierarchy
    assert client.get(url).status_code == 200
    assert client.get(reverse("records:history", args=["nothing", record.pk])).status_code == 404


@pytest.mark.parametrize(("url_name", "slug", "factory"), [("accounts:detail", "accounts", AccountFactory),
                                                           ("contacts:detail", "contacts", ContactFactory),
                                                           ("opportunities:detail", "opportunities", OpportunityFactory)])
def test_account_contact_and_opportunity_pages_load_history_from_their_own_type(client, reps, url_name, slug, factory):
    rep, _, _ = reps
    record = factory(owner=rep)
    client.force_login(rep)
    page = client.get(reverse(url_name, args=[record.pk])).content.decode()
    assert f'hx-get="{reverse("records:history", args=[slug, record.pk])}"' in page


def test_hidden_fields_stay_out_of_the_history(client, reps):
    from crm.access.services import profile_field_access_set

    rep, _, manager = reps
    lead = _changed_lead(rep)
    profile_field_access_set(actor=manager, profile=rep.profile, record_type="leads.lead", access={"company": "hidden"})
    client.force_login(rep)
    history = client.get(reverse("records:history", args=["leads", lead.pk])).content.decode()
    assert "Before Oy" not in history and "After Oy" not in history
