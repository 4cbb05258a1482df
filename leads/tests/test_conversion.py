"""Duplicates (email, phone, trigram), the warning before saving, merge, and conversion."""
from unittest import mock

import pytest
from django.urls import reverse

from accounts.models import Account, Contact, ContactRole
from campaigns.models import Campaign, Touch
from crm.activities.models import Activity
from crm.activities.services import activity_create
from crm.core.models import Event
from campaigns.services import touch_add
from crm.core import duplicates
from crm.core.merge import MergeRefused, record_merge
from leads import services
from leads.conversion import ConversionRefused, lead_convert
from leads.models import Lead
from leads.tests.conftest import bant
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


def qualified(owner, **extra):
    return services.lead_create(actor=owner, lead=Lead(owner=owner, **{
        "first_name": "Aino", "last_name": "Laine", "company": "Laine Logistics Oy", "email": "aino@laine.fi",
        "phone": "040 123 4567", "country": "FI", "title": "COO", **bant(), **extra}))


def test_duplicates_by_email_phone_and_similar_company_and_name(sales):
    rep, _, _ = sales
    a = LeadFactory(owner=rep, email="Sara@Example.com", phone="", company="Acme")
    b = services.lead_create(actor=rep, lead=Lead(last_name="X", phone="+358 40 123 4567", country="FI", company="Foo"))
    c = LeadFactory(owner=rep, last_name="Virtanen", company="Nordic Paper Company", email="")
    assert [m.record for m in duplicates.find(Lead, {"email": " sara@example.COM "})] == [a]
    assert [m.record for m in duplicates.find(Lead, {"phone": "040 1234567", "country": "FI"})] == [b]
    similar = duplicates.find(Lead, {"company": "Nordic Paper Co", "last_name": "Virtanen"})
    assert [m.record for m in similar] == [c] and str(similar[0].reasons[0]) == "similar company and name"
    assert duplicates.find(Lead, {"company": "Completely Different", "last_name": "Virtanen"}) == []


def test_similar_search_leaves_the_connection_settings_as_it_found_them(sales):
    from django.db import connection

    rep, _, _ = sales
    LeadFactory(owner=rep, last_name="Virtanen", company="Nordic Paper Company")
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '7s'")
        assert duplicates.find(Lead, {"company": "Nordic Paper Co", "last_name": "Virtanen"})
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('pg_trgm.similarity_threshold')")
        assert cursor.fetchone() == ("7s", "0.3")
        cursor.execute("SET statement_timeout = 0")


def test_lead_page_loads_its_duplicates_panel_separately(client, sales, django_assert_max_num_queries):
    rep, other, _ = sales
    lead = LeadFactory(owner=rep, email="sara@example.com")
    twin = LeadFactory(owner=rep, email="Sara@Example.com")
    LeadFactory(owner=other, email="sara@example.com")  # private to the other rep: counted, never shown
    client.force_login(rep)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f'hx-get="{reverse("records:duplicates", args=["leads", lead.pk])}"' in page
    with django_assert_max_num_queries(20):
        panel = client.get(reverse("records:duplicates", args=["leads", lead.pk])).content.decode()
    assert reverse("leads:detail", args=[twin.pk]) in panel and "1 more record you cannot see matches." in panel
    assert f"?other={twin.pk}" in panel
    assert client.get(reverse("records:duplicates", args=["leads", LeadFactory(owner=other).pk])).status_code == 404


def test_create_warns_before_saving_a_duplicate_and_keeps_what_was_typed(client, sales):
    rep, other, _ = sales
    LeadFactory(owner=other, email="dup@example.com", last_name="Hidden")
    mine = LeadFactory(owner=rep, email="mine@example.com", last_name="Visible")
    client.force_login(rep)
    response = client.post(reverse("leads:create"), {"last_name": "New", "email": "mine@example.com",
                                                     "company": "Typed Ltd", "currency": "EUR"})
    body = response.content.decode()
    assert response.status_code == 409 and "This record may already exist." in body and mine.last_name in body
    assert "Typed Ltd" in body and Lead.objects.count() == 2
    # Someone else's lead is counted, never shown.
    response = client.post(reverse("leads:create"), {"last_name": "New", "email": "dup@example.com", "currency": "EUR"})
    assert "Hidden" not in response.content.decode() and "1 more record you cannot see matches." in response.content.decode()
    client.post(reverse("leads:create"), {"last_name": "New", "email": "dup@example.com", "currency": "EUR",
                                          "confirm_duplicates": "on"})
    assert Lead.objects.filter(email="dup@example.com").count() == 2


def test_merge_picks_fields_and_moves_activities_touches_and_history(client, sales):
    rep, _, _ = sales
    campaign = Campaign.objects.create(name="Expo", owner=rep)
    keep = LeadFactory(owner=rep, last_name="Keep", title="", phone="111", email="k@example.com")
    other = LeadFactory(owner=rep, last_name="Other", title="CTO", phone="222", email="o@example.com")
    activity_create(target=other, actor=rep, kind="call", subject="Earlier call")
    touch_add(record=other, campaign=campaign, channel="event")
    before = services.lead_snapshot(other)
    other.city = "Oulu"
    services.lead_update(actor=rep, lead=other, before=before)

    client.force_login(rep)
    page = client.get(reverse("records:merge", args=["leads", keep.pk]), {"other": other.pk}).content.decode()
    assert "CTO" in page and "222" in page
    response = client.post(reverse("records:merge", args=["leads", keep.pk]), {"other": other.pk, "pick_phone": "other",
                                                                     "pick_title": "other", "pick_last_name": "survivor"})
    assert response.status_code == 302
    keep.refresh_from_db()
    assert (keep.last_name, keep.title, keep.phone) == ("Keep", "CTO", "222")
    assert not Lead.objects.filter(pk=other.pk).exists()
    assert Activity.objects.filter(object_id=keep.pk, subject="Earlier call").exists()
    assert Touch.objects.get().record == keep and keep.first_touch_campaign == campaign
    history = client.get(reverse("records:history", args=["leads", keep.pk])).content.decode()
    assert f"merged record #{other.pk}" in history and "Oulu" in history


