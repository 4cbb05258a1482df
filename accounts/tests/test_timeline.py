"""The merged (360°) timeline of accounts and contacts: what happened to the record, its contacts and its
opportunities (stage changes included), newest first, filtered by kind and by who, a page at a time (the last
item loads the next), never showing what happened to a record the reader could not open; its query count does
not grow with the items."""
import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory, ContactFactory
from crm.activities.merged import PAGE_SIZE
from crm.activities.models import Activity
from opportunities.models import StageChange
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db


def log(record, kind, subject, *, actor=None, minutes_ago=0):
    return Activity.objects.create(kind=kind, subject=subject, actor=actor,
                                   content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
                                   occurred_at=timezone.now() - timedelta(minutes=minutes_ago))


def subjects(html: str) -> list[str]:
    return re.findall(r"<strong><i[^>]*></i>\s*(.*?)</strong>", html, re.S)


@pytest.fixture
def world(reps):
    rep, other, manager = reps
    account = AccountFactory(owner=rep, name="Nordic Steel")
    anna = ContactFactory(owner=rep, account=account, first_name="Anna", last_name="Aalto")
    secret = ContactFactory(owner=other, account=account, last_name="Secret")
    deal = OpportunityFactory(owner=rep, account=account, contact=anna, name="Steel renewal")
    hidden_deal = OpportunityFactory(owner=other, account=account, name="Hidden deal")
    log(account, Activity.Kind.NOTE, "Account note", actor=rep, minutes_ago=50)
    log(anna, Activity.Kind.CALL, "Called Anna", actor=rep, minutes_ago=40)
    log(secret, Activity.Kind.CALL, "Called the secret contact", actor=other, minutes_ago=30)
    log(deal, Activity.Kind.MEETING, "Deal meeting", actor=manager, minutes_ago=20)
    log(hidden_deal, Activity.Kind.EMAIL, "Hidden deal email", actor=other, minutes_ago=10)
    StageChange.objects.create(opportunity=deal, from_stage=stage("Prospecting"), to_stage=stage("Qualification"),
                               amount=10000, probability=20, actor=rep, created_at=timezone.now() - timedelta(minutes=5))
    StageChange.objects.create(opportunity=hidden_deal, to_stage=stage("Qualification"), probability=20, actor=other)
    return rep, other, manager, account, anna, deal


def test_account_timeline_merges_its_contacts_and_opportunities_newest_first_and_only_what_the_reader_may_open(
        client, world):
    rep, other, manager, account, anna, deal = world
    client.force_login(rep)

    html = client.get(reverse("accounts:timeline", args=[account.pk])).content.decode()
    assert subjects(html)[:4] == ["Stage: Prospecting → Qualification", "Meeting: Deal meeting", "Call: Called Anna",
                                  "Note: Account note"]
    assert "secret" not in html.lower() and "Hidden deal" not in html
    # each item of a related record says which one, linked
    assert reverse("contacts:detail", args=[anna.pk]) in html and reverse("opportunities:detail", args=[deal.pk]) in html

    client.force_login(manager)  # the manager sees both reps' records, so all of it
    html = client.get(reverse("accounts:timeline", args=[account.pk])).content.decode()
    assert "Called the secret contact" in html and "Hidden deal email" in html


def test_contact_timeline_covers_the_person_and_their_opportunities(client, world):
    rep, other, manager, account, anna, deal = world
    client.force_login(rep)

    html = client.get(reverse("contacts:timeline", args=[anna.pk])).content.decode()
    assert subjects(html) == ["Stage: Prospecting → Qualification", "Meeting: Deal meeting", "Call: Called Anna"]


def test_filter_by_kind_and_by_who(client, world):
    rep, other, manager, account, anna, deal = world
    client.force_login(rep)
    url = reverse("accounts:timeline", args=[account.pk])

    page = client.get(url).content.decode()
    assert 'data-timeline-kind="call"' in page and 'data-timeline-kind="stage_change"' in page
    calls = client.get(url, {"kind": "call", "part": "list"}, HTTP_HX_REQUEST="true").content.decode()
    assert subjects(calls) == ["Call: Called Anna"] and 'id="timeline360-filter"' not in calls
    both = client.get(url, {"kind": ["call", "stage_change"]}).content.decode()
    assert subjects(both) == ["Stage: Prospecting → Qualification", "Call: Called Anna"]
    by_manager = client.get(url, {"who": manager.pk}).content.decode()
    assert subjects(by_manager) == ["Meeting: Deal meeting"]
    nothing = client.get(url, {"kind": "task"}).content.decode()
    assert "Nothing matches these filters." in nothing
    # unknown kinds and people are ignored, hostile input refused
    assert subjects(client.get(url, {"kind": "nonsense", "who": "99999999"}).content.decode())[:1] == [
        "Stage: Prospecting → Qualification"]
    assert client.get(url, {"kind": "call\x00"}).status_code == 400


def test_pages_follow_each_other_without_gaps_or_repeats(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep, account=account)
    same_time = timezone.now() - timedelta(hours=1)
    for i in range(PAGE_SIZE + 10):
        record = account if i % 2 else contact
        Activity.objects.create(kind=Activity.Kind.NOTE, subject=f"Note {i:02d}", actor=rep,
                                content_type=ContentType.objects.get_for_model(record), object_id=record.pk,
                                occurred_at=same_time if i < 20 else same_time + timedelta(minutes=i))
    client.force_login(rep)

    first = client.get(reverse("accounts:timeline", args=[account.pk])).content.decode()
    more = re.search(r'data-timeline-more hx-get="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert 'hx-trigger="revealed"' in first
    second = client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert "data-timeline-more" not in second and "<ol" not in second
    seen = subjects(first) + subjects(second)
    assert len(seen) == PAGE_SIZE + 10 and len(set(seen)) == len(seen)
    # a tampered cursor starts again from the newest
    assert subjects(client.get(reverse("accounts:timeline", args=[account.pk]), {"after": "bm9wZQ"}).content.decode()
                    )[0] == subjects(first)[0]


def test_the_record_pages_load_the_timeline_when_its_tab_is_opened(client, world):
    rep, other, manager, account, anna, deal = world
    client.force_login(rep)

    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert f'hx-get="{reverse("accounts:timeline", args=[account.pk])}" hx-trigger="intersect once"' in page
    page = client.get(reverse("contacts:detail", args=[anna.pk])).content.decode()
    assert f'hx-get="{reverse("contacts:timeline", args=[anna.pk])}"' in page


@pytest.mark.parametrize("url_name", ["accounts:timeline", "contacts:timeline"])
def test_timeline_query_budget_does_not_grow_with_items_or_related_records(client, reps, url_name,
                                                                           django_assert_max_num_queries):
    rep, _, _ = reps
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep, account=account)

    def grow(n):
        for i in range(n):
            other = ContactFactory(owner=rep, account=account)
            deal = OpportunityFactory(owner=rep, account=account, contact=contact)
            for record in (account, contact, other, deal):
                log(record, Activity.Kind.CALL, f"Call {i}", actor=rep, minutes_ago=i)
            StageChange.objects.create(opportunity=deal, to_stage=stage("Qualification"), probability=20, actor=rep)

    grow(2)
    url = reverse(url_name, args=[account.pk if url_name.startswith("accounts") else contact.pk])
    client.force_login(rep)
    client.get(url)
    with django_assert_max_num_queries(8) as small:
        client.get(url)
    grow(20)
    with django_assert_max_num_queries(8) as large:
        response = client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)
    more = re.search(r'data-timeline-more hx-get="([^"]+)"', response.content.decode()).group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(8):
        client.get(more)
