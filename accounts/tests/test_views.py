"""Account and contact pages: visibility, related records, search, sorting, field-level security, query budgets."""
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AccountFactory, ContactFactory
from conftest import row_names
from crm.access.models import FieldAccess, FieldPermission, ObjectPermission
from crm.access.visibility import clear_caches
from crm.activities.models import Activity
from crm.customization.tests.factories import CustomFieldFactory
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

# --- accounts -----------------------------------------------------------------------------------

def test_account_list_shows_only_visible_accounts(client, reps):
    rep, other, manager = reps
    AccountFactory(owner=rep, name="Mine Oy")
    AccountFactory(owner=other, name="Theirs Oy")

    client.force_login(rep)
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 200
    assert row_names(response) == ["Mine Oy"]
    assert "Theirs Oy" not in response.content.decode()

    client.force_login(manager)
    assert sorted(row_names(client.get(reverse("accounts:list")))) == ["Mine Oy", "Theirs Oy"]


def test_account_detail_is_404_for_another_rep(client, reps):
    rep, other, manager = reps
    account = AccountFactory(owner=rep)

    client.force_login(other)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200


def test_pages_need_the_view_permission(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep, account=account)
    ObjectPermission.objects.filter(profile=rep.profile, record_type__startswith="accounts.").update(can_view=False)
    client.force_login(rep)

    for url in (reverse("accounts:list"), reverse("accounts:detail", args=[account.pk]),
                reverse("contacts:list"), reverse("contacts:detail", args=[contact.pk])):
        assert client.get(url).status_code == 404, url


def test_account_detail_shows_key_facts_tabs_and_only_visible_related_records(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel", phone="+358 9 123", website="https://steel.example")
    ContactFactory(owner=rep, account=account, first_name="Anna", last_name="Virtanen")
    ContactFactory(owner=other, account=account, first_name="Secret", last_name="Person")
    OpportunityFactory(owner=rep, account=account, name="Steel renewal")
    OpportunityFactory(owner=other, account=account, name="Hidden deal")
    Activity.objects.create(kind=Activity.Kind.NOTE, subject="Called the CFO", actor=rep,
                            content_type=ContentType.objects.get_for_model(account), object_id=account.pk)
    client.force_login(rep)

    response = client.get(reverse("accounts:detail", args=[account.pk]))
    page = response.content.decode()

    assert response.status_code == 200
    assert "Nordic Steel" in page and "+358 9 123" in page and 'href="https://steel.example"' in page
    assert 'id="tab-activity"' in page and 'id="tab-history"' in page and "Called the CFO" in page
    assert 'data-testid="log-call"' in page  # the owner may edit, so may log activities
    contacts = page[page.index('data-related="contacts"'):page.index('data-related="opportunities"')]
    assert "Virtanen" in contacts and "Anna" in contacts
    assert "Steel renewal" in page[page.index('data-related="opportunities"'):]
    assert "Secret" not in page and "Hidden deal" not in page
    assert reverse("contacts:detail", args=[account.contacts.get(last_name="Virtanen").pk]) in page


def test_account_detail_links_the_lead_it_was_converted_from(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=rep)
    lead = LeadFactory(owner=rep, first_name="Mikko", last_name="Laine", converted_account=account)
    hidden_lead = LeadFactory(owner=other, last_name="Elsewhere", converted_account=account)
    client.force_login(rep)

    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()

    assert reverse("leads:detail", args=[lead.pk]) in page and "Converted from lead Mikko Laine" in page
    assert reverse("leads:detail", args=[hidden_lead.pk]) not in page


def test_account_search_and_sort(client, reps):
    rep, _, _ = reps
    AccountFactory(owner=rep, name="Alpha Logistics")
    AccountFactory(owner=rep, name="Beta Logistics")
    AccountFactory(owner=rep, name="Gamma Foods")
    client.force_login(rep)

    assert row_names(client.get(reverse("accounts:list"), {"q": "logist"})) == ["Alpha Logistics", "Beta Logistics"]
    assert row_names(client.get(reverse("accounts:list"), {"q": "logist", "sort": "-name"})) == ["Beta Logistics",
                                                                                               "Alpha Logistics"]
    assert row_names(client.get(reverse("accounts:list"), {"q": "nothing like it"})) == []


def test_account_list_htmx_request_renders_only_the_results(client, reps):
    rep, _, _ = reps
    AccountFactory(owner=rep, name="Partial Oy")
    client.force_login(rep)

    page = client.get(reverse("accounts:list"), {"q": "partial"}, HTTP_HX_REQUEST="true").content.decode()

    assert "Partial Oy" in page and "<html" not in page and 'id="account-q"' not in page


def test_hidden_fields_leave_the_list_and_the_detail_and_custom_columns_join(client, reps):
    rep, _, _ = reps
    CustomFieldFactory(record_type="accounts.account", name="region", label="Region", show_in_list=True)
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.account", field_name="phone",
                                   access=FieldAccess.HIDDEN)
    account = AccountFactory(owner=rep, phone="+358 40 999 888", custom={"region": "Nordics"})
    client.force_login(rep)

    response = client.get(reverse("accounts:list"))
    names = [h.name for h in response.context["headers"]]
    assert "phone" not in names and "cf_region" in names
    assert "Nordics" in response.content.decode() and "+358 40 999 888" not in response.content.decode()

    detail = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "+358 40 999 888" not in detail and "Nordics" in detail


# --- contacts -----------------------------------------------------------------------------------

