"""Field-level security on every surface of a list: a hidden field is no column (even asked for), no sort,
no search, no filter, not exported and not matched by the lookup; the same list without the rule shows it
(so each check could fail)."""
import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.text import capfirst

from accounts.models import Account
from crm.access.models import FieldAccess, FieldPermission
from crm.customization.tests.factories import CustomFieldFactory
from crm.lists.tests.conftest import (
    LIST_URLS,
    RECORD_TYPES,
    create,
    expected_order,
    headers,
    parse,
    record_type,
    row_ids,
)

pytestmark = pytest.mark.django_db

SECRET = "zyxhidden"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _accounts(names):
    return [Account.objects.create(name=n) for n in names]


# Per list: the default order's field and values (record 0 first), a hidden field the list searches with
# the secret only in record 2 (and values that sort in another order than the default), a hidden field the
# list filters on with its filter parameter and a value only record 0 has.
CASES = {
    "leads:list": {
        "order": lambda i: {"last_name": f"Lead {i}", "created_at": NOW - timedelta(hours=i)},
        "searched": "company", "searched_values": ["Bravo", "Charlie", f"Alpha {SECRET}"],
        "filtered": "country", "filtered_values": ["FI", "SE", "SE"], "filter_param": "country", "filter_value": "FI"},
    "accounts:list": {
        "order": lambda i: {"name": f"Account {'ABC'[i]}"},
        "searched": "phone", "searched_values": ["+358 40 2", "+358 40 3", "+358 10 7777777"], "secret": "7777777",
        "filtered": "billing_country", "filtered_values": ["FI", "SE", "SE"], "filter_param": "billing_country",
        "filter_value": "FI"},
    "contacts:list": {
        "order": lambda i: {"last_name": ["Able", "Baker", "Cole"][i], "first_name": "Pat"},
        "searched": "email", "searched_values": ["bravo@x.example", "charlie@x.example", f"alpha.{SECRET}@x.example"],
        "filtered": "title", "filtered_values": ["Chief", "Clerk", "Clerk"], "filter_param": "title", "filter_value": "Chief"},
    "opportunities:list": {
        "order": lambda i: {"name": f"Deal {i}", "close_date": date(2026, 1, 1) + timedelta(days=i)},
        "searched": "account", "searched_values": None, "accounts": ["Bravo", "Charlie", f"Alpha {SECRET}"],
        "filtered": "account", "filtered_values": None, "filter_param": "account", "filter_value": None},
}


@pytest.fixture
def secured(reps, admin):
    """Per list: three records of the rep's, two hidden fields and a hidden custom field shown in lists."""
    rep = reps[0]

    def build(url_name):
        case = CASES[url_name]
        key = RECORD_TYPES[url_name]
        cf = CustomFieldFactory(record_type=key, name="secret_code", label="Secret code", show_in_list=True)
        made = []
        linked = _accounts(case["accounts"]) if case.get("accounts") else None
        for i in range(3):
            values = {"owner": rep, **case["order"](i), "custom": {"secret_code": ["b", "c", f"a {SECRET}"][i]}}
            if linked:
                values["account"] = linked[i]
            else:
                values[case["searched"]] = case["searched_values"][i]
                values[case["filtered"]] = case["filtered_values"][i]
            made.append(create(url_name, **values))
        filter_value = case["filter_value"] or str(linked[0].pk)
        for field in {case["searched"], case["filtered"], cf.key}:
            FieldPermission.objects.create(profile=rep.profile, record_type=key, field_name=field,
                                           access=FieldAccess.HIDDEN)
        cache.delete_pattern("*")  # this process's keys (clear() would flush every test process's)
        return dict(case, made=made, cf=cf, secret=case.get("secret", SECRET), filter_value=filter_value,
                    rep=rep, admin=admin, url=reverse(url_name), rt=record_type(url_name))
    return build


