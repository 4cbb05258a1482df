"""Segment pages: the list, a segment's page, the builder with its live count, edit and delete, the lists'
Segment filter and its type-ahead. Each reader sees the segments that are theirs or shared, counts only the
records they may see, and gets 404 for what they may not open or change; query budgets do not grow with
the rows."""
import json

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory, ContactFactory
from campaigns.models import Segment
from campaigns.tests.factories import SegmentFactory
from crm.access.models import FieldAccess
from crm.access.services import profile_field_access_set
from crm.access.tests.factories import AdminFactory, ProfileFactory, UserFactory
from crm.core import records
from crm.lists.tests.html import parse
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

FINNS = {"all": [{"field": "mailing_country", "op": "equals", "value": "FI"}]}
CTO = {"all": [{"field": "title", "op": "contains", "value": "CTO"}]}


@pytest.fixture
def people(reps):
    """Contacts of two reps: three Finns of the rep's, two of the other rep's, and a Swede."""
    rep, other, _ = reps
    for name in ("Aalto", "Berg", "Carlsson"):
        ContactFactory(last_name=name, mailing_country="FI", owner=rep, title="CTO" if name == "Aalto" else "Buyer")
    for name in ("Dahl", "Eklund"):
        ContactFactory(last_name=name, mailing_country="FI", owner=other, title="CTO")
    ContactFactory(last_name="Falk", mailing_country="SE", owner=rep)


def segment_url(name: str, *args) -> str:
    return reverse(f"campaigns:{name}", args=args)


def counts(client, *segments) -> dict[int, str]:
    response = client.get(segment_url("segment_counts"), {"ids": ",".join(str(s.pk) for s in segments)})
    assert response.status_code == 200
    return {int(span.get("data-segment-count")): span.text().strip()
            for span in parse(response.content).find_all("span", data_segment_count=True)}


def preview(client, condition, record_type="accounts.contact") -> str:
    response = client.post(segment_url("segment_preview"), {
        "record_type": record_type, "conditions": condition if isinstance(condition, str) else json.dumps(condition)})
    assert response.status_code == 200
    return response.content.decode()


def contacts_list(client, **query):
    return client.get(records.get("accounts.contact").list_url(), query)


# --- the list of segments -------------------------------------------------------------------------------------

def test_the_list_shows_ones_own_and_shared_segments_with_what_each_reader_counts(client, reps, people):
    rep, other, manager = reps
    mine = SegmentFactory(owner=rep, name="My Finns", conditions=FINNS)
    shared = SegmentFactory(owner=other, name="Their Finns", conditions=FINNS, shared=True)
    SegmentFactory(owner=other, name="Their secret", conditions=FINNS)
    client.force_login(rep)
    page = parse(client.get(segment_url("segment_list")).content)
    rows = page.find_all("tr", data_segment=True)
    assert [r.find("a").text() for r in rows] == ["My Finns", "Their Finns"]
    assert other.get_full_name() in rows[1].text()  # the owner by name
    assert "Their secret" not in client.get(segment_url("segment_list")).content.decode()
    # The counts load after the page: the same segment counts what each reader may see
    assert counts(client, mine, shared) == {mine.pk: "3 contacts", shared.pk: "3 contacts"}
    client.force_login(other)
    assert counts(client, shared) == {shared.pk: "2 contacts"}
    client.force_login(manager)
    assert counts(client, mine, shared) == {shared.pk: "5 contacts"}  # not the rep's private one


def test_the_count_links_to_the_records_list_filtered_by_the_segment(client, reps, people):
    rep, _, _ = reps
    segment = SegmentFactory(owner=rep, conditions=FINNS)
    client.force_login(rep)
    response = client.get(segment_url("segment_counts"), {"ids": str(segment.pk)})
    link = parse(response.content).find("a")
    assert link.get("href") == f"{records.get('accounts.contact').list_url()}?segment={segment.pk}"


