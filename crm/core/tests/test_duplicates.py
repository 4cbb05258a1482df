"""Duplicate detection (crm.core.duplicates) for leads, accounts and contacts: the same email, the same phone
however written, similar names; the detail page's panel and the create form's warning, which show what the
reader may see, count the rest, stay cheap and never fail on what is typed."""
from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, Contact
from accounts.tests.factories import AccountFactory, ContactFactory
from crm.core import duplicates, records
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

FACTORIES = {Lead: LeadFactory, Account: AccountFactory, Contact: ContactFactory}
SLUGS = {Lead: "leads", Account: "accounts", Contact: "contacts"}
COUNTRY = {Lead: "country", Account: "billing_country", Contact: "mailing_country"}
# Per type: field values of a record, and values typed for a similar (not equal) name.
NAMED = {
    Lead: ({"company": "Nordic Paper Company", "last_name": "Virtanen"},
           {"company": "Nordic Paper Co", "last_name": "Virtanen"},
           {"company": "Completely Different", "last_name": "Virtanen"}),
    Account: ({"name": "Nordic Paper Company"}, {"name": "nordic paper co."}, {"name": "Baltic Steel Works"}),
    Contact: ({"last_name": "Virtanen", "first_name": "Sara"}, {"last_name": "virtanen", "first_name": "Sarah"},
              {"last_name": "Virtanen", "first_name": "Juhani"}),
}
MAX_QUERIES = 16  # a request's own (user, rights, notifications) and the search's: none per match
SIMILAR_REASON = {Lead: "similar company and name", Account: "similar name", Contact: "similar name"}


def make(model, **values):
    """A record saved with the duplicate keys the services keep (email_normalized, phone_normalized)."""
    defaults = {"email": ""} if model is not Account else {}
    record = FACTORIES[model].build(**{**defaults, **values})
    records.for_model(model).duplicates.set_keys(record)
    record.save()
    return record


def found(model, values, **kwargs) -> list:
    return [m.record for m in duplicates.find(model, values, **kwargs)]


@pytest.mark.parametrize("model", [Lead, Contact])
def test_the_same_email_whatever_its_case_and_spaces(reps, model):
    rep, _, _ = reps
    record = make(model, owner=rep, email="Sara.Virtanen@Example.COM", last_name="Aalto")
    make(model, owner=rep, email="sara@example.com", last_name="Bäckström")

    assert found(model, {"email": "  sara.virtanen@EXAMPLE.com "}) == [record]
    twin = make(model, owner=rep, email="sara.virtanen@example.com", last_name="Koski")
    matches = duplicates.find_for(twin)
    assert [m.record for m in matches] == [record] and [str(r) for r in matches[0].reasons] == ["same email"]
    assert found(model, {"email": ""}) == [] and found(model, {"email": "   "}) == []


@pytest.mark.parametrize("model", [Lead, Account, Contact])
def test_the_same_phone_however_it_is_written(reps, model):
    rep, _, _ = reps
    country = COUNTRY[model]
    record = make(model, owner=rep, phone="+358 40 123 4567", **{country: "FI"})
    make(model, owner=rep, phone="+358 40 765 4321", **{country: "FI"})

    for typed in ("040 123 4567", "040-1234567", "(040) 123 45 67", "+358401234567", "00358 40 123 4567"):
        assert found(model, {"phone": typed, country: "FI"}) == [record], typed
    assert found(model, {"phone": "+358 40 123 4567"}) == [record]
    assert found(model, {"phone": "not a number"}) == []


@pytest.mark.parametrize("model", [Lead, Account, Contact])
def test_a_number_without_plus_is_read_in_the_records_country(reps, model):
    rep, _, _ = reps
    country = COUNTRY[model]
    swedish = make(model, owner=rep, phone="070-123 45 67", **{country: "SE"})
    assert swedish.phone_normalized == "+46701234567"

    assert found(model, {"phone": "+46 70 123 45 67"}) == [swedish]
    assert found(model, {"phone": "070 123 45 67", country: "se"}) == [swedish]
    assert found(model, {"phone": "070 123 45 67", country: "FI"}) == []  # +358 70 ...: another number
    twin = make(model, owner=rep, phone="+46701234567")
    assert [m.record for m in duplicates.find_for(twin)] == [swedish]


@pytest.mark.parametrize("model", [Lead, Contact])
def test_a_mobile_alone_is_matched(reps, model):
    rep, _, _ = reps
    record = make(model, owner=rep, phone="", mobile="040 555 0101", **{COUNTRY[model]: "FI"})
    assert found(model, {"mobile": "+358 40 555 0101"}) == [record]
    assert found(model, {"phone": "+358405550101"}) == [record]


