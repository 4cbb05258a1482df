"""Segments: saved conditions over contacts and accounts whose members are worked out when used, in SQL over
what the reader may see, and answered the same way in Python for a record in hand; field-level security,
custom fields, refused conditions and who may change a segment."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Account, Contact
from accounts.tests.factories import AccountFactory, ContactFactory
from campaigns import selectors, services
from campaigns.models import Segment
from campaigns.tests.factories import SegmentFactory
from crm.access.models import FieldAccess
from crm.access.services import profile_field_access_set
from crm.access.tests.factories import AdminFactory, ProfileFactory, UserFactory
from crm.core.models import Event
from crm.customization.tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(reps):
    """Accounts of two reps with every kind of value segments test, custom fields included."""
    rep, other, manager = reps
    for name, kind, extra in [("tier", "picklist", {"choices": ["Gold", "Silver"]}), ("seats", "number", {}),
                              ("renewal", "date", {}), ("partner", "checkbox", {})]:
        CustomFieldFactory(record_type="accounts.account", name=name, label=name.title(), field_type=kind, **extra)
    rows = [
        dict(name="Nordic Timber", account_type="customer", billing_country="FI", employees=250, owner=rep,
             annual_revenue=Decimal("1500000"), industry="manufacturing",
             custom={"tier": "Gold", "seats": "40", "renewal": "2027-01-31", "partner": True}),
        dict(name="Aalto Robotics", account_type="customer", billing_country="FI", employees=50, owner=other,
             industry="technology", custom={"tier": "Silver", "seats": "7.5", "partner": False}),
        dict(name="Harbor Finance", account_type="customer", billing_country="US", employees=900, owner=rep,
             industry="finance", custom={"seats": "not a number", "renewal": "someday"}),
        dict(name="Tampere Energy", account_type="prospect", billing_country="FI", employees=None, owner=rep,
             industry="", custom={}),
        dict(name="Oulu Software", account_type="customer", billing_country="FI", employees=51, owner=None,
             industry="technology", custom={"tier": "gold"}),
    ]
    return [AccountFactory(**row) for row in rows]


CASES = [
    # "customers in Finland with more than 50 employees"
    {"all": [{"field": "account_type", "op": "equals", "value": "customer"},
             {"field": "billing_country", "op": "equals", "value": "FI"},
             {"field": "employees", "op": "gt", "value": "50"}]},
    {"any": [{"field": "industry", "op": "equals", "value": "technology"},
             {"all": [{"field": "employees", "op": "gte", "value": "900"},
                      {"field": "billing_country", "op": "not_equals", "value": "FI"}]}]},
    {"all": [{"field": "employees", "op": "is_empty"}]},
    {"all": [{"field": "industry", "op": "in", "value": "finance, manufacturing"}]},
    {"all": [{"field": "name", "op": "contains", "value": "o"}, {"field": "name", "op": "not_contains", "value": "oulu"}]},
    {"all": [{"field": "cf_tier", "op": "equals", "value": "GOLD"}]},
    {"all": [{"field": "cf_seats", "op": "gt", "value": "10"}]},
    {"all": [{"field": "cf_seats", "op": "not_equals", "value": "40"}]},
    {"all": [{"field": "cf_renewal", "op": "lt", "value": "2028-01-01"}]},
    {"all": [{"field": "cf_partner", "op": "equals", "value": "true"}]},
    {"all": [{"field": "cf_tier", "op": "is_empty"}]},
    {"all": []},
]


def _segment(condition, **extra):
    return SegmentFactory(record_type="accounts.account", conditions=condition, shared=True, **extra)


@pytest.mark.parametrize("condition", CASES)
def test_members_in_sql_are_the_records_segment_contains_says_in_python(accounts, condition):
    admin = AdminFactory()
    segment = _segment(condition)
    in_sql = set(selectors.segment_members(segment=segment, user=admin).values_list("pk", flat=True))
    in_python = {a.pk for a in Account.objects.all() if services.segment_contains(segment=segment, record=a)}
    assert in_sql == in_python


def test_the_issue_example_finds_exactly_the_finnish_customers_with_more_than_50_employees(accounts):
    segment = _segment(CASES[0])
    names = set(selectors.segment_members(segment=segment, user=AdminFactory()).values_list("name", flat=True))
    assert names == {"Nordic Timber", "Oulu Software"}
    assert services.segment_count(segment=segment, user=AdminFactory()) == selectors.SegmentCount(2, False)


def test_each_reader_gets_the_members_they_may_see(accounts, reps):
    rep, other, manager = reps
    segment = _segment({"all": [{"field": "billing_country", "op": "equals", "value": "FI"}]}, owner=rep)
    names = {u: set(selectors.segment_members(segment=segment, user=u).values_list("name", flat=True))
             for u in (rep, other, manager)}
    assert names[rep] == {"Nordic Timber", "Tampere Energy"}
    assert names[other] == {"Aalto Robotics"}
    assert names[manager] == {"Nordic Timber", "Tampere Energy", "Aalto Robotics"}
    assert selectors.segment_count(segment=segment, user=manager).count == 3


def test_the_count_is_capped_like_the_lists(accounts, settings):
    settings.LIST_COUNT_LIMIT = 3
    admin = AdminFactory()
    everything = _segment({"all": []})
    assert selectors.segment_count(segment=everything, user=admin) == selectors.SegmentCount(3, True)
    settings.LIST_COUNT_LIMIT = 5
    assert selectors.segment_count(segment=everything, user=admin) == selectors.SegmentCount(5, False)


def test_contacts_whose_title_contains_cto(reps):
    rep, _, _ = reps
    cto = ContactFactory(last_name="Laine", title="CTO", owner=rep)
    ContactFactory(last_name="Virtanen", title="Deputy cto", owner=rep)
    ContactFactory(last_name="Smith", title="Buyer", owner=rep)
    segment = services.segment_create(actor=rep, name="CTOs", record_type="accounts.contact",
                                      conditions={"all": [{"field": "title", "op": "contains", "value": "CTO"}]})
    members = selectors.segment_members(segment=segment, user=rep)
    assert set(members.values_list("last_name", flat=True)) == {"Laine", "Virtanen"}
    assert services.segment_contains(segment=segment, record=cto)
    assert not services.segment_contains(segment=segment, record=Contact.objects.get(last_name="Smith"))
    assert not services.segment_contains(segment=segment, record=AccountFactory(name="CTO Oy"))  # another type


# --- field-level security ------------------------------------------------------------------------------------

@pytest.fixture
def restricted(reps):
    """A rep whose profile hides contacts' titles and a custom field from them."""
    rep, _, manager = reps
    CustomFieldFactory(record_type="accounts.contact", name="salary", label="Salary", field_type="number")
    user = UserFactory(profile=ProfileFactory(), role=rep.role, email="restricted@example.com")
    profile_field_access_set(actor=manager, profile=user.profile, record_type="accounts.contact",
                             access={"title": FieldAccess.HIDDEN, "cf_salary": FieldAccess.HIDDEN})
    return user