def test_the_list_searches_filters_by_type_and_owner_and_sorts(client, reps):
    rep, other, _ = reps
    SegmentFactory(owner=rep, name="Finnish CTOs", description="For the expo")
    SegmentFactory(owner=other, name="Big customers", record_type="accounts.account", shared=True)
    SegmentFactory(owner=other, name="Hot leads", record_type="leads.lead", shared=True)
    client.force_login(rep)

    def names(**query):
        page = parse(client.get(segment_url("segment_list"), query).content)
        return [row.find("a").text() for row in page.find_all("tr", data_segment=True)]

    assert names() == ["Big customers", "Finnish CTOs", "Hot leads"]
    assert names(sort="-name") == ["Hot leads", "Finnish CTOs", "Big customers"]
    assert names(q="expo") == ["Finnish CTOs"]
    assert names(q="big CUSTOMERS") == ["Big customers"]
    assert names(type="leads.lead") == ["Hot leads"]
    assert names(mine="1") == ["Finnish CTOs"]
    assert names(sort="record_type") == ["Big customers", "Finnish CTOs", "Hot leads"]
    # Nonsense parameters fall back to the defaults rather than failing
    assert names(sort="password", type="auth.user", q="\x00") == ["Big customers", "Finnish CTOs", "Hot leads"]


def test_counts_of_segments_one_may_not_see_are_left_out_and_unusable_ones_say_why(client, reps, people):
    rep, other, manager = reps
    private = SegmentFactory(owner=other, conditions=FINNS)
    broken = SegmentFactory(owner=rep, conditions={"all": [{"field": "cf_gone", "op": "equals", "value": "x"}]})
    client.force_login(rep)
    response = client.get(segment_url("segment_counts"), {"ids": f"{private.pk},{broken.pk},abc,,99999999999999999999"})
    spans = parse(response.content).find_all("span", data_segment_count=True)
    assert [s.get("data-segment-count") for s in spans] == [str(broken.pk)]
    assert "no longer work" in spans[0].text()


# --- one segment --------------------------------------------------------------------------------------------

def test_a_segments_page_shows_its_conditions_and_the_members_the_reader_may_see(client, reps, people):
    rep, other, _ = reps
    segment = SegmentFactory(owner=other, name="Finns", conditions=FINNS, shared=True, description="All of them")
    client.force_login(rep)
    response = client.get(segment_url("segment_detail", segment.pk))
    assert response.status_code == 200
    page = parse(response.content)
    assert "Mailing country equals FI" in page.find(data_conditions=True).text()
    members = page.find("section", data_members=True)
    names = {tr.find("a").text() for tr in members.find("tbody").find_all("tr")}
    assert names == {"Aalto", "Berg", "Carlsson"}  # not the other rep's Finns
    # Someone else's segment: no Edit or Delete
    assert not page.find("form", action=segment_url("segment_delete", segment.pk))
    assert client.get(segment_url("segment_count", segment.pk)).content.decode().count("3 contacts") == 1


@pytest.mark.parametrize("name", ["segment_detail", "segment_count", "segment_edit"])
def test_someone_elses_private_segment_and_a_missing_one_answer_404(client, reps, name):
    rep, other, _ = reps
    private = SegmentFactory(owner=other)
    client.force_login(rep)
    assert client.get(segment_url(name, private.pk)).status_code == 404
    assert client.get(segment_url(name, private.pk + 1000)).status_code == 404


def test_a_segment_of_a_type_the_reader_may_not_view_answers_404(client, reps):
    rep, _, _ = reps
    segment = SegmentFactory(owner=rep, record_type="accounts.contact", shared=True)
    blind = UserFactory(profile=ProfileFactory(record_types=["accounts.account"]))
    client.force_login(blind)
    assert client.get(segment_url("segment_detail", segment.pk)).status_code == 404
    assert client.get(segment_url("segment_create"), {"type": "accounts.contact"}).status_code == 404
    response = client.post(segment_url("segment_create") + "?type=accounts.contact",
                           {"name": "Sneaky", "conditions": "{}"})
    assert response.status_code == 404 and not Segment.objects.filter(name="Sneaky").exists()