def columns(response) -> list[str]:
    return [th.get("data-column") for th in headers(response)]


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_hidden_field_is_no_column_even_when_asked_for(client, secured, url_name):
    s = secured(url_name)
    hidden = {s["searched"], s["filtered"], s["cf"].key}
    client.force_login(s["admin"])  # without the rule the columns are there
    assert hidden <= set(columns(client.get(s["url"], {"cols": sorted(hidden)})))
    client.force_login(s["rep"])
    default = client.get(s["url"])
    assert not hidden & set(columns(default))
    assert columns(client.get(s["url"], {"cols": sorted(hidden)})) == columns(default)  # only hidden: the defaults
    visible = columns(default)[0]
    assert columns(client.get(s["url"], {"cols": [*sorted(hidden), visible]})) == [visible]
    chooser = [li.get("data-column-choice") for li in parse(default.content).find_all("li", data_column_choice=True)]
    assert chooser and not hidden & set(chooser)
    assert s["secret"] not in default.content.decode()


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_hidden_field_does_not_sort_the_list(client, secured, url_name):
    s = secured(url_name)
    made = s["made"]
    default_order = [m.pk for m in made]
    for column in (s["searched"], s["cf"].key):
        # (sorted by the field, the rows would come in another order each way)
        assert expected_order(made, column, descending=False) != default_order
        assert expected_order(made, column, descending=True) != default_order
    client.force_login(s["admin"])
    assert row_ids(client.get(s["url"], {"sort": s["searched"]})) == expected_order(made, s["searched"], False)
    client.force_login(s["rep"])
    default = client.get(s["url"])
    assert row_ids(default) == default_order
    for sort in (s["searched"], f"-{s['searched']}", s["filtered"], f"-{s['filtered']}", s["cf"].key, f"-{s['cf'].key}"):
        response = client.get(s["url"], {"sort": sort})
        assert response.context["sort"] == default.context["sort"], sort
        assert row_ids(response) == default_order, sort
        assert not parse(response.content).find_all("th", data_column=sort.lstrip("-"))


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_hidden_field_is_not_searched(client, secured, url_name):
    s = secured(url_name)
    client.force_login(s["admin"])
    assert row_ids(client.get(s["url"], {"q": s["secret"]})) == [s["made"][2].pk]
    client.force_login(s["rep"])
    assert row_ids(client.get(s["url"], {"q": s["secret"]})) == []
    assert ">0 " in client.get(s["url"], {"q": s["secret"], "count": "1"}).content.decode()
    assert len(row_ids(client.get(s["url"], {"q": "a"}))) >= 0  # a search over the visible fields still runs


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_hidden_field_has_no_filter_and_its_parameter_is_ignored(client, secured, url_name):
    s = secured(url_name)
    param = s["filter_param"]
    client.force_login(s["admin"])
    assert row_ids(client.get(s["url"], {param: s["filter_value"]})) == [s["made"][0].pk]
    assert row_ids(client.get(s["url"], {"cf_secret_code": SECRET})) == [s["made"][2].pk]
    client.force_login(s["rep"])
    default = client.get(s["url"])
    form = default.context["filter"].form
    assert param not in form.fields and "cf_secret_code" not in form.fields
    page = parse(default.content)
    assert not page.find_all(name=param) and not page.find_all(name="cf_secret_code")
    for query in ({param: s["filter_value"]}, {"cf_secret_code": SECRET}):
        assert row_ids(client.get(s["url"], query)) == row_ids(default), query


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_hidden_field_is_not_exported(client, secured, url_name):
    s = secured(url_name)
    model = s["rt"].model
    labels = {str(capfirst(model._meta.get_field(s["searched"]).verbose_name)),
              str(capfirst(model._meta.get_field(s["filtered"]).verbose_name)), s["cf"].display_label}
    for user, shown in ((s["admin"], True), (s["rep"], False)):
        client.force_login(user)
        for rows in (_csv(client.get(s["url"], {"export": "csv"})), _xlsx(client.get(s["url"], {"export": "xlsx"}))):
            assert len(rows) == 4
            assert (labels <= set(rows[0])) is shown, (user, rows[0])
            assert bool(labels & set(rows[0])) is shown
            cells = " ".join(str(c) for row in rows for c in row if c is not None)
            assert (s["secret"] in cells) is shown


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_the_lookup_does_not_match_on_a_hidden_field(client, secured, url_name):
    s = secured(url_name)
    url = reverse("lists:lookup", args=[s["rt"].slug])
    client.force_login(s["admin"])
    assert [r["value"] for r in client.get(url, {"q": s["secret"]}).json()["results"]] == [s["made"][2].pk]
    client.force_login(s["rep"])
    assert client.get(url, {"q": s["secret"]}).json()["results"] == []
    assert len(client.get(url).json()["results"]) == 3