@pytest.mark.parametrize("field, value", [("title", "CTO"), ("cf_salary", "100000")])
def test_a_user_cannot_build_a_segment_on_a_field_hidden_from_them(restricted, field, value):
    condition = {"all": [{"field": field, "op": "gt" if field == "cf_salary" else "contains", "value": value}]}
    with pytest.raises(services.SegmentInvalid, match="hidden from you"):
        services.segment_create(actor=restricted, name="Nope", record_type="accounts.contact", conditions=condition)
    with pytest.raises(selectors.SegmentNotUsable, match="hidden from you"):
        selectors.conditions_count(user=restricted, record_type="accounts.contact", condition=condition)
    assert not Segment.objects.exists()


def test_a_segment_on_a_hidden_field_is_shown_as_such_and_not_evaluated(restricted, reps):
    rep, _, _ = reps
    ContactFactory(last_name="Laine", title="CTO", owner=restricted)
    segment = services.segment_create(actor=rep, name="CTOs", record_type="accounts.contact", shared=True,
                                      conditions={"all": [{"field": "title", "op": "contains", "value": "CTO"},
                                                          {"field": "cf_salary", "op": "gt", "value": "90000"}]})
    problem = selectors.segment_problem(segment=segment, user=restricted)
    assert "hidden from you" in problem and "Title" in problem and "Salary" in problem
    with pytest.raises(selectors.SegmentNotUsable):
        selectors.segment_members(segment=segment, user=restricted)
    with pytest.raises(selectors.SegmentNotUsable):
        selectors.segment_count(segment=segment, user=restricted)
    # The conditions are described without the values they test on the hidden fields
    described = selectors.segment_description(segment=segment, user=restricted)
    assert "CTO" not in described and "90000" not in described and "•••" in described
    assert "CTO" in selectors.segment_description(segment=segment, user=rep)
    assert selectors.segment_problem(segment=segment, user=rep) == ""