def test_a_segment_testing_a_field_hidden_from_the_reader_is_not_evaluated_for_them(client, reps, people):
    rep, _, manager = reps
    segment = SegmentFactory(owner=manager, conditions=CTO, shared=True, name="CTOs")
    restricted = UserFactory(profile=ProfileFactory(), role=rep.role)
    profile_field_access_set(actor=manager, profile=restricted.profile, record_type="accounts.contact",
                             access={"title": FieldAccess.HIDDEN})
    client.force_login(restricted)
    page = parse(client.get(segment_url("segment_detail", segment.pk)).content)
    assert "hidden from you" in page.find(data_segment_problem=True).text()
    assert page.find("section", data_members=True) is None
    assert "CTO" not in page.find(data_conditions=True).text()  # the value tested is not shown either
    # Nor through the list's filter or the type-ahead
    response = contacts_list(client, segment=segment.pk)
    assert response.context["rows"] == [] and "hidden from you" in response.content.decode()
    lookup = client.get(segment_url("segment_lookup"), {"type": "accounts.contact"}).json()
    assert lookup == {"results": []}


# --- create, edit, delete -----------------------------------------------------------------------------------

def test_new_segment_asks_for_the_record_type_first(client, reps):
    client.force_login(reps[0])
    page = parse(client.get(segment_url("segment_create")).content)
    links = [a.get("href") for a in page.find("ul", data_segment_types=True).find_all("a")]
    assert links == [segment_url("segment_create") + f"?type={key}"
                     for key in ("accounts.contact", "leads.lead", "accounts.account")]
    # One type to choose from: straight to the form
    only_accounts = UserFactory(profile=ProfileFactory(record_types=["accounts.account"]))
    client.force_login(only_accounts)
    response = client.get(segment_url("segment_create"))
    assert response.status_code == 200 and response.context["rt"].key == "accounts.account"
    # None: nothing to build segments over
    client.force_login(UserFactory(profile=ProfileFactory(record_types=["opportunities.opportunity"])))
    assert client.get(segment_url("segment_create")).status_code == 404


def test_creating_a_segment_saves_it_for_its_owner_and_opens_it(client, reps, people):
    rep, _, _ = reps
    client.force_login(rep)
    url = segment_url("segment_create") + "?type=accounts.contact"
    form = parse(client.get(url).content)
    assert form.find("input", name="record_type").get("value") == "accounts.contact"
    response = client.post(url, {"name": "Finnish contacts", "description": "", "shared": "on",
                                 "conditions": json.dumps(FINNS)})
    segment = Segment.objects.get()
    assert response.status_code == 302 and response.url == segment_url("segment_detail", segment.pk)
    assert (segment.owner, segment.record_type, segment.shared, segment.conditions) == (
        rep, "accounts.contact", True, FINNS)
    assert "Finnish contacts" in client.get(response.url).content.decode()


@pytest.mark.parametrize("conditions, message", [
    ('{"all": [{"field": "title", "op": "changed"}]}', "only be used by rules"),
    ('{"all": [{"field": "shoe_size", "op": "equals", "value": "42"}]}', "Choose a field"),
    ("{not json", "could not be read"),
    ('{"all": 5}', "could not be read"),
    ("[" * 5000 + "]" * 5000, "could not be read"),
    ('{"all": [' + ",".join(['{"field": "title", "op": "contains", "value": "x"}'] * 51) + "]}", "at most"),
])
def test_conditions_that_cannot_be_used_are_refused_with_the_reason_and_nothing_saved(client, reps, conditions, message):
    client.force_login(reps[0])
    response = client.post(segment_url("segment_create") + "?type=accounts.contact",
                           {"name": "Broken", "conditions": conditions})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Segment.objects.exists()


