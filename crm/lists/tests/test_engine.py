"""The list engine on the four lists: every column sorts both ways from the link in its header, with empty
values last both ways and ties in a stable order, and says so (aria-sort); an unknown sort or column falls
back. Keyset pages: Next walks every record once and in order, Previous comes back to exactly the earlier
rows, ties and empty values in the sorted column neither repeat nor skip rows, long texts keep the links
short, a tampered cursor starts again at page 1, and showing a page never counts the list."""
import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.customization.tests.factories import CustomFieldFactory
from crm.lists.tests.conftest import (
    LIST_URLS,
    RECORD_TYPES,
    bulk,
    expected_order,
    follow,
    header_link,
    headers,
    list_url,
    make_varied,
    page_link,
    parse,
    record_type,
    row_ids,
)

pytestmark = pytest.mark.django_db


# --- sorting ---------------------------------------------------------------------------------------------------

def every_column_url(client, url: str) -> str:
    """The list with every column it offers, as its column chooser lists them."""
    page = parse(client.get(url).content)
    names = [li.get("data-column-choice") for li in page.find_all("li", data_column_choice=True)]
    assert names
    return url + "?" + "&".join(f"cols={n}" for n in names)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_every_header_sorts_ascending_then_descending_with_empty_values_last(client, admin, related, url_name):
    # Given records of the list's type with every column filled, ties and empty values, and a custom field
    cf = CustomFieldFactory(record_type=RECORD_TYPES[url_name], name="region", label="Region", show_in_list=True)
    made = make_varied(url_name, 16, related, custom_key=cf.key)
    model = type(made[0])
    client.force_login(admin)
    url = list_url(url_name)
    start = every_column_url(client, url)
    page = client.get(start)
    columns = [th.get("data-column") for th in headers(page)]
    assert cf.key in columns and len(columns) > 8
    sortable = [c for c in columns if header_link(page, c)]
    assert len(sortable) == len(columns)  # every column of these types sorts
    for column in sortable:
        # When the header is clicked (ascending; descending when the list was already sorted by it), and then
        # clicked again, then the rows come in the column's order each way, ties by id, empty values last
        clicked = follow(client, header_link(page, column), url)
        again = follow(client, header_link(clicked, column), url)
        directions = []
        for response in (clicked, again):
            assert response.status_code == 200
            shown = model.objects.in_bulk(row_ids(response))
            rows = [shown[pk] for pk in row_ids(response)]
            assert len(rows) == model.objects.count()
            # ... and the sorted header, and only it, says which way (aria-sort)
            sorted_headers = parse(response.content).find_all("th", aria_sort=True)
            assert [th.get("data-column") for th in sorted_headers] == [column]
            direction = sorted_headers[0].get("aria-sort")
            directions.append(direction)
            assert row_ids(response) == expected_order(rows, column, descending=direction == "descending"), (
                f"{column} {direction}")
        assert sorted(directions) == ["ascending", "descending"]
        if directions[0] == "descending":
            assert page.context["sort"] == column  # only the column the list was sorted by starts the other way


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_unknown_sort_and_columns_fall_back_to_the_defaults(client, admin, related, url_name):
    made = make_varied(url_name, 6, related)
    client.force_login(admin)
    url = list_url(url_name)
    default = client.get(url)
    for sort in ("nonsense", "-", "--name", "custom", "pk", "id", "owner__password", "cf_missing", "sortkey0"):
        response = client.get(url, {"sort": sort})
        assert response.status_code == 200
        assert row_ids(response) == row_ids(default), sort
        assert response.context["sort"] == default.context["sort"]
    for cols in (["nonsense"], ["owner__password"], ["custom"], [""], ["id"]):
        response = client.get(url, {"cols": cols})
        assert [th.get("data-column") for th in headers(response)] == [th.get("data-column") for th in headers(default)]
    assert len(row_ids(default)) == len(made) + {"accounts:list": 3, "contacts:list": 2}.get(url_name, 0)


# --- keyset pages ------------------------------------------------------------------------------------------------

# A column with many equal values (and empty ones) in each list, filled per record.
TIES = {
    "leads:list": ("company", lambda i: f"Company {i % 4}"),
    "accounts:list": ("billing_city", lambda i: ["Oulu", "Turku", ""][i % 3]),
    "contacts:list": ("title", lambda i: ["Buyer", "", "CEO"][i % 3]),
    "opportunities:list": ("amount", lambda i: [1000, 2500, None][i % 3]),
}


def page_number(response) -> int:
    return int(parse(response.content).find(data_page_number=True).get("data-page-number"))


