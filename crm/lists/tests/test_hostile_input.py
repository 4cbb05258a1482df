"""Hostile input to every list and every parameter it reads (each filter of its FilterSet, q, sort, cols,
after, before, count, export): NUL bytes answer 400 with a message that says why, never 500; very long
values, invalid numbers and dates and markup are refused or ignored, and what is shown is escaped."""
from urllib.parse import quote

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from crm.lists.engine import RESERVED, RecordList
from crm.lists.tests.conftest import (
    LIST_URLS,
    RECORD_TYPES,
    create,
    record_type,
    row_ids,
)

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "The address contains a character that cannot be searched or filtered on."
LONG_MESSAGE = "A search or filter value is too long."
NASTY = ["abc", "-1", "1e999", "-1e999", "99999999999999999999", "9" * 400, "NaN", "Infinity", "0x10", "1,5",
         "9999-12-31", "0001-01-01", "2026-02-30", "99999-01-01", "2026-13-01T25:61", "true", "on", "null",
         "[]", "{}", "' OR 1=1 --", '"><script>alert(1)</script>', "%", "_", "\\", "ä€😀", "\u202e", " ", "\t\r\n"]
# The values at the edges of numbers and the calendar, tried in each parameter alone.
EDGES = ["1e999", "99999999999999999999", "9999-12-31", "0001-01-01", "-1"]


@pytest.fixture
def custom_fields():
    """A custom field of each kind on every list type, so their filters are attacked too."""
    for key in RECORD_TYPES.values():
        for kind in (FieldType.TEXT, FieldType.NUMBER, FieldType.CURRENCY, FieldType.DATE, FieldType.DATETIME,
                     FieldType.CHECKBOX, FieldType.PICKLIST, FieldType.MULTI_PICKLIST, FieldType.USER):
            CustomFieldFactory(record_type=key, name=f"x_{kind}", label=f"X {kind}", field_type=kind,
                               choices=["One", "Two"] if "picklist" in kind else [], show_in_list=True)


def parameters(url_name: str, user) -> list[str]:
    """Every parameter the list reads: each filter of its FilterSet, then the engine's own."""
    listing = RecordList(record_type(url_name), user, QueryDict())
    names = list(listing.filterset.filters)
    assert names and any(n.startswith("cf_") for n in names)
    return [*names, *RESERVED]