@pytest.mark.parametrize("model", [Lead, Account, Contact])
def test_similar_names(reps, model):
    rep, _, _ = reps
    stored, similar, different = NAMED[model]
    record = make(model, owner=rep, **stored)

    matches = duplicates.find(model, similar)
    assert [m.record for m in matches] == [record] and [str(r) for r in matches[0].reasons] == [SIMILAR_REASON[model]]
    assert found(model, different) == []
    assert found(model, {k: "" for k in similar}) == []
    assert found(model, similar, exclude_pk=record.pk) == []


def test_evidence_adds_up_and_the_strongest_comes_first(reps):
    rep, _, _ = reps
    name_only = make(Lead, owner=rep, company="Nordic Paper Company", last_name="Virtanen")
    everything = make(Lead, owner=rep, company="Nordic Paper Company", last_name="Virtanen", email="sv@example.com",
                      phone="040 123 4567", country="FI")
    matches = duplicates.find(Lead, {"company": "Nordic Paper", "last_name": "Virtanen", "email": "SV@example.com",
                                     "phone": "+358401234567"})
    assert [m.record for m in matches] == [everything, name_only]
    assert [str(r) for r in matches[0].reasons] == ["same email", "same phone", "similar company and name"]


# --- the detail page's panel -------------------------------------------------------------------------------

def _panel(client, record):
    return client.get(reverse("records:duplicates", args=[SLUGS[type(record)], record.pk]))


@pytest.mark.parametrize("model", [Lead, Account, Contact])
def test_panel_lists_visible_matches_and_counts_hidden_ones(client, reps, model):
    rep, other_rep, _ = reps
    stored, _, _ = NAMED[model]
    record = make(model, owner=rep, phone="040 123 4567", **stored)
    twin = make(model, owner=rep, phone="+358 40 123 4567")
    hidden = make(model, owner=other_rep, **stored)
    unrelated = make(model, owner=rep, **NAMED[model][2])
    client.force_login(rep)

    body = _panel(client, record).content.decode()

    assert twin.get_absolute_url() in body and "same phone" in body
    assert f"?other={twin.pk}" in body  # the reader may merge it
    assert "1 more record you cannot see matches." in body
    assert hidden.get_absolute_url() not in body and unrelated.get_absolute_url() not in body
    assert _panel(client, hidden).status_code == 404  # not the reader's to see


def _queries(client, record) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert _panel(client, record).status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", [Lead, Account, Contact])
def test_panel_queries_stay_few_however_many_match(client, reps, model, django_assert_max_num_queries):
    rep, other_rep, _ = reps
    stored, _, different = NAMED[model]
    few = make(model, owner=rep, phone="040 111 1111", **different)
    make(model, owner=rep, phone="040 111 1111")
    many = make(model, owner=rep, phone="040 222 2222", **stored)
    for i in range(6):
        make(model, owner=rep if i % 2 else other_rep, phone="+358402222222", **stored)
    client.force_login(rep)
    _panel(client, few)  # the session, content types and custom-field definitions are read once

    with django_assert_max_num_queries(MAX_QUERIES):
        body = _panel(client, many).content.decode()

    assert body.count("?other=") == 3 and "3 more records you cannot see match." in body
    assert _queries(client, many) == _queries(client, few)


# --- the create form's warning -----------------------------------------------------------------------------

def _check(client, model, params):
    return client.get(reverse("records:duplicate_check", args=[SLUGS[model]]), params)


@pytest.mark.parametrize("model", [Lead, Account, Contact])
def test_create_form_warning_lists_visible_matches_and_counts_hidden_ones(client, reps, model,
                                                                          django_assert_max_num_queries):
    rep, other_rep, _ = reps
    stored, similar, _ = NAMED[model]
    mine = make(model, owner=rep, **stored)
    theirs = [make(model, owner=other_rep, phone="040 123 4567", **{COUNTRY[model]: "FI"}) for _ in range(2)]
    client.force_login(rep)
    params = {**similar, "phone": "+358 40 123 4567"}
    _check(client, model, {})  # the session, org defaults and content types are read once

    with django_assert_max_num_queries(MAX_QUERIES):
        body = _check(client, model, params).content.decode()

    assert "This record may already exist." in body and mine.get_absolute_url() in body and str(rep) in body
    assert "2 more records you cannot see match." in body
    assert not any(r.get_absolute_url() in body for r in theirs)
    # Owners are read at once, not one query per match.
    with CaptureQueriesContext(connection) as few:
        _check(client, model, params)
    for _ in range(4):
        make(model, owner=rep, **stored)
    with CaptureQueriesContext(connection) as more:
        body = _check(client, model, params).content.decode()
    assert body.count(str(rep)) == 5 and len(more) == len(few)