def walk(client, response, url: str, which: str) -> list:
    """The responses from `response` on, following its `which` link ("next", "previous") to the end."""
    responses = [response]
    while (link := page_link(responses[-1], which)) is not None:
        responses.append(follow(client, link, url))
        assert responses[-1].status_code == 200
        assert len(responses) < 10
    return responses


def in_order(model, pks, column: str, descending: bool) -> list[int]:
    records = list(model.objects.filter(pk__in=pks))
    return expected_order(records, column, descending)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_next_walks_every_record_once_in_order_and_previous_comes_back(client, reps, url_name):
    # Given 130 records the rep may see (and some of another rep's, which the rep may not)
    rep, other, _ = reps
    made = bulk(url_name, 130, rep)
    bulk(url_name, 5, other, name="Theirs")
    model = type(made[0])
    url = list_url(url_name)
    client.force_login(rep)
    # When the rep follows "Next" from the first page until there is none
    forward = walk(client, client.get(url), url, "next")
    # Then the pages hold 50, 50 and 30 rows, numbered 1 to 3: all 130 records once, in the list's order
    assert [len(row_ids(r)) for r in forward] == [50, 50, 30]
    assert [page_number(r) for r in forward] == [1, 2, 3]
    seen = [pk for r in forward for pk in row_ids(r)]
    listing = forward[0].context["listing"]
    assert seen == in_order(model, [m.pk for m in made], listing.ordering.column, listing.ordering.descending)
    assert page_link(forward[0], "previous") is None and page_link(forward[-1], "next") is None
    # When the rep follows "Previous" from the last page back to the first
    backward = walk(client, forward[-1], url, "previous")
    # Then each page shows exactly the rows it showed on the way forward
    assert [row_ids(r) for r in backward] == [row_ids(r) for r in reversed(forward)]
    assert [page_number(r) for r in backward] == [3, 2, 1]
    assert page_link(backward[-1], "next") is not None
    # ... and "First" goes back to the first page from anywhere
    assert row_ids(follow(client, page_link(forward[-1], "first"), url)) == row_ids(forward[0])


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_pages_of_a_column_with_ties_repeat_and_skip_nothing(client, reps, url_name):
    # Given 130 records with few distinct values (and empty ones) in one column
    rep = reps[0]
    column, value = TIES[url_name]
    made = bulk(url_name, 130, rep, vary={column: value})
    model = type(made[0])
    url = list_url(url_name)
    client.force_login(rep)
    first = client.get(url)
    sorted_once = follow(client, header_link(first, column), url)
    sorted_twice = follow(client, header_link(sorted_once, column), url)
    for start in (sorted_once, sorted_twice):
        descending = start.context["listing"].ordering.descending
        expected = in_order(model, [m.pk for m in made], column, descending)
        # When the reader pages to page 3 of the list sorted by that column
        pages = walk(client, start, url, "next")
        # Then page 3 holds exactly rows 101-130 of that order, and the pages together every row once
        assert row_ids(pages[2]) == expected[100:130]
        assert [pk for r in pages for pk in row_ids(r)] == expected
        assert "Page 3 · rows 101–130" in parse(pages[2].content).find(data_page_number=True).text()
        # ... and going back from page 3 gives page 2's rows again
        back = follow(client, page_link(pages[2], "previous"), url)
        assert row_ids(back) == expected[50:100]