def test_contact_list_shows_only_visible_contacts_and_searches_names_and_email(client, reps):
    rep, other, _ = reps
    ContactFactory(owner=rep, first_name="Anna", last_name="Virtanen", email="anna@steel.example")
    ContactFactory(owner=rep, first_name="Pekka", last_name="Korhonen", email="pekka@foods.example")
    ContactFactory(owner=other, first_name="Anna", last_name="Hidden", email="anna@hidden.example")
    client.force_login(rep)

    assert row_names(client.get(reverse("contacts:list"))) == ["Pekka Korhonen", "Anna Virtanen"]
    assert row_names(client.get(reverse("contacts:list"), {"q": "anna"})) == ["Anna Virtanen"]
    assert row_names(client.get(reverse("contacts:list"), {"q": "anna virt"})) == ["Anna Virtanen"]
    assert row_names(client.get(reverse("contacts:list"), {"q": "foods.example"})) == ["Pekka Korhonen"]


def test_hidden_fields_are_neither_searched_nor_sorted_by(client, reps):
    rep, _, _ = reps
    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.contact", field_name="email",
                                   access=FieldAccess.HIDDEN)
    ContactFactory(owner=rep, first_name="Anna", last_name="Aalto", email="zz@secret.example")
    ContactFactory(owner=rep, first_name="Pekka", last_name="Bengts", email="aa@secret.example")
    client.force_login(rep)

    assert row_names(client.get(reverse("contacts:list"), {"q": "secret"})) == []
    assert row_names(client.get(reverse("contacts:list"), {"q": "anna"})) == ["Anna Aalto"]
    assert row_names(client.get(reverse("contacts:list"), {"sort": "email"})) == ["Anna Aalto", "Pekka Bengts"]
    assert row_names(client.get(reverse("contacts:list"), {"sort": "-email"})) == ["Anna Aalto", "Pekka Bengts"]


def test_contact_list_filters_by_account(client, reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep)
    ContactFactory(owner=rep, account=account, first_name="In", last_name="Account")
    ContactFactory(owner=rep, first_name="Not", last_name="There")
    client.force_login(rep)

    assert row_names(client.get(reverse("contacts:list"), {"account": account.pk})) == ["In Account"]


def test_contact_detail_is_404_for_another_rep_and_links_its_account(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=rep, name="Linked Oy")
    contact = ContactFactory(owner=rep, account=account, first_name="Anna", last_name="Virtanen")

    client.force_login(other)
    assert client.get(reverse("contacts:detail", args=[contact.pk])).status_code == 404

    client.force_login(rep)
    page = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "Anna Virtanen" in page
    assert f'<a href="{reverse("accounts:detail", args=[account.pk])}">Linked Oy</a>' in page


def test_contact_detail_does_not_link_an_account_the_reader_cannot_open(client, reps):
    rep, other, _ = reps
    account = AccountFactory(owner=other, name="Not Yours Oy")
    contact = ContactFactory(owner=rep, account=account)
    client.force_login(rep)

    page = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()

    assert reverse("accounts:detail", args=[account.pk]) not in page


# --- query budgets --------------------------------------------------------------------------------

def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _populate(rep, n, account, contact):
    for i in range(n):
        other_account = AccountFactory(owner=rep, parent=account, custom={"region": f"R{i}"})
        ContactFactory(owner=rep, account=account, custom={"region": f"R{i}"})
        ContactFactory(owner=rep, account=other_account, reports_to=contact)
        OpportunityFactory(owner=rep, account=account, contact=contact)


# Detail pages list related records of several types: one small query each for the owners visibility
# reaches (then memoized for the request), on top of the page's own. The account page adds its hierarchy
# (ancestors, subsidiaries, which of them the reader may open), one query for the money roll-ups and its contact roles;
# the 360° timeline loads when its tab is opened (its own budget: test_timeline.py).
# The contact list's one more: the campaigns its "Add to campaign" bulk action offers.
@pytest.mark.parametrize(("url_name", "budget"), [("accounts:list", 12), ("contacts:list", 13),
                                                  ("accounts:detail", 19), ("contacts:detail", 13)])
def test_query_budget_does_not_grow_with_rows(client, reps, url_name, budget, django_assert_max_num_queries):
    rep, _, _ = reps
    CustomFieldFactory(record_type="accounts.account", name="region", label="Region", show_in_list=True)
    CustomFieldFactory(record_type="accounts.contact", name="region", label="Region", show_in_list=True)
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep, account=account)
    _populate(rep, 3, account, contact)
    args = [] if url_name.endswith("list") else [account.pk if url_name == "accounts:detail" else contact.pk]
    url = reverse(url_name, args=args)
    client.force_login(rep)
    client.get(url)  # warm per-process caches

    with django_assert_max_num_queries(budget):
        small = _count_queries(client, url)
    _populate(rep, 27, account, contact)
    with django_assert_max_num_queries(budget):
        large = _count_queries(client, url)

    assert large == small


def test_contact_list_filters_by_preferred_language_chosen_by_name_unless_the_field_is_hidden(client, reps):
    rep, _, _ = reps
    ContactFactory(owner=rep, first_name="Aino", last_name="Finn", preferred_language="fi")
    ContactFactory(owner=rep, first_name="Dara", last_name="Persian", preferred_language="fa")
    client.force_login(rep)

    page = client.get(reverse("contacts:list")).content.decode()
    assert '<option value="fi">Finnish</option>' in page and 'name="preferred_language"' in page
    assert row_names(client.get(reverse("contacts:list"), {"preferred_language": "fi"})) == ["Aino Finn"]

    FieldPermission.objects.create(profile=rep.profile, record_type="accounts.contact", field_name="preferred_language",
                                   access=FieldAccess.HIDDEN)
    clear_caches()  # as the services that change field access do
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'name="preferred_language"' not in page
    # The value is not told by what a filter on the hidden field lets through.
    assert row_names(client.get(reverse("contacts:list"), {"preferred_language": "fi"})) == ["Aino Finn", "Dara Persian"]
