"""Saved views: personal or shared, deleted only by their owner, reopened with their columns and sort, and
never holding a page position or a one-off parameter."""
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from crm.lists.models import SavedView
from crm.lists.tests.conftest import (
    LIST_URLS,
    bulk,
    follow,
    headers,
    page_link,
    parse,
    record_type,
)

pytestmark = pytest.mark.django_db


def saved_view_names(response) -> list[str]:
    return [el.get("data-saved-view") for el in parse(response.content).find_all(data_saved_view=True)]


def delete_buttons(response) -> list[str]:
    return [form.get("action") for form in parse(response.content).find_all("form", action=True)
            if "/lists/views/" in form.get("action")]


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_personal_and_shared_views_and_only_the_owner_deletes(client, reps, url_name):
    rep, other, _ = reps
    slug = record_type(url_name).slug
    url = reverse(url_name)
    save = reverse("lists:view_save", args=[slug])
    # Given a personal and a shared view of the rep's
    client.force_login(rep)
    assert client.post(save, {"name": "Mine", "query": "q=a"}).status_code == 302
    client.post(save, {"name": "Ours", "query": "q=b", "shared": "on"})
    mine, ours = SavedView.objects.get(name="Mine"), SavedView.objects.get(name="Ours")
    assert (mine.shared, ours.shared, mine.record_type) == (False, True, record_type(url_name).key)
    page = client.get(url)
    assert saved_view_names(page) == ["Mine", "Ours"]
    assert sorted(delete_buttons(page)) == sorted(reverse("lists:view_delete", args=[v.pk]) for v in (mine, ours))
    # Then the other rep sees only the shared one, with no way to delete it, and cannot delete either
    client.force_login(other)
    page = client.get(url)
    assert saved_view_names(page) == ["Ours"] and delete_buttons(page) == []
    for view in (mine, ours):
        assert client.post(reverse("lists:view_delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.count() == 2
    # ... and another list does not show them
    other_list = next(u for u in LIST_URLS if u != url_name)
    assert saved_view_names(client.get(reverse(other_list))) == []
    # When the owner deletes them, they are gone
    client.force_login(rep)
    for view in (mine, ours):
        assert client.post(reverse("lists:view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.exists()
    assert client.get(reverse("lists:view_delete", args=[mine.pk])).status_code == 405


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_a_view_with_chosen_columns_and_sort_reopens_with_them_and_no_page_position(client, reps, url_name):
    rep = reps[0]
    bulk(url_name, 60, rep)
    url = reverse(url_name)
    client.force_login(rep)
    default_columns = [th.get("data-column") for th in headers(client.get(url))]
    chosen = [default_columns[2], default_columns[0]]
    # Given the list with two columns in a new order, sorted by one of them, on its second page
    page = client.get(url, {"cols": chosen, "sort": f"-{chosen[1]}"})
    second = follow(client, page_link(page, "next"), url)
    assert "after" in second.wsgi_request.GET
    # When the reader saves the view from there (the page's own "Save this view" form)
    form = parse(second.content).find("details", data_save_view=True).find("form")
    query = form.find("input", name="query").get("value")
    response = client.post(form.get("action"), {"name": "Two columns", "query": query})
    assert response.status_code == 302
    view = SavedView.objects.get(name="Two columns")
    # Then the view holds the columns and the sort, not the page
    saved = parse_qs(view.query)
    assert saved["cols"] == chosen and saved["sort"] == [f"-{chosen[1]}"]
    assert not {"after", "before", "count", "export"} & set(saved)
    # ... and opening it from the plain list shows exactly those columns, in that order, sorted by it
    link = parse(client.get(url).content).find(data_saved_view="Two columns").find("a").get("href")
    reopened = client.get(link)
    assert [th.get("data-column") for th in headers(reopened)] == chosen
    assert parse(reopened.content).find("th", data_column=chosen[1]).get("aria-sort") == "descending"
    assert reopened.context["page"].number == 1


def test_page_position_and_one_off_parameters_are_never_saved(client, reps):
    rep = reps[0]
    client.force_login(rep)
    client.post(reverse("lists:view_save", args=["leads"]), {
        "name": "Posted", "query": "q=x&after=abc&before=def&count=1&export=csv&partial=1&sort=-score"})
    assert parse_qs(SavedView.objects.get(name="Posted").query) == {"q": ["x"], "sort": ["-score"]}
    # A nameless view is refused with a message
    response = client.post(reverse("lists:view_save", args=["leads"]), {"name": "", "query": "q=x"}, follow=True)
    assert "Give the view a name." in response.content.decode() and SavedView.objects.count() == 1
    # A view of a list the user may not see is no view
    assert client.post(reverse("lists:view_save", args=["nothing"]), {"name": "X"}).status_code == 404


def test_a_view_the_list_would_refuse_is_not_saved(client, reps):
    client.force_login(reps[0])
    response = client.post(reverse("lists:view_save", args=["leads"]), {"name": "Broken", "query": "q=%00"}, follow=True)
    assert response.status_code == 200
    assert "The address contains a character that cannot be searched or filtered on." in response.content.decode()
    assert not SavedView.objects.exists()