def test_a_field_hidden_from_the_user_is_not_offered_by_the_builder_nor_accepted(client, reps):
    rep, _, manager = reps
    from crm.customization.tests.factories import CustomFieldFactory

    CustomFieldFactory(record_type="accounts.contact", name="salary", label="Salary", field_type="number")
    CustomFieldFactory(record_type="accounts.contact", name="region", label="Region", field_type="text")
    restricted = UserFactory(profile=ProfileFactory(), role=rep.role)
    profile_field_access_set(actor=manager, profile=restricted.profile, record_type="accounts.contact",
                             access={"title": FieldAccess.HIDDEN, "cf_salary": FieldAccess.HIDDEN})
    client.force_login(restricted)
    url = segment_url("segment_create") + "?type=accounts.contact"
    page = parse(client.get(url).content)
    meta = json.loads(page.find("script", id="id_conditions-meta").text())
    offered = {f["name"] for f in meta["fields"]}
    assert "title" not in offered and "cf_salary" not in offered
    assert {"last_name", "mailing_country", "email_opt_out", "cf_region", "owner"} <= offered
    assert "account" not in offered  # a record picked by id: not something the builder can ask for
    for field in ("title", "cf_salary"):
        response = client.post(url, {"name": "Nope", "conditions": json.dumps(
            {"all": [{"field": field, "op": "is_not_empty"}]})})
        assert response.status_code == 422
    assert not Segment.objects.exists()


def test_only_the_owner_or_an_admin_edits_or_deletes_a_segment(client, reps):
    rep, other, _ = reps
    segment = SegmentFactory(owner=rep, name="Finns", conditions=FINNS, shared=True)
    client.force_login(other)  # may use it, not change it
    assert client.get(segment_url("segment_detail", segment.pk)).status_code == 200
    assert client.get(segment_url("segment_edit", segment.pk)).status_code == 404
    assert client.post(segment_url("segment_edit", segment.pk), {"name": "Mine", "conditions": "{}"}).status_code == 404
    assert client.post(segment_url("segment_delete", segment.pk)).status_code == 404
    segment.refresh_from_db()
    assert segment.name == "Finns"

    client.force_login(rep)
    page = parse(client.get(segment_url("segment_edit", segment.pk)).content)
    assert json.loads(page.find("textarea", name="conditions").text()) == FINNS
    response = client.post(segment_url("segment_edit", segment.pk), {
        "name": "Finnish CTOs", "conditions": json.dumps({"all": [*FINNS["all"], *CTO["all"]]})})
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Finnish CTOs" and not segment.shared and len(segment.conditions["all"]) == 2
    assert segment.record_type == "accounts.contact"  # the type is not changed by the form

    client.force_login(AdminFactory())
    assert client.get(segment_url("segment_edit", segment.pk)).status_code == 200
    assert client.get(segment_url("segment_delete", segment.pk)).status_code == 405
    response = client.post(segment_url("segment_delete", segment.pk))
    assert response.status_code == 302 and response.url == segment_url("segment_list")
    assert not Segment.objects.exists()


def test_editing_a_segment_whose_fields_became_hidden_sends_the_owner_back_with_the_reason(client, reps):
    rep, _, manager = reps
    segment = SegmentFactory(owner=rep, conditions=CTO)
    profile_field_access_set(actor=manager, profile=rep.profile, record_type="accounts.contact",
                             access={"title": FieldAccess.HIDDEN})
    client.force_login(rep)
    response = client.get(segment_url("segment_edit", segment.pk), follow=True)
    assert response.redirect_chain[-1][0] == segment_url("segment_detail", segment.pk)
    assert "hidden from you" in response.content.decode()


# --- the live count of the builder -----------------------------------------------------------------------------