def test_a_segment_whose_custom_field_was_removed_says_its_conditions_no_longer_work(reps):
    rep, _, _ = reps
    field = CustomFieldFactory(record_type="accounts.contact", name="region", label="Region", field_type="text")
    segment = services.segment_create(actor=rep, name="Nordics", record_type="accounts.contact",
                                      conditions={"all": [{"field": "cf_region", "op": "equals", "value": "Nordics"}]})
    from crm.customization.fields import definitions_changed

    field.delete()
    definitions_changed("accounts.contact")
    assert "no longer work" in selectors.segment_problem(segment=segment, user=rep)
    with pytest.raises(selectors.SegmentNotUsable):
        selectors.segment_members(segment=segment, user=rep)
    assert not services.segment_contains(segment=segment, record=ContactFactory(custom={"region": "Nordics"}))


# --- what is refused -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("record_type, condition, message", [
    ("accounts.contact", {"all": [{"field": "shoe_size", "op": "equals", "value": "42"}]}, "Choose a field"),
    ("accounts.account", {"all": [{"field": "employees", "op": "gt", "value": "many"}]}, "not a valid value"),
    ("accounts.account", {"all": [{"field": "employees", "op": "contains", "value": "5"}]}, "does not apply"),
    ("accounts.contact", {"all": [{"field": "title", "op": "changed"}]}, "only be used by rules"),
    ("accounts.contact", {"all": [{"field": "title", "op": "contains", "value": ""}]}, "Give a value"),
    ("accounts.contact", [1, 2], "could not be read"),
    ("accounts.contact", {"all": "title"}, "could not be read"),
    ("opportunities.opportunity", {"all": []}, "cannot be built over"),
    ("nothing.here", {"all": []}, "cannot be built over"),
])
def test_conditions_that_cannot_be_used_are_refused_with_a_message(reps, record_type, condition, message):
    rep, _, _ = reps
    with pytest.raises(services.SegmentInvalid, match=message):
        services.segment_create(actor=rep, name="Broken", record_type=record_type, conditions=condition)
    assert not Segment.objects.exists() and not Event.objects.filter(name__startswith="segment.").exists()


def test_a_segment_needs_a_name(reps):
    with pytest.raises(services.SegmentInvalid, match="name"):
        services.segment_create(actor=reps[0], name="  ", record_type="accounts.contact", conditions={})


# --- writes, events and who may change a segment ------------------------------------------------------------

def test_create_update_and_delete_emit_events_and_only_the_owner_or_an_admin_may_change_it(reps, django_capture_on_commit_callbacks):
    rep, other, manager = reps
    with django_capture_on_commit_callbacks():
        segment = services.segment_create(actor=rep, name=" Finns ", record_type="accounts.contact", shared=True,
                                          conditions={"field": "mailing_country", "op": "equals", "value": "FI"})
    assert segment.name == "Finns" and segment.owner == rep
    assert segment.conditions == {"all": [{"field": "mailing_country", "op": "equals", "value": "FI"}]}
    assert Event.objects.filter(name="segment.created", object_id=segment.pk).exists()

    for outsider in (other, manager):  # a shared segment is used by everyone, changed by its owner
        with pytest.raises(PermissionDenied):
            services.segment_update(actor=outsider, segment=segment, name="Mine now", record_type="accounts.contact",
                                    conditions={})
        with pytest.raises(PermissionDenied):
            services.segment_delete(actor=outsider, segment=segment)

    services.segment_update(actor=rep, segment=segment, name="Finnish contacts", record_type="accounts.contact",
                            conditions=segment.conditions, shared=False)
    event = Event.objects.get(name="segment.updated", object_id=segment.pk)
    assert event.changes == {"name": ["Finns", "Finnish contacts"], "shared": [True, False]}

    pk = segment.pk
    services.segment_delete(actor=AdminFactory(), segment=segment)
    assert not Segment.objects.exists()
    assert Event.objects.filter(name="segment.deleted", object_id=pk).exists()


