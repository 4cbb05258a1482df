"""Accounts and contacts in a real browser, as a rep clicks through them: the contact list sorted by a header,
a new contact whose account is picked by typing in the type-ahead (which offers only accounts the rep may see),
the contact's page, then the account's 360° timeline with what happened to its contacts, filtered by kind."""
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services
from accounts.models import Contact
from crm.access.tests.factories import PASSWORD
from crm.activities.models import Activity
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def log(record, kind, subject, actor, minutes_ago):
    Activity.objects.create(kind=kind, subject=subject, actor=actor, object_id=record.pk,
                            content_type=ContentType.objects.get_for_model(record),
                            occurred_at=timezone.now() - timedelta(minutes=minutes_ago))


def test_rep_sorts_contacts_creates_one_with_the_type_ahead_and_filters_the_account_timeline(page, live_server, reps):
    rep, other, _ = reps
    account = services.account_create(actor=rep, name="Lindqvist Logistics", owner=rep)
    services.account_create(actor=other, name="Lindqvist Secret Holdings", owner=other)
    aalto = services.contact_create(actor=rep, owner=rep, account=account, first_name="Anna", last_name="Aalto")
    services.contact_create(actor=rep, owner=rep, account=account, first_name="Bert", last_name="Berg")
    log(aalto, Activity.Kind.CALL, "Called Anna about the renewal", rep, 30)
    log(account, Activity.Kind.NOTE, "Account plan written", rep, 20)
    login(page, live_server, rep.email, PASSWORD)

    # the contact list, sorted by last name both ways from its header
    page.goto(live_server.url + reverse("contacts:list"))
    rows = page.locator("table[data-list] tbody tr")
    expect(rows).to_have_count(2)
    header = page.locator('table[data-list] th[data-column="last_name"]')
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.locator("a").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_contain_text("Berg")

    # a new contact, the account picked by typing part of its name
    page.get_by_role("link", name="New contact").click()
    page.fill("#id_first_name", "Cecilia")
    page.fill("#id_last_name", "Carlsson")
    page.fill("#id_email", "cecilia@lindqvist.example")
    picker = page.locator("select[name=account] + .ts-wrapper")
    picker.locator("input").fill("lindqvist")
    option = picker.locator(".ts-dropdown .option", has_text="Lindqvist Logistics")
    expect(option).to_be_visible()
    expect(picker.locator(".ts-dropdown .option", has_text="Secret")).to_have_count(0)  # another rep's account
    option.click()
    page.locator("[data-testid=save]").click()

    # the contact's page, linked to its account
    expect(page.locator("h1")).to_contain_text("Cecilia Carlsson")
    contact = Contact.objects.get(last_name="Carlsson")
    assert contact.account == account and contact.owner == rep
    page.locator("[data-testid=contact-account] a").click()

    # the account's 360° timeline: its own note and the call with its contact, then calls only
    expect(page.locator("h1")).to_contain_text("Lindqvist Logistics")
    page.locator("[data-testid=tab-timeline360]").click()
    items = page.locator("[data-timeline360] > li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Account plan written")
    expect(items.nth(1)).to_contain_text("Called Anna about the renewal")
    expect(items.nth(1).locator("[data-about]")).to_contain_text("Anna Aalto")
    page.locator("#timeline360-kind-call").check()
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Called Anna about the renewal")
    page.locator("#timeline360-kind-call").uncheck()
    page.locator("#timeline360-kind-note").check()
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Account plan written")


def test_rep_moves_a_contact_to_another_account_in_place_with_the_type_ahead(page, live_server, reps):
    rep, other, _ = reps
    old = services.account_create(actor=rep, name="Aalto Robotics", owner=rep)
    new = services.account_create(actor=rep, name="Tampere Energy", owner=rep)
    services.account_create(actor=other, name="Tampere Secret Oy", owner=other)
    contact = services.contact_create(actor=rep, owner=rep, account=old, first_name="Sanna", last_name="Koskinen")
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("contacts:detail", args=[contact.pk]))

    field = page.locator("#inline-account")
    field.get_by_role("button", name="Edit").click()
    picker = field.locator("select[name=account] + .ts-wrapper")
    picker.locator("input").fill("tampere")
    option = picker.locator(".ts-dropdown .option", has_text="Tampere Energy")
    expect(option).to_be_visible()
    expect(picker.locator(".ts-dropdown .option", has_text="Secret")).to_have_count(0)
    option.click()
    # (the field takes the row, so the type-ahead closing as the button is pressed does not move the button
    # from under the pointer: that click would be lost)
    field.get_by_role("button", name="Save").click()

    expect(field).to_contain_text("Tampere Energy")
    expect(field.get_by_role("status")).to_have_text("Saved")
    contact.refresh_from_db()
    assert contact.account == new


def test_the_360_timeline_loads_more_as_the_rep_scrolls(page, live_server, reps):
    from crm.activities.merged import PAGE_SIZE

    rep = reps[0]
    account = services.account_create(actor=rep, name="Scroll Oy", owner=rep)
    contact = services.contact_create(actor=rep, owner=rep, account=account, last_name="Scroller")
    for i in range(PAGE_SIZE + 5):
        log(account if i % 2 else contact, Activity.Kind.NOTE, f"Note number {i}", rep, i)
    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("accounts:detail", args=[account.pk]))

    page.locator("[data-testid=tab-timeline360]").click()
    items = page.locator("[data-timeline360] > li.timeline-item")
    expect(items).to_have_count(PAGE_SIZE)
    page.locator("[data-timeline-more]").scroll_into_view_if_needed()
    expect(items).to_have_count(PAGE_SIZE + 5)
    expect(items.last).to_contain_text(f"Note number {PAGE_SIZE + 4}")
    expect(page.locator("[data-timeline-more]")).to_have_count(0)