def test_the_live_count_follows_the_conditions_and_the_readers_visibility(client, reps, people):
    rep, other, manager = reps
    client.force_login(rep)
    assert "4 contacts" in preview(client, {"all": []})
    assert "3 contacts" in preview(client, FINNS)
    content = preview(client, {"all": [*FINNS["all"], *CTO["all"]]})
    assert "1 contact" in content and "Aalto" in parse(content).find(data_count_sample=True).text()
    assert "0 contacts" in preview(client, {"any": [{"field": "mailing_country", "op": "equals", "value": "DE"}]})
    client.force_login(manager)
    assert "5 contacts" in preview(client, FINNS)
    client.force_login(other)
    assert "2 contacts" in preview(client, FINNS)


def test_the_live_count_leaves_out_rows_still_being_filled_in(client, reps, people):
    client.force_login(reps[0])
    content = preview(client, {"all": [*FINNS["all"], {"field": "title", "op": "contains", "value": ""},
                                       {"field": "", "op": "", "value": ""}, {"any": [{"field": "title"}]}]})
    assert "3 contacts" in content and "still being filled in" in content
    assert "still being filled in" not in preview(client, FINNS)


@pytest.mark.parametrize("condition, record_type, message", [
    ("{not json", "accounts.contact", "could not be read"),
    ('{"all": [{"field": "title", "op": "changed"}]}', "accounts.contact", "only be used by rules"),
    ('{"all": [{"field": "employees", "op": "gt", "value": "many"}]}', "accounts.account", "not a valid value"),
    ("{}", "opportunities.opportunity", "cannot be built over"),
    ("{}", "", "cannot be built over"),
    ("x" * 30000, "accounts.contact", "could not be read"),
])
def test_the_live_count_says_why_it_cannot_count(client, reps, condition, record_type, message):
    client.force_login(reps[0])
    content = preview(client, condition, record_type)
    assert message in parse(content).find(data_count_message=True).text()


def test_the_live_count_counts_leads_and_accounts_too(client, reps):
    rep, _, _ = reps
    LeadFactory(owner=rep, country="FI", rating="hot")
    LeadFactory(owner=rep, country="FI", rating="cold")
    AccountFactory(owner=rep, account_type="customer", billing_country="FI", employees=80)
    AccountFactory(owner=rep, account_type="customer", billing_country="FI", employees=20)
    client.force_login(rep)
    assert "1 lead" in preview(client, {"all": [{"field": "rating", "op": "equals", "value": "hot"}]}, "leads.lead")
    assert "1 account" in preview(client, {"all": [{"field": "account_type", "op": "equals", "value": "customer"},
                                                   {"field": "employees", "op": "gt", "value": "50"}]},
                                  "accounts.account")


def test_the_live_count_only_answers_posts(client, reps):
    client.force_login(reps[0])
    assert client.get(segment_url("segment_preview"), {"record_type": "accounts.contact"}).status_code == 405


def test_the_live_count_is_capped_like_the_lists(client, reps, people, settings):
    settings.LIST_COUNT_LIMIT = 2
    client.force_login(reps[0])
    assert "More than 2 contacts" in preview(client, FINNS)


# --- the lists' Segment filter ---------------------------------------------------------------------------------

def test_a_list_filtered_by_a_segment_shows_its_members_the_reader_may_see(client, reps, people):
    rep, other, _ = reps
    segment = SegmentFactory(owner=other, conditions=FINNS, shared=True, name="Finns")
    client.force_login(rep)
    response = contacts_list(client, segment=segment.pk)
    assert {record.last_name for record, _cells in response.context["rows"]} == {"Aalto", "Berg", "Carlsson"}
    # The list's own search and filters apply on top
    response = contacts_list(client, segment=segment.pk, q="Berg")
    assert [record.last_name for record, _cells in response.context["rows"]] == ["Berg"]
    # The filter shows the chosen segment by name
    assert '<option value="%s" selected>Finns</option>' % segment.pk in response.content.decode()


def test_a_list_filtered_by_a_segment_one_may_not_use_shows_nothing_and_says_so(client, reps, people):
    rep, other, _ = reps
    private = SegmentFactory(owner=other, conditions=FINNS)
    accounts = SegmentFactory(owner=rep, record_type="accounts.account", shared=True)
    client.force_login(rep)
    for segment in (private, accounts):
        response = contacts_list(client, segment=segment.pk)
        assert response.status_code == 200 and response.context["rows"] == []
        assert "does not exist or is not shared with you" in response.content.decode()
    assert contacts_list(client, segment="abc").context["rows"] == []