def _token(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decoded(link: str) -> list:
    from urllib.parse import parse_qs, urlsplit

    token = parse_qs(urlsplit(link).query)["after"][0]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_tampered_cursor_starts_again_at_page_one(client, reps, url_name):
    rep = reps[0]
    bulk(url_name, 60, rep)
    url = list_url(url_name)
    client.force_login(rep)
    first = client.get(url)
    number, values = _decoded(page_link(first, "next"))  # [the page it was made on, the last row's keys]
    assert number == 1 and isinstance(values, list)
    n = len(values)
    tampered = [
        "garbage", "!!!!", "%%", "é", "A" * 999, "", "=",
        _token([2, values[:-1]]), _token([2, [*values, 1]]), _token([2, []]), _token([2]), _token([]),
        _token({"a": 1, "b": 2}), _token(None), _token("x"), _token(7),
        _token(["2", values]), _token([0, values]), _token([-3, values]), _token([2.5, values]), _token([True, values]),
        _token([10**30, values]),
        _token([2, ["x"] * n]), _token([2, [None] * n]), _token([2, [{"a": 1}] * n]), _token([2, [[1, 2]] * n]),
        _token([2, [10**40] * n]), _token([2, [-(10**40)] * n]), _token([2, [1.5] * n]), _token([2, [True] * n]),
        _token([2, ["\x00"] * n]), _token([2, [*values[:-1], "\x00"]]), _token([2, ["9999-99-99T99:99"] * n]),
        _token([2, ["NaN"] * n]), _token([2, ["Infinity"] * n]),
    ]
    for cursor in tampered:
        for param in ("after", "before"):
            # When the list is asked for the page around a cursor it never gave
            response = client.get(url, {param: cursor})
            # Then it shows page 1, as it would without the cursor
            assert response.status_code == 200, (param, cursor)
            assert row_ids(response) == row_ids(first), (param, cursor)
            assert page_number(response) == 1, (param, cursor)
            assert page_link(response, "previous") is None, (param, cursor)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_showing_a_page_runs_no_count(client, reps, url_name):
    rep = reps[0]
    table = type(bulk(url_name, 60, rep)[0])._meta.db_table
    url = list_url(url_name)
    client.force_login(rep)
    client.get(url)  # warm caches

    def counts(captured):  # of the list's records (the menu counts unread notifications: not ours)
        return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper() and f'"{table}"' in q["sql"]]

    with CaptureQueriesContext(connection) as first_page:
        response = client.get(url)
    with CaptureQueriesContext(connection) as second_page:
        follow(client, page_link(response, "next"), url)
    for captured in (first_page, second_page):
        assert not counts(captured)
    # The count is its own request (the page asks for it once shown)
    with CaptureQueriesContext(connection) as count:
        assert client.get(url, {"count": "1"}).status_code == 200
    assert counts(count)


def test_pages_of_a_column_with_long_texts_follow_on(client, reps):
    # Given 60 accounts whose descriptions are long Persian texts that differ only at their ends
    rep = reps[0]
    text = "شرکت بازرگانی " * 200
    made = bulk("accounts:list", 60, rep, vary={"description": lambda i: f"{text} {i:03d}"})
    client.force_login(rep)
    url = reverse("accounts:list")
    # When the reader sorts by the description and follows Next
    page = client.get(url, {"cols": ["name", "description"]})
    sorted_page = follow(client, header_link(page, "description"), url)
    assert len(page_link(sorted_page, "next")) < 4000
    pages = walk(client, sorted_page, url, "next")
    # Then every account comes once (long texts that share their start: in the order of their ids)
    seen = [pk for r in pages for pk in row_ids(r)]
    assert sorted(seen) == sorted(m.pk for m in made) and len(pages) == 2


@pytest.mark.parametrize("url_name, column", [("accounts:list", "employees"), ("accounts:list", "annual_revenue"),
                                              ("leads:list", "score"), ("leads:list", "employees"),
                                              ("contacts:list", "birthdate"), ("opportunities:list", "amount"),
                                              ("opportunities:list", "probability"), ("leads:list", "status"),
                                              ("accounts:list", "industry"), ("contacts:list", "account"),
                                              ("opportunities:list", "cf_size"), ("accounts:list", "cf_region")])
def test_pages_run_on_through_empty_values_both_ways(client, reps, url_name, column):
    # Given 70 records, 60 of them with no value in the column (or, where it must have one, the same one)
    rep = reps[0]
    if column.startswith("cf_"):
        kind = "number" if column == "cf_size" else "text"
        CustomFieldFactory(record_type=record_type(url_name).key, name=column[3:], field_type=kind)
        value = 12 if kind == "number" else "North"
        vary = {"custom": lambda i: {} if i % 7 else {column[3:]: value}}
    else:
        field = record_type(url_name).model._meta.get_field(column)
        empty = None if field.null else ("" if field.blank else 0)
        filled = {"employees": 5, "annual_revenue": 10, "score": 3, "amount": 7, "probability": 20, "industry": "retail"}
        vary = {field.attname: lambda i: empty if i % 7 else filled.get(column, empty)}
    made = bulk(url_name, 70, rep, vary=vary)
    url = reverse(url_name)
    client.force_login(rep)
    page = client.get(url, {"cols": [column]})
    start = follow(client, header_link(page, column), url)
    again = follow(client, header_link(start, column), url)
    for response in (start, again):
        # When the reader walks the pages sorted by it, each way
        pages = walk(client, response, url, "next")
        seen = [pk for r in pages for pk in row_ids(r)]
        # Then every record comes once, in the column's order, empty values last
        descending = response.context["listing"].ordering.descending
        assert seen == in_order(type(made[0]), [m.pk for m in made], column, descending), (column, descending)

