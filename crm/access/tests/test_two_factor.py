"""Two-factor authentication: turning TOTP on and off, and the second sign-in step."""
import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.access.auth import TWO_FACTOR_PENDING_KEY, TWO_FACTOR_PENDING_SECONDS
from crm.access.models import AuditLog, LoginEvent
from crm.access.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_axes():
    from axes.utils import reset

    reset()


@pytest.fixture
def no_throttle(settings):
    """django-otp makes a device wait 1 s after a wrong code; tests that follow a wrong code
    with the right one turn that off (the throttle itself is django-otp's, tested there)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The code the user's app shows now (offset=1: the next time step, still accepted)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def wrong_code(device: TOTPDevice) -> str:
    accepted = {code(device, offset=o) for o in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def sign_in(client, user, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": user.email, "password": password, **extra})


@pytest.fixture
def user_with_2fa():
    user = UserFactory(email="tfa@x.test")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


# --- turning it on ---------------------------------------------------------------------------

def test_setup_page_shows_a_qr_code_and_the_secret_without_inline_styles(client):
    user = UserFactory()
    client.force_login(user)

    response = client.get(reverse("two_factor"))

    html = response.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert response.status_code == 200 and not device.confirmed
    assert "<svg" in html and "<path d=\"M" in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "style=" not in svg and "<script" not in svg
    from base64 import b32encode
    assert b32encode(device.bin_key).decode()[:4] in html
    assert "otpauth://totp/" in html
    # Opening the page again reuses the key the user may already have scanned.
    client.get(reverse("two_factor"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_enrol_refuses_a_wrong_code_and_confirms_with_the_right_one(client, no_throttle):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=user)

    response = client.post(reverse("two_factor"), {"code": wrong_code(device)})

    assert response.status_code == 200
    assert "That code is not correct" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    response = client.post(reverse("two_factor"), {"code": code(device)})

    assert response.status_code == 302 and response["Location"] == reverse("two_factor")
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    entry = AuditLog.objects.get(action=AuditLog.Action.USER_CHANGED, target_id=str(user.pk))
    assert entry.data == {"two_factor": "enabled"} and entry.actor == user
    assert 'data-two-factor="on"' in client.get(reverse("two_factor")).content.decode()


def test_enrol_refuses_something_that_is_not_a_code(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("two_factor"))

    response = client.post(reverse("two_factor"), {"code": "12ab"})

    assert "Enter the 6-digit code" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- signing in ------------------------------------------------------------------------------

def test_user_without_2fa_signs_in_with_the_password_alone(client):
    user = UserFactory()

    response = sign_in(client, user)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_password_alone_does_not_sign_in_a_user_with_2fa(client, user_with_2fa):
    user, _device = user_with_2fa

    response = sign_in(client, user)

    assert response.status_code == 302 and response["Location"] == reverse("login_verify")
    assert "_auth_user_id" not in client.session
    assert client.session[TWO_FACTOR_PENDING_KEY]["user_id"] == user.pk
    assert client.get(reverse("home"))["Location"].startswith("/login/")
    assert not LoginEvent.objects.filter(outcome=LoginEvent.Outcome.SUCCESS).exists()
    assert "Enter your code" in client.get(reverse("login_verify")).content.decode()


def test_unconfirmed_device_is_not_asked_for(client):
    user = UserFactory()
    TOTPDevice.objects.create(user=user, name="half set up", confirmed=False)

    response = sign_in(client, user)

    assert response["Location"] == reverse("home")


def test_wrong_code_is_refused_and_recorded(client, user_with_2fa):
    user, device = user_with_2fa
    sign_in(client, user)

    response = client.post(reverse("login_verify"), {"code": wrong_code(device)})

    assert response.status_code == 200
    assert "That code is not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session and TWO_FACTOR_PENDING_KEY in client.session
    event = LoginEvent.objects.get(outcome=LoginEvent.Outcome.OTP_FAILURE)
    assert event.user == user
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED, actor=user, data={"two_factor": True}).exists()


def test_right_code_signs_in_to_the_next_page_and_marks_the_session_verified(client, user_with_2fa, no_throttle):
    user, device = user_with_2fa
    sign_in(client, user, next="/leads/")
    client.post(reverse("login_verify"), {"code": wrong_code(device)})

    response = client.post(reverse("login_verify"), {"code": code(device)})

    assert response.status_code == 302 and response["Location"] == "/leads/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert TWO_FACTOR_PENDING_KEY not in client.session
    assert client.get(reverse("home")).status_code == 200
    assert LoginEvent.objects.filter(outcome=LoginEvent.Outcome.SUCCESS, user=user).count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN, actor=user, data={"two_factor": True}).exists()


def test_a_code_is_accepted_only_once(client, user_with_2fa):
    from django.test import Client

    user, device = user_with_2fa
    used = code(device)
    sign_in(client, user)
    client.post(reverse("login_verify"), {"code": used})
    other = Client()
    sign_in(other, user)

    response = other.post(reverse("login_verify"), {"code": used})

    assert response.status_code == 200 and "_auth_user_id" not in other.session


def test_expired_pending_sign_in_goes_back_to_the_login_page(client, user_with_2fa):
    user, device = user_with_2fa
    sign_in(client, user)
    session = client.session
    state = session[TWO_FACTOR_PENDING_KEY]
    state["started"] -= TWO_FACTOR_PENDING_SECONDS + 1
    session[TWO_FACTOR_PENDING_KEY] = state
    session.save()

    response = client.post(reverse("login_verify"), {"code": code(device)})

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session and TWO_FACTOR_PENDING_KEY not in client.session
    assert "took too long" in client.get(reverse("login")).content.decode()


def test_verify_step_without_a_pending_sign_in_goes_to_the_login_page(client):
    response = client.get(reverse("login_verify"))

    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_verify_step_is_rate_limited(client, settings, user_with_2fa):
    settings.LOGIN_RATE_LIMIT = "3/10m"
    user, device = user_with_2fa
    sign_in(client, user)
    for _ in range(3):
        client.post(reverse("login_verify"), {"code": "12"})

    response = client.post(reverse("login_verify"), {"code": code(device)})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


# --- turning it off --------------------------------------------------------------------------

def test_disable_needs_the_password_and_a_valid_code(client, user_with_2fa, no_throttle):
    user, device = user_with_2fa
    client.force_login(user)

    wrong_password = client.post(reverse("two_factor"), {"password": "not-it", "code": code(device)})
    wrong_code_response = client.post(reverse("two_factor"), {"password": PASSWORD, "code": wrong_code(device)})

    assert wrong_password.status_code == 200 and "Your password was entered incorrectly" in wrong_password.content.decode()
    assert "That code is not correct" in wrong_code_response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    response = client.post(reverse("two_factor"), {"password": PASSWORD, "code": code(device, offset=1)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.USER_CHANGED, target_id=str(user.pk),
                                   data={"two_factor": "disabled"}).exists()
    client.logout()
    assert sign_in(client, user)["Location"] == reverse("home")