def test_the_segment_type_ahead_offers_the_readers_usable_segments_of_one_type(client, reps):
    rep, other, _ = reps
    SegmentFactory(owner=rep, name="Finnish contacts")
    SegmentFactory(owner=other, name="Finnish partners", shared=True)
    SegmentFactory(owner=other, name="Finnish secrets")
    SegmentFactory(owner=rep, name="Finnish accounts", record_type="accounts.account")
    SegmentFactory(owner=rep, name="Finnish broken", conditions={"all": [{"field": "cf_x", "op": "is_empty"}]})
    client.force_login(rep)

    def lookup(**query):
        return [r["text"] for r in client.get(segment_url("segment_lookup"), query).json()["results"]]

    assert lookup(type="accounts.contact", q="finnish") == ["Finnish contacts", "Finnish partners"]
    assert lookup(type="accounts.contact", q="partners") == ["Finnish partners"]
    assert lookup(type="accounts.account") == ["Finnish accounts"]
    assert lookup(type="auth.user") == [] and lookup() == []


# --- query budgets -----------------------------------------------------------------------------------------

# The idle-session middleware saves the session once a minute: on a busy machine a test may cross a minute.
SESSION_SAVE = 2


def own(captured) -> list:
    """The queries of a request apart from the session's."""
    return [q for q in captured.captured_queries if "django_session" not in q["sql"]]


def test_list_and_detail_query_budgets_do_not_grow_with_the_rows(client, reps, django_assert_max_num_queries):
    """The list is one query for its page (owners from the user directory, counts after the page); a
    segment's page reads the segment and its first 50 members (their accounts and owners from caches)."""
    rep, other, _ = reps
    owners = [rep, other, *(UserFactory(profile=rep.profile, role=rep.role) for _ in range(4))]

    def make(n):
        for i in range(n):
            SegmentFactory(owner=owners[i % len(owners)], conditions=FINNS, shared=True)
            ContactFactory(owner=rep, mailing_country="FI", account=AccountFactory(owner=rep))

    make(3)
    segment = Segment.objects.filter(owner=rep).first()
    client.force_login(rep)
    client.get(segment_url("segment_list"))  # warm the per-process caches
    client.get(segment_url("segment_detail", segment.pk))
    with django_assert_max_num_queries(5 + SESSION_SAVE) as small_list:
        assert client.get(segment_url("segment_list")).status_code == 200
    with django_assert_max_num_queries(8 + SESSION_SAVE) as small_detail:
        assert client.get(segment_url("segment_detail", segment.pk)).status_code == 200

    make(47)
    client.get(segment_url("segment_list"))
    with django_assert_max_num_queries(5 + SESSION_SAVE) as big_list:
        page = client.get(segment_url("segment_list"))
    assert len(parse(page.content).find_all("tr", data_segment=True)) == 50
    with django_assert_max_num_queries(8 + SESSION_SAVE) as big_detail:
        page = client.get(segment_url("segment_detail", segment.pk))
    assert len(page.context["members"].rows) == 50
    assert len(own(big_list)) == len(own(small_list))
    assert len(own(big_detail)) == len(own(small_detail)), "\n".join(q["sql"][:200] for q in own(big_detail))


def test_the_counts_cost_one_query_per_segment(client, reps, people, django_assert_max_num_queries):
    rep, _, _ = reps
    segments = [SegmentFactory(owner=rep, conditions=FINNS) for _ in range(10)]
    client.force_login(rep)
    counts(client, *segments[:1])
    with django_assert_max_num_queries(4 + SESSION_SAVE) as one:
        counts(client, *segments[:1])
    with django_assert_max_num_queries(4 + 9 + SESSION_SAVE) as ten:
        assert set(counts(client, *segments).values()) == {"3 contacts"}
    assert len(own(ten)) <= len(own(one)) + 9


