"""The live filters (htmx) swap the results; the parts of the page outside them that carry the query (the
export links, "Save this view") come along out of band, so they export and save what the reader now sees."""
import pytest
from django.urls import reverse

from crm.lists.tests.conftest import LIST_URLS, bulk, parse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_filtered_fragment_brings_the_exports_and_save_form_for_its_query(client, reps, url_name):
    rep = reps[0]
    bulk(url_name, 3, rep)
    url = reverse(url_name)
    client.force_login(rep)
    # The full page has one copy of each, not out of band
    page = parse(client.get(url).content)
    assert len(page.find_all(id="list-exports")) == 1 and len(page.find_all(id="list-views")) == 1
    assert not page.find_all(hx_swap_oob=True)
    # When the filter form asks for the results of a search (htmx)
    response = client.get(url, {"q": "Row"}, HTTP_HX_REQUEST="true")
    assert "<html" not in response.content.decode() and response.context["rows"]
    fragment = parse(response.content)
    # Then the exports and the views come with it, out of band, for the new query
    exports = fragment.find(id="list-exports")
    assert exports.get("hx-swap-oob") == "true"
    assert {a.get("href") for a in exports.find_all("a")} == {"?q=Row&export=csv", "?q=Row&export=xlsx"}
    views = fragment.find(id="list-views")
    assert views.get("hx-swap-oob") == "true"
    assert views.find("input", name="query").get("value") == "q=Row"
    assert fragment.find("table") is not None
    # A boosted request is a whole page again
    boosted = client.get(url, {"q": "Row"}, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert not parse(boosted.content).find_all(hx_swap_oob=True)
