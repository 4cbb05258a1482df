"""The count line (its own request, capped at LIST_COUNT_LIMIT, of what the reader may see) and query
budgets that do not grow with the page's rows."""
import re

import pytest
from django.urls import reverse

from crm.access.tests.factories import UserFactory
from crm.customization.models import FieldType
from crm.customization.tests.factories import CustomFieldFactory
from crm.lists.tests.conftest import (
    LIST_URLS,
    RECORD_TYPES,
    bulk,
    create,
    parse,
    record_type,
)

pytestmark = pytest.mark.django_db


def count_text(client, url: str, **query) -> str:
    response = client.get(url, {**query, "count": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<table" not in content and "<html" not in content  # the partial alone
    return parse(content).find("p", data_count=True).text().strip()


def plural(url_name: str, n: int) -> str:
    return record_type(url_name).list.count_text % {"count": n, "n": n}


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_the_count_is_capped_and_counts_only_what_the_reader_may_see(client, reps, settings, url_name):
    rep, other, manager = reps
    bulk(url_name, 7, rep)
    bulk(url_name, 4, other, name="Theirs")
    url = reverse(url_name)
    spec = record_type(url_name).list
    # The page asks for its count once shown, with the reader's query
    client.force_login(rep)
    page = parse(client.get(url, {"q": "Row"}).content)
    loader = page.find("p", data_count=True)
    assert loader.get("hx-trigger") == "load" and loader.get("hx-get") == f"{url}?q=Row&count=1"
    settings.LIST_COUNT_LIMIT = 100
    assert count_text(client, url) == plural(url_name, 7)
    assert count_text(client, url, q="Theirs") == plural(url_name, 0)
    client.force_login(other)
    assert count_text(client, url) == plural(url_name, 4)
    client.force_login(manager)
    assert count_text(client, url) == plural(url_name, 11)
    assert count_text(client, url, q="Theirs") == plural(url_name, 4)
    # Past the limit the line says "more than" the limit
    settings.LIST_COUNT_LIMIT = 5
    assert count_text(client, url) == str(spec.count_capped) % {"n": 5}
    client.force_login(other)
    assert count_text(client, url) == plural(url_name, 4)
    settings.LIST_COUNT_LIMIT = 4
    assert count_text(client, url) == plural(url_name, 4)  # exactly the limit is not "more than"


def _populate(url_name: str, n: int, owners: list, start: int, user_cf: str) -> None:
    """`n` records with a different related record, owner and custom values in each of the list's columns."""
    from accounts.models import Account, Contact
    from crm.customization.models import PicklistValue
    from opportunities.models import Stage

    statuses = list(PicklistValue.objects.filter(picklist="leads.status"))
    stages = list(Stage.objects.filter(pipeline__is_default=True))
    for i in range(start, start + n):
        values = {"owner": owners[i % len(owners)],
                  "custom": {"note": f"Note {i}", user_cf: owners[(i + 1) % len(owners)].pk}}
        if url_name == "leads:list":
            values["status"] = statuses[i % len(statuses)]
        if url_name in ("contacts:list", "opportunities:list"):
            values["account"] = Account.objects.create(name=f"Account {i}")
        if url_name == "accounts:list":
            values["parent"] = Account.objects.create(name=f"Parent {i}")
        if url_name == "opportunities:list":
            values["stage"] = stages[i % len(stages)]
            values["contact"] = Contact.objects.create(last_name=f"Contact {i}")
        create(url_name, **values)


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_the_query_count_of_a_page_does_not_grow_with_its_rows(client, reps, url_name, django_assert_max_num_queries):
    rep, other, manager = reps
    key = RECORD_TYPES[url_name]
    CustomFieldFactory(record_type=key, name="note", label="Note", show_in_list=True)
    CustomFieldFactory(record_type=key, name="buddy", label="Buddy", field_type=FieldType.USER, show_in_list=True)
    owners = [rep, other, *(UserFactory(profile=rep.profile, role=rep.role) for _ in range(8))]
    url = reverse(url_name)
    client.force_login(manager)
    _populate(url_name, 5, owners, 0, "buddy")
    client.get(url)  # warm the caches (custom fields, permissions)
    with django_assert_max_num_queries(40) as small:
        small_page = client.get(url)
    assert len(small_page.context["rows"]) >= 5
    _populate(url_name, 55, owners, 5, "buddy")
    client.get(url)
    with django_assert_max_num_queries(40) as big:
        big_page = client.get(url)
    assert len(big_page.context["rows"]) == 50
    columns = [c.name for c in big_page.context["listing"].columns]
    assert "cf_note" in columns and "cf_buddy" in columns
    # Every row's custom value is on the page (which 50 of the 60 depends on the list's sort and the names).
    assert len(set(re.findall(r"Note \d+", big_page.content.decode()))) == 50
    assert len(big.captured_queries) == len(small.captured_queries), "\n".join(
        q["sql"][:200] for q in big.captured_queries)
