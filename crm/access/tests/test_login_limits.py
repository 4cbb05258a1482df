"""Sign-in limits count failures only: per account (django-axes) and per address (LOGIN_FAILURE_RATE_LIMIT),
so a whole office behind one NAT address signs in at nine while password spraying is stopped."""
import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.access.models import User
from crm.access.tests.factories import PASSWORD, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

OFFICE = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def _reset_axes():
    from axes.utils import reset

    reset()


def sign_in(client, email, password=PASSWORD, *, ip=OFFICE):
    """One sign-in attempt from `ip` as a fresh browser (no session left from the one before)."""
    client.cookies.clear()
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("home")


def test_two_hundred_people_behind_one_address_all_sign_in(client, django_assert_max_num_queries):
    # given 200 colleagues (one INSERT; the factory hashes each password) behind the office NAT
    profile = ProfileFactory(record_types=[])
    users = User.objects.bulk_create(UserFactory.build_batch(200, profile=profile))

    # when they sign in one after another
    responses = []
    for user in users:
        # a sign-in is a handful of queries (user, session, history, axes); none of them grows with the crowd
        with django_assert_max_num_queries(20):
            responses.append(sign_in(client, user.email))

    # then every one of them is in
    assert [r.status_code for r in responses if not signed_in(r)] == []


def test_an_address_over_its_failure_limit_is_refused_even_with_the_right_password(client, settings):
    settings.LOGIN_FAILURE_RATE_LIMIT = "5/10m"
    # one wrong password on each of five accounts: no account is near its own lockout
    victims = UserFactory.create_batch(5, profile=ProfileFactory(record_types=[]))
    user = UserFactory()
    for victim in victims:
        assert sign_in(client, victim.email, "Spring2026!").status_code == 200

    refused = sign_in(client, user.email)

    assert refused.status_code == 429 and refused.context["rate_limited"]
    assert "Too many sign-in attempts from your network" in refused.content.decode()
    assert not refused.wsgi_request.user.is_authenticated
    assert signed_in(sign_in(client, user.email, ip=ELSEWHERE))


def test_a_locked_account_does_not_lock_its_colleagues_out(client, settings):
    victim, colleague = UserFactory(), UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, victim.email, "wrong-password")

    locked = sign_in(client, victim.email)

    assert locked.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in locked.templates]
    assert not locked.wsgi_request.user.is_authenticated
    assert sign_in(client, victim.email, ip=ELSEWHERE).status_code == 429  # the account, wherever from
    assert signed_in(sign_in(client, colleague.email))  # same address, another account


def test_successful_sign_ins_do_not_count_toward_the_address_limit(client, settings):
    settings.LOGIN_FAILURE_RATE_LIMIT = "3/10m"
    users = UserFactory.create_batch(10, profile=ProfileFactory(record_types=[]))
    sign_in(client, "typo@example.com", "x")
    sign_in(client, "typo2@example.com", "x")

    assert all(signed_in(sign_in(client, user.email)) for user in users)

    # the two failures before are still the only ones: one more is allowed, then the address is refused
    assert sign_in(client, "typo3@example.com", "x").status_code == 200
    assert sign_in(client, users[0].email).status_code == 429


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_right_codes_at_the_second_step_do_not_count_toward_the_address_limit(client, settings):
    settings.LOGIN_RATE_LIMIT = "2/10m"
    profile = ProfileFactory(record_types=[])
    users = UserFactory.create_batch(4, profile=profile)
    devices = [TOTPDevice.objects.create(user=user, name="phone", confirmed=True) for user in users]

    for user, device in zip(users, devices):
        assert sign_in(client, user.email)["Location"] == reverse("login_verify")
        response = client.post(reverse("login_verify"), {"code": _code(device)}, REMOTE_ADDR=OFFICE)
        assert signed_in(response)

    # wrong codes do count: after two, the address waits, even with a right code
    sign_in(client, users[0].email)
    for _ in range(2):
        assert client.post(reverse("login_verify"), {"code": "12"}, REMOTE_ADDR=OFFICE).status_code == 200
    assert client.post(reverse("login_verify"), {"code": _code(devices[0])}, REMOTE_ADDR=OFFICE).status_code == 429
