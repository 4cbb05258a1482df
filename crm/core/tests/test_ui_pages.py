import pytest
from django.urls import reverse

from crm.access.tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["home", "search"])
def test_requires_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_home_renders_within_budget(client, django_assert_max_num_queries):
    client.force_login(AdminFactory())
    with django_assert_max_num_queries(25):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b'id="main"' in response.content and b'id="sidebar"' in response.content


def test_search_renders_within_budget(client, django_assert_max_num_queries):
    client.force_login(AdminFactory())
    with django_assert_max_num_queries(30):
        response = client.get(reverse("search"), {"q": "acme"})
    assert response.status_code == 200


def test_registered_home_widget_renders_for_its_roles_only(client):
    from crm.core import home

    home.register_widget("test.hello", "includes/messages.html", lambda request: {}, roles=["__nobody__"])
    try:
        client.force_login(AdminFactory())
        request = client.get(reverse("home")).wsgi_request
        assert all(w["key"] != "test.hello" for w in home.widgets_for(request))
        home.register_widget("test.hello", "includes/messages.html", lambda request: {})
        assert any(w["key"] == "test.hello" for w in home.widgets_for(request))
    finally:
        home._widgets.pop("test.hello", None)