# --- copies and broken segments -----------------------------------------------------------------------------

def test_a_shared_segment_is_copied_into_ones_own_private_one(client, reps, people):
    rep, other, _ = reps
    shared = SegmentFactory(owner=other, name="Finns", conditions=FINNS, shared=True, description="Theirs")
    private = SegmentFactory(owner=other, conditions=FINNS)
    client.force_login(rep)
    assert client.post(segment_url("segment_copy", private.pk)).status_code == 404
    assert client.get(segment_url("segment_copy", shared.pk)).status_code == 405
    response = client.post(segment_url("segment_copy", shared.pk))
    copy = Segment.objects.get(owner=rep)
    assert response.status_code == 302 and response.url == segment_url("segment_edit", copy.pk)
    assert (copy.name, copy.description, copy.conditions, copy.record_type, copy.shared) == (
        "Copy of Finns", "Theirs", FINNS, "accounts.contact", False)
    assert Segment.objects.get(pk=shared.pk).owner == other  # the original is untouched


def test_a_segment_testing_hidden_fields_cannot_be_copied(client, reps):
    rep, _, manager = reps
    segment = SegmentFactory(owner=manager, conditions=CTO, shared=True)
    profile_field_access_set(actor=manager, profile=rep.profile, record_type="accounts.contact",
                             access={"title": FieldAccess.HIDDEN})
    client.force_login(rep)
    page = parse(client.get(segment_url("segment_detail", segment.pk)).content)
    assert page.find(data_testid="copy-segment") is None
    response = client.post(segment_url("segment_copy", segment.pk), follow=True)
    assert "hidden from you" in response.content.decode()
    assert Segment.objects.count() == 1


def test_the_owner_of_a_segment_whose_custom_field_was_removed_can_still_edit_it(client, reps, people):
    rep, _, _ = reps
    broken = SegmentFactory(owner=rep, conditions={"all": [*FINNS["all"], {"field": "cf_gone", "op": "is_empty"}]})
    client.force_login(rep)
    page = parse(client.get(segment_url("segment_detail", broken.pk)).content)
    assert "no longer work" in page.find(data_segment_problem=True).text()
    assert page.find(data_testid="edit-segment") is not None
    assert client.get(segment_url("segment_edit", broken.pk)).status_code == 200
    response = client.post(segment_url("segment_edit", broken.pk), {"name": "Fixed", "conditions": json.dumps(FINNS)})
    assert response.status_code == 302
    assert "3 contacts" in client.get(segment_url("segment_count", broken.pk)).content.decode()


def test_the_leads_and_accounts_lists_filter_by_segment_too(client, reps):
    rep, _, _ = reps
    LeadFactory(owner=rep, last_name="Hot", rating="hot")
    LeadFactory(owner=rep, last_name="Cold", rating="cold")
    AccountFactory(owner=rep, name="Big", employees=500)
    AccountFactory(owner=rep, name="Small", employees=5)
    hot = SegmentFactory(owner=rep, record_type="leads.lead",
                         conditions={"all": [{"field": "rating", "op": "equals", "value": "hot"}]})
    big = SegmentFactory(owner=rep, record_type="accounts.account",
                         conditions={"all": [{"field": "employees", "op": "gte", "value": "100"}]})
    client.force_login(rep)
    leads = client.get(records.get("leads.lead").list_url(), {"segment": hot.pk}).context["rows"]
    assert [lead.last_name for lead, _cells in leads] == ["Hot"]
    accounts = client.get(records.get("accounts.account").list_url(), {"segment": big.pk}).context["rows"]
    assert [account.name for account, _cells in accounts] == ["Big"]
    # A contacts segment does not filter leads
    assert client.get(records.get("leads.lead").list_url(), {"segment": big.pk}).context["rows"] == []