def raw_get(client, url: str, query: str):
    """GET with the query string exactly as written (the test client would encode a % again)."""
    return client.get(f"{url}?{query}")


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_nul_byte_in_any_parameter_answers_400_with_a_message(client, reps, custom_fields, url_name):
    rep = reps[0]
    client.force_login(rep)
    url = reverse(url_name)
    for name in parameters(url_name, rep):
        for value in ("%00", "x%00y"):
            response = raw_get(client, url, f"{name}={value}")
            assert response.status_code == 400, (name, value)
            page = response.content.decode()
            assert NUL_MESSAGE in page and 'role="alert"' in page, name
            assert f'href="{url}"' in page  # the way back: the whole list
    for query in ("%00=1", "q%00=x", "cols=name&cols=%00", "q=ok&sort=%00", "export=csv&q=%00", "count=1&q=%00"):
        response = raw_get(client, url, query)
        assert response.status_code == 400 and NUL_MESSAGE in response.content.decode(), query
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_very_long_values_are_refused_or_shortened(client, reps, custom_fields, url_name):
    rep = reps[0]
    client.force_login(rep)
    url = reverse(url_name)
    for name in parameters(url_name, rep):
        response = client.get(url, {name: "x" * 5000})
        assert response.status_code == 400 and LONG_MESSAGE in response.content.decode(), name
        assert client.get(url, {name: "7" * 999}).status_code == 200, name
    response = client.get(url, {"q": "word " * 150})
    assert response.status_code == 200
    assert "The search was shortened to 200 characters." in response.content.decode()
    assert client.get(url, {"cols": ["name"] * 900}).status_code == 200  # many values, each short (Django caps at 1,000)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_invalid_numbers_dates_and_markup_in_every_parameter_never_break_the_list(client, reps, custom_fields, url_name):
    rep = reps[0]
    rep.timezone = "Pacific/Kiritimati"  # UTC+14: the first and last days of the calendar are on its edges
    rep.save()
    record = create(url_name, owner=rep, **{"leads:list": {"last_name": "Visible"}, "accounts:list": {"name": "Visible"},
                                             "contacts:list": {"last_name": "Visible"},
                                             "opportunities:list": {"name": "Visible"}}[url_name])
    client.force_login(rep)
    url = reverse(url_name)
    names = [n for n in parameters(url_name, rep) if n not in ("count", "export")]
    for value in NASTY:
        # Every filter, the search, the sort, the columns and the cursors at once; the count line and an
        # unknown export format with them
        query = {name: value for name in names}
        response = client.get(url, query)
        assert response.status_code == 200, value
        assert "<script>alert(1)</script>" not in response.content.decode()
        count = client.get(url, {**query, "count": value}, HTTP_HX_REQUEST="true")
        assert count.status_code == 200 and "data-count" in count.content.decode(), value
    for value in EDGES:
        assert client.get(url, {**{name: value for name in names}, "export": value}).status_code == 200, value
    rt = record_type(url_name)
    for value in EDGES:
        # ... and one at a time, where nothing else narrows the list first (the engine itself: a page and
        # the count, in the reader's time zone); the exports with all of them
        with timezone.override(rep.timezone):
            for name in names:
                listing = RecordList(rt, rep, QueryDict(f"{name}={quote(value)}"))
                listing.page()
                assert listing.count().count >= 0
        for fmt in ("csv", "xlsx"):
            export = client.get(url, {**{name: value for name in names}, "export": fmt})
            assert export.status_code == 200, (fmt, value)
            b"".join(export.streaming_content)
    # An invalid filter is left out; the list still shows what the reader may see
    assert record.pk in row_ids(client.get(url, {"created_after": "not a date"}))


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_markup_in_records_and_parameters_is_escaped(client, reps, url_name):
    rep = reps[0]
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    field = {"leads:list": "last_name", "accounts:list": "name", "contacts:list": "last_name",
             "opportunities:list": "name"}[url_name]
    create(url_name, owner=rep, **{field: attack})
    client.force_login(rep)
    url = reverse(url_name)
    for query in ({}, {"q": attack}, {"q": "alert"}, {"sort": attack}, {"cols": attack}, {"after": attack},
                  {"created_after": attack}, {attack: attack}):
        response = client.get(url, query)
        assert response.status_code == 200, query
        page = response.content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page, query
    page = client.get(url, {"q": "alert"}).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page  # the record's name, escaped, in its row


@pytest.mark.parametrize("slug", ["leads", "accounts", "contacts", "opportunities"])
def test_the_lookup_refuses_nul_bytes_and_takes_anything_else(client, reps, slug):
    client.force_login(reps[0])
    url = reverse("lists:lookup", args=[slug])
    for query in ("q=%00", "q=ab%00cd", "%00=x"):
        response = raw_get(client, url, query)
        assert response.status_code == 400, query
        assert response.json()["error"] == NUL_MESSAGE
    for value in NASTY + ["x" * 999]:
        response = client.get(url, {"q": value})
        assert response.status_code == 200 and response.json()["results"] == [], value
    assert client.get(url, {"q": "x" * 5000}).status_code == 400


def test_global_search_with_a_nul_byte_does_not_fail(client, reps):
    # (It answered 500 for "ab%00" until crm/core/selectors.py refused NUL bytes.)
    client.force_login(reps[0])
    for query in ("q=%00", "q=ab%00", "q=" + quote("Aino\x00Laine"), "q=" + "x" * 5000):
        response = raw_get(client, "/search/", query)
        assert response.status_code in (200, 400), query