def test_who_sees_which_segment(reps):
    rep, other, manager = reps
    own = SegmentFactory(owner=rep, name="Own")
    shared = SegmentFactory(owner=other, name="Shared", shared=True)
    SegmentFactory(owner=other, name="Private")
    SegmentFactory(owner=other, name="Accounts", record_type="accounts.account", shared=True)
    assert set(Segment.objects.visible_to(rep).values_list("name", flat=True)) == {"Own", "Shared", "Accounts"}
    assert set(Segment.objects.visible_to(rep, "edit")) == {own}
    assert Segment.objects.visible_to(AdminFactory()).count() == 4
    # Without the right to view contacts, their segments are not offered
    blind = UserFactory(profile=ProfileFactory(record_types=["accounts.account"]))
    assert set(Segment.objects.visible_to(blind).values_list("name", flat=True)) == {"Accounts"}
    assert shared not in Segment.objects.visible_to(blind)
    assert [rt.key for rt in selectors.segment_types(user=blind)] == ["accounts.account"]


# --- the same answer in SQL and Python for contacts and leads -------------------------------------------------

PEOPLE_CASES = {
    "accounts.contact": [
        {"all": [{"field": "email_opt_out", "op": "equals", "value": "false"}, {"field": "email", "op": "is_not_empty"}]},
        {"all": [{"field": "birthdate", "op": "lt", "value": "1980-01-01"}]},
        {"any": [{"field": "preferred_language", "op": "in", "value": "fi, sv"}, {"field": "title", "op": "starts_with", "value": "chief"}]},
        {"all": [{"field": "created_at", "op": "gte", "value": "2020-01-01"}, {"field": "owner", "op": "is_not_empty"}]},
        {"all": [{"field": "mailing_country", "op": "not_in", "value": "FI, SE"}]},
    ],
    "leads.lead": [
        {"all": [{"field": "rating", "op": "equals", "value": "hot"}, {"field": "country", "op": "equals", "value": "fi"}]},
        {"all": [{"field": "status", "op": "not_equals", "value": "qualified"}]},
        {"all": [{"field": "employees", "op": "gte", "value": "100"}, {"field": "lifecycle_stage", "op": "not_equals", "value": "converted"}]},
        {"any": [{"field": "score", "op": "gt", "value": "40"}, {"field": "title", "op": "contains", "value": "cto"}]},
    ],
}


@pytest.fixture
def people_records(reps):
    from datetime import date

    from crm.customization.models import PicklistValue
    from leads.tests.factories import LeadFactory

    rep, other, _ = reps
    for i, (country, lang, title, opt_out, born) in enumerate([
            ("FI", "fi", "Chief Technology Officer", False, date(1975, 5, 1)), ("SE", "sv", "Buyer", True, None),
            ("DE", "", "CTO", False, date(1990, 1, 1)), ("", "en", "", False, date(1979, 12, 31))]):
        ContactFactory(mailing_country=country, preferred_language=lang, title=title, email_opt_out=opt_out,
                       birthdate=born, owner=rep if i % 2 else None, email="" if i == 3 else f"c{i}@example.com")
    statuses = list(PicklistValue.objects.filter(picklist="leads.status").order_by("value"))
    qualified = next(v for v in statuses if v.value == "qualified")
    for i, (rating, country, employees, score, title) in enumerate([
            ("hot", "FI", 250, 55, "CTO"), ("cold", "FI", 20, 10, "Buyer"), ("hot", "SE", None, 45, ""),
            ("", "", 100, 0, "Deputy CTO")]):
        LeadFactory(rating=rating, country=country, employees=employees, score=score, title=title, owner=other,
                    status=qualified if i == 1 else next(v for v in statuses if v != qualified))


@pytest.mark.parametrize("record_type, index", [(t, i) for t, cases in PEOPLE_CASES.items() for i in range(len(cases))])
def test_contact_and_lead_segments_answer_the_same_in_sql_and_python(people_records, record_type, index):
    from crm.core import records

    segment = SegmentFactory(record_type=record_type, conditions=PEOPLE_CASES[record_type][index], shared=True)
    admin = AdminFactory()
    in_sql = set(selectors.segment_members(segment=segment, user=admin).values_list("pk", flat=True))
    model = records.get(record_type).model
    in_python = {r.pk for r in model.objects.all() if services.segment_contains(segment=segment, record=r)}
    assert in_sql == in_python
    assert selectors.segment_problem(segment=segment, user=admin) == ""