def test_the_live_count_shows_no_names_to_a_reader_they_are_hidden_from(client, reps, people):
    rep, _, manager = reps
    profile_field_access_set(actor=manager, profile=rep.profile, record_type="accounts.contact",
                             access={"last_name": FieldAccess.HIDDEN})
    client.force_login(rep)
    content = preview(client, FINNS)
    assert "3 contacts" in content and parse(content).find(data_count_sample=True) is None
    assert "Aalto" not in content


def test_a_segments_members_export_as_the_list_exports_them(client, reps, people):
    import csv
    import io

    rep, other, _ = reps
    segment = SegmentFactory(owner=other, conditions=FINNS, shared=True)
    client.force_login(rep)
    response = contacts_list(client, segment=segment.pk, export="csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["Last name"] for row in rows) == ["Aalto", "Berg", "Carlsson"]


# --- a segment's members added to a campaign ------------------------------------------------------------------

def test_a_segments_members_the_reader_may_edit_are_added_to_a_campaign(client, reps, people):
    from accounts.models import Contact
    from campaigns.models import Campaign, Touch
    from campaigns.tests.factories import CampaignFactory

    rep, other, _ = reps
    expo = CampaignFactory(name="Expo", status=Campaign.Status.ACTIVE)
    done = CampaignFactory(name="Old", status=Campaign.Status.COMPLETED)
    segment = SegmentFactory(owner=other, conditions=FINNS, shared=True)
    client.force_login(rep)
    page = parse(client.get(segment_url("segment_detail", segment.pk)).content)
    offered = [o.get("value") for o in page.find("form", data_segment_campaign=True).find_all("option")]
    assert str(expo.pk) in offered and str(done.pk) not in offered  # only campaigns that still take members
    for value in (str(done.pk), "", "abc"):
        client.post(segment_url("segment_campaign", segment.pk), {"campaign": value})
    assert not Touch.objects.exists()

    response = client.post(segment_url("segment_campaign", segment.pk), {"campaign": expo.pk}, follow=True)
    assert "Added to Expo: 3." in response.content.decode()
    touched = Contact.objects.filter(pk__in=Touch.objects.filter(campaign=expo).values("object_id"))
    assert {c.last_name for c in touched} == {"Aalto", "Berg", "Carlsson"}  # not the other rep's Finns
    # Accounts are not campaign members
    accounts = SegmentFactory(owner=rep, record_type="accounts.account")
    assert parse(client.get(segment_url("segment_detail", accounts.pk)).content).find(
        "form", data_segment_campaign=True) is None
    response = client.post(segment_url("segment_campaign", accounts.pk), {"campaign": expo.pk}, follow=True)
    assert "Only segments of leads or contacts" in response.content.decode()
    assert client.post(segment_url("segment_campaign", SegmentFactory(owner=other).pk),
                       {"campaign": expo.pk}).status_code == 404


def test_adding_a_segment_one_may_only_read_says_nothing_was_added(client, reps, people):
    from crm.access.models import SharingRule
    from crm.access.services import sharing_rule_save
    from campaigns.tests.factories import CampaignFactory

    rep, other, manager = reps
    from crm.access.tests.factories import RoleFactory

    reader = UserFactory(profile=rep.profile, role=RoleFactory(name="Readers"))
    sharing_rule_save(actor=None, name="Read all", record_type="accounts.contact", kind=SharingRule.Kind.OWNER,
                      source_role=manager.role, source_include_subordinates=True,
                      target_kind=SharingRule.Target.ROLE, target_role=reader.role, access_level=SharingRule.Level.READ)
    segment = SegmentFactory(owner=other, conditions=FINNS, shared=True)
    client.force_login(reader)
    assert "5 contacts" in client.get(segment_url("segment_count", segment.pk)).content.decode()
    response = client.post(segment_url("segment_campaign", segment.pk), {"campaign": CampaignFactory().pk}, follow=True)
    assert "none were added" in response.content.decode(), [str(m) for m in response.context["messages"]]