@pytest.mark.parametrize("params", [
    {"email": "sara@example.com\x00"},
    {"last_name\x00": "Virtanen", "company": "Nordic"},
    {"company": "Nordic " * 20000, "last_name": "Virtanen"},
    {"email": "@" * 999, "phone": "+" * 999, "country": "ZZZZ", "company": "%_\\" * 333, "last_name": "'; --"},
    {"phone": "9" * 999, "country": "\x00"},
])
def test_create_form_warning_gives_an_empty_answer_to_hostile_input(client, reps, params):
    rep, _, _ = reps
    make(Lead, owner=rep, company="Nordic Paper Company", last_name="Virtanen", email="sara@example.com")
    client.force_login(rep)
    response = _check(client, Lead, params)
    assert response.status_code == 200 and "data-duplicates" not in response.content.decode()


def test_create_form_warning_refuses_a_flood_of_parameters_without_failing(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    response = _check(client, Contact, {f"p{i}": "x" for i in range(5000)})
    assert response.status_code == 400


def test_create_form_warning_is_for_types_with_duplicate_rules_and_users_who_may_create(client, reps):
    from crm.access.services import profile_save

    rep, _, _ = reps
    client.force_login(rep)
    assert _check(client, Lead, {"email": "x@example.com"}).status_code == 200
    assert client.get(reverse("records:duplicate_check", args=["opportunities"])).status_code == 404
    assert client.get(reverse("records:duplicate_check", args=["no-such-type"])).status_code == 404
    profile_save(actor=None, profile=rep.profile, permissions={"leads.lead": {"view", "edit", "delete"}})
    assert _check(client, Lead, {"email": "x@example.com"}).status_code == 404


# --- the similar search's time bound ------------------------------------------------------------------------

def _settings() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('pg_trgm.similarity_threshold')")
        return cursor.fetchone()


def _copies(record, n: int) -> None:
    """`n` copies of `record` in one statement (as many as make a common word slow to search)."""
    model = type(record)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields if not f.primary_key)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {columns} FROM {model._meta.db_table}, "
                       f"generate_series(1, %s) WHERE id = %s", [n, record.pk])
        cursor.execute(f"ANALYZE {model._meta.db_table}")


def test_similar_search_gives_up_past_its_time_and_still_shows_email_and_phone_matches(client, reps, settings,
                                                                                        caplog):
    rep, _, _ = reps
    common = make(Lead, owner=rep, company="Group Oy", last_name="Virtanen")
    _copies(common, 10000)
    by_email = make(Lead, owner=rep, email="sara@example.com", last_name="Aalto", company="Aalto Oy")
    by_phone = make(Lead, owner=rep, phone="040 123 4567", country="FI", last_name="Berg", company="Berg Ab")
    typed = {"company": "Group Oy", "last_name": "Virtanen", "email": "SARA@example.com", "phone": "+358401234567"}
    settings.DUPLICATE_SEARCH_TIMEOUT_MS = 20000
    assert len(duplicates.find(Lead, typed)) == duplicates.LIMIT  # given the time, the similar search finds them
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '7s'")
        cursor.execute("SET pg_trgm.similarity_threshold = 0.42")
    settings.DUPLICATE_SEARCH_TIMEOUT_MS = 1

    with caplog.at_level(logging.WARNING, logger="crm.core.duplicates"):
        matches = duplicates.find(Lead, typed)

    assert {m.record for m in matches} == {by_email, by_phone}
    assert "cancelled after 1 ms" in caplog.text
    assert _settings() == ("7s", "0.42")
    client.force_login(rep)
    body = _check(client, Lead, typed).content.decode()
    assert by_email.get_absolute_url() in body and by_phone.get_absolute_url() in body
    assert _settings() == ("7s", "0.42")
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")


def test_similar_search_leaves_the_connection_settings_as_it_found_them(reps):
    rep, _, _ = reps
    make(Account, owner=rep, name="Nordic Paper Company")
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '9s'")
        cursor.execute("SET pg_trgm.similarity_threshold = 0.2")
    assert found(Account, {"name": "Nordic Paper Co"})
    assert _settings() == ("9s", "0.2")
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")
