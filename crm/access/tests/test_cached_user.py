"""The signed-in user is read from a per-process cache (crm/access/backends.py); whatever changes a user
must show on that user's next request, and no request's changes to its user may reach another's."""
import pytest
from django.test import Client
from django.urls import reverse

from crm.access.models import User
from crm.access.tests.factories import PASSWORD, ProfileFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_user_deactivated_through_the_orm_is_signed_out_on_the_next_request():
    user = UserFactory(profile=ProfileFactory())
    client = _signed_in(user)
    assert client.get(reverse("home")).status_code == 200  # and the user is now cached

    fresh = User.objects.get(pk=user.pk)
    fresh.is_active = False
    fresh.save(update_fields=["is_active"])

    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_a_new_password_ends_the_other_sessions_at_once():
    user = UserFactory(profile=ProfileFactory())
    other_browser = _signed_in(user)
    assert other_browser.get(reverse("home")).status_code == 200

    fresh = User.objects.get(pk=user.pk)
    fresh.set_password("a completely new password")
    fresh.save(update_fields=["password"])  # what a password change saves, without ending sessions itself

    assert other_browser.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_a_new_role_and_name_show_on_the_next_request():
    first, second = RoleFactory(name="First role"), RoleFactory(name="Second role")
    user = UserFactory(profile=ProfileFactory(), role=first, first_name="Old")
    client = _signed_in(user)
    assert client.get(reverse("home")).wsgi_request.user.role == first

    User.objects.filter(pk=user.pk).update(first_name="New")  # no save signal: not seen...
    fresh = User.objects.get(pk=user.pk)
    fresh.role = second
    fresh.save()  # ...until a save, which every change through the services is

    seen = client.get(reverse("home")).wsgi_request.user
    assert (seen.role, seen.first_name) == (second, "New")


def test_each_request_gets_its_own_copy_of_the_user():
    user = UserFactory(profile=ProfileFactory())
    client = _signed_in(user)
    first = client.get(reverse("home")).wsgi_request.user
    first.first_name = "Changed in one request"
    first.profile.name = "Changed too"

    second = client.get(reverse("home")).wsgi_request.user
    assert second is not first and second.first_name == user.first_name and second.profile.name != "Changed too"
