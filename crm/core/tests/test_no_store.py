"""Signed-in pages are not kept by the browser: the back button after signing out shows no records."""
import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from crm.access.tests.factories import UserFactory
from crm.core.middleware import NoStoreForSignedInMiddleware

pytestmark = pytest.mark.django_db


def test_a_signed_in_page_is_no_store(client):
    client.force_login(UserFactory())

    response = client.get(reverse("home"))

    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_the_login_page_keeps_its_own_headers(client):
    response = client.get(reverse("login"))

    # Django's LoginView is never_cache; the middleware leaves an anonymous page alone.
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_a_response_that_chose_its_cache_control_keeps_it():
    request = RequestFactory().get("/media/x")
    request.user = UserFactory()
    middleware = NoStoreForSignedInMiddleware(lambda r: HttpResponse(headers={"Cache-Control": "max-age=60"}))

    assert middleware(request)["Cache-Control"] == "max-age=60"


def test_static_files_are_served_before_the_middleware():
    order = settings.MIDDLEWARE
    assert (order.index("whitenoise.middleware.WhiteNoiseMiddleware")
            < order.index("django.contrib.auth.middleware.AuthenticationMiddleware")
            < order.index("crm.core.middleware.NoStoreForSignedInMiddleware"))