def test_conversion_creates_account_contact_opportunity_and_moves_everything(client, sales):
    rep, _, _ = sales
    campaign = Campaign.objects.create(name="Webinar", owner=rep)
    lead = qualified(rep)
    touch_add(record=lead, campaign=campaign, channel="web_form")
    activity_create(target=lead, actor=rep, kind="note", subject="Met at the fair")
    client.force_login(rep)
    response = client.post(reverse("leads:convert", args=[lead.pk]), {
        "account_choice": "new", "account_name": "Laine Logistics Oy", "contact_choice": "new",
        "create_opportunity": "on", "opportunity_name": "Laine – fleet CRM", "amount": "48000",
        "close_date": "2027-03-31"})
    account = Account.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("accounts:detail", args=[account.pk])
    contact, opportunity = Contact.objects.get(), Opportunity.objects.get()
    lead.refresh_from_db()
    assert lead.is_converted and (lead.converted_account, lead.converted_contact, lead.converted_opportunity) == (
        account, contact, opportunity)
    assert contact.account == account and contact.email == "aino@laine.fi" and opportunity.amount == 48000
    assert opportunity.campaign == campaign and opportunity.stage.pipeline.is_default
    assert ContactRole.objects.filter(contact=contact, account=account, role="decision_maker").exists()
    assert Activity.objects.filter(subject="Met at the fair", object_id=contact.pk).exists()
    assert Touch.objects.get().record == contact and Touch.objects.get().opportunity == opportunity
    assert Event.objects.filter(name="lead.converted", object_id=lead.pk).exists()
    # Read-only from now on.
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 404
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "This lead was converted and is read-only." in page and reverse("accounts:detail", args=[account.pk]) in page


def test_a_converted_lead_links_only_to_the_records_the_reader_may_open(client, sales):
    rep, other, manager = sales
    lead = qualified(rep)
    lead_convert(actor=rep, lead=lead, create_opportunity=True, opportunity_name="Laine – fleet CRM")
    lead.refresh_from_db()
    Lead.objects.filter(pk=lead.pk).update(owner=other)  # the lead is the other rep's; what it became is not
    assert not Opportunity.objects.visible_to(other).filter(pk=lead.converted_opportunity_id).exists()
    client.force_login(other)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert reverse("opportunities:detail", args=[lead.converted_opportunity_id]) not in page
    assert "Laine – fleet CRM" not in page and "not shared with you" in page
    client.force_login(manager)  # above both reps: sees it all
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert reverse("opportunities:detail", args=[lead.converted_opportunity_id]) in page


def test_conversion_offers_and_links_existing_account_and_contact(client, sales):
    rep, _, _ = sales
    account = Account.objects.create(name="Laine Logistics", owner=rep)
    contact = Contact.objects.create(last_name="Laine", email="aino@laine.fi", email_normalized="aino@laine.fi",
                                     owner=rep)
    lead = qualified(rep)
    client.force_login(rep)
    page = client.get(reverse("leads:convert", args=[lead.pk])).content.decode()
    assert "Link to existing: Laine Logistics" in page and f'value="{contact.pk}"' in page
    client.post(reverse("leads:convert", args=[lead.pk]), {"account_choice": str(account.pk),
                                                            "contact_choice": str(contact.pk)})
    assert Account.objects.count() == 1 and Contact.objects.count() == 1 and not Opportunity.objects.exists()
    contact.refresh_from_db()
    assert contact.account == account and Lead.objects.get(pk=lead.pk).converted_contact == contact


def test_conversion_needs_qualification_and_leaves_nothing_behind_on_failure(sales):
    rep, _, _ = sales
    unqualified = LeadFactory(owner=rep)
    with pytest.raises(ConversionRefused, match="Qualification missing"):
        lead_convert(actor=rep, lead=unqualified)
    lead = qualified(rep)
    with mock.patch("leads.conversion.activities_move", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            lead_convert(actor=rep, lead=lead, create_opportunity=True, opportunity_name="X")
    assert not Account.objects.exists() and not Contact.objects.exists() and not Opportunity.objects.exists()
    assert Lead.objects.get(pk=lead.pk).lifecycle_stage == "new"


def test_merge_refuses_converted_leads(sales):
    rep, _, _ = sales
    lead = qualified(rep)
    lead_convert(actor=rep, lead=lead)
    with pytest.raises(MergeRefused):
        record_merge(actor=rep, survivor=LeadFactory(owner=rep), other=lead, take_from_other=set())


def test_conversion_without_a_pipeline_says_so_and_keeps_the_form(client, sales):
    from opportunities.models import Pipeline

    rep, _, _ = sales
    Pipeline.objects.all().delete()
    lead = qualified(rep)
    with pytest.raises(ConversionRefused, match="No sales pipeline"):
        lead_convert(actor=rep, lead=lead, create_opportunity=True, opportunity_name="X")
    client.force_login(rep)
    response = client.post(reverse("leads:convert", args=[lead.pk]), {
        "account_choice": "new", "account_name": "Laine Logistics Oy", "contact_choice": "new",
        "create_opportunity": "on", "opportunity_name": "Laine – fleet CRM", "close_date": "2027-03-31"})
    page = response.content.decode()
    assert response.status_code == 422 and "No sales pipeline with open stages is set up." in page
    assert 'value="Laine – fleet CRM"' in page and not Account.objects.exists()
