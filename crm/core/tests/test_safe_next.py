"""safe_next: a `next` is followed only when it is a path on this site."""
import pytest
from django.test import RequestFactory
from django.urls import reverse

from crm.core.urls_safe import safe_next

FALLBACK = "/fallback/"


@pytest.mark.parametrize("target", [
    "/\\evil.com", "//evil.com", "https://evil.com", "\\\\evil.com", "javascript:alert(1)", "/%5Cevil.com",
    "/%5cevil.com", "/\t/evil.com", "http://testserver/leads/", "leads/5/", "",
])
def test_anything_but_a_local_path_falls_back(target):
    request = RequestFactory().post("/x/", {"next": target})

    assert safe_next(request, FALLBACK) == FALLBACK


def test_a_local_path_with_a_query_is_kept():
    request = RequestFactory().post("/x/", {"next": "/leads/5/?tab=x"})

    assert safe_next(request, FALLBACK) == "/leads/5/?tab=x"


def test_next_from_the_query_string_and_a_given_url_and_a_url_name_as_fallback():
    request = RequestFactory().get("/x/", {"next": "/accounts/"})

    assert safe_next(request, FALLBACK) == "/accounts/"
    assert safe_next(request, FALLBACK, url="//evil.com") == FALLBACK
    assert safe_next(RequestFactory().get("/x/"), "home") == reverse("home")


@pytest.mark.django_db
def test_completing_a_task_never_redirects_off_site(client):
    from crm.activities.models import Activity
    from crm.activities.tests.factories import TaskFactory
    from crm.access.tests.factories import UserFactory
    from leads.tests.factories import LeadFactory

    # given a task assigned to the signed-in user
    user = UserFactory()
    task = TaskFactory(target=LeadFactory(owner=user), actor=user)
    client.force_login(user)

    # when it is completed with a `next` that a browser reads as //evil.com
    response = client.post(reverse("activities:complete", args=[task.pk]), {"next": "/\\evil.com"})

    # then the task is done and the browser goes home
    assert response.status_code == 302 and response["Location"] == reverse("home")
    task.refresh_from_db()
    assert task.status == Activity.Status.DONE
