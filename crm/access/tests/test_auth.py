"""Sign-in, lockout, login history, idle sessions and security headers."""
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.urls import reverse

from crm.access.middleware import LAST_SEEN_KEY
from crm.access.models import AuditLog, LoginEvent
from crm.access.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_axes():
    from axes.utils import reset

    reset()


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def test_sign_in_is_case_insensitive_records_history_and_rotates_the_session(client):
    user = UserFactory(email="aino@x.test")
    client.get(reverse("login"))
    before = client.session.session_key

    response = sign_in(client, "AINO@x.test", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="pytest-browser")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.session.session_key != before
    event = LoginEvent.objects.get(outcome=LoginEvent.Outcome.SUCCESS)
    assert (event.user, event.ip, event.user_agent) == (user, "10.1.2.3", "pytest-browser")
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN, actor=user).exists()


def test_wrong_password_is_refused_and_recorded(client):
    UserFactory(email="aino@x.test")

    response = sign_in(client, "aino@x.test", "wrong-password")

    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    assert LoginEvent.objects.filter(outcome=LoginEvent.Outcome.FAILURE, email="aino@x.test").count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED).count() == 1


def test_account_locks_after_repeated_failures_and_the_lockout_is_logged(client):
    UserFactory(email="aino@x.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "aino@x.test", "wrong-password")

    response = sign_in(client, "aino@x.test")  # even the right password

    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated
    assert LoginEvent.objects.filter(outcome=LoginEvent.Outcome.LOCKED_OUT).exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.LOCKOUT).exists()


def test_failed_sign_ins_are_rate_limited_per_ip(client, settings):
    settings.LOGIN_FAILURE_RATE_LIMIT = "3/10m"
    for _ in range(3):
        sign_in(client, f"nobody{_}@x.test", "x", REMOTE_ADDR="10.9.9.9")

    assert sign_in(client, "other@x.test", "x", REMOTE_ADDR="10.9.9.9").status_code == 429
    assert sign_in(client, "other@x.test", "x", REMOTE_ADDR="10.9.9.10").status_code == 200


def test_forwarded_for_is_believed_only_from_trusted_proxies(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    sign_in(client, "a@x.test", "x", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.1")
    sign_in(client, "b@x.test", "x", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2")

    ips = dict(LoginEvent.objects.values_list("email", "ip"))
    assert ips == {"a@x.test": "203.0.113.5", "b@x.test": "198.51.100.2"}


def test_idle_session_ends(client):
    user = UserFactory()
    client.force_login(user)
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()

    response = client.get(reverse("home"))

    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get(reverse("home")).status_code == 302


def test_deactivated_user_is_signed_out(client):
    user = UserFactory()
    client.force_login(user)
    user.is_active = False
    user.save()

    assert client.get(reverse("home"))["Location"].startswith("/login/")


def test_password_change_ends_other_sessions(client, django_user_model):
    from django.test import Client

    user = UserFactory()
    other = Client()
    other.force_login(user)
    client.force_login(user)

    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": "An0ther-long-pass!",
                                             "new_password2": "An0ther-long-pass!"})

    assert client.get(reverse("home")).status_code == 200
    assert other.get(reverse("home")).status_code == 302


def test_preferences_switch_language_to_persian(client):
    user = UserFactory()
    client.force_login(user)

    client.post(reverse("preferences"), {"first_name": "Sara", "last_name": "Ahmadi", "language": "fa",
                                         "timezone": "Asia/Tehran", "date_format": "Y-m-d", "use_jalali": "on"})

    html = client.get(reverse("home")).content.decode()
    assert '<html lang="fa" dir="rtl">' in html and "bootstrap.rtl.min.css" in html


def test_preferences_refuse_an_unknown_time_zone_and_keep_the_input(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("preferences"), {"first_name": "Typed", "language": "fi", "timezone": "Mars/Base",
                                                    "date_format": "Y-m-d"})

    assert response.status_code == 200 and 'value="Typed"' in response.content.decode()
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_csp_header_has_no_unsafe_inline_and_forbids_framing(client):
    response = client.get(reverse("login"))

    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"


def test_django_admin_is_for_superusers_only(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    assert client.get("/django-admin/").status_code == 302


def test_check_deploy_passes_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECURE_SSL_REDIRECT", "SECURE_COOKIES",
                                                            "MANIFEST_STATIC", "TEST_FAST_PASSWORD_HASHER",
                                                            "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DEBUG="0", SECRET_KEY="k" * 20 + "Q7x!pZ2@vL9#mN4$rT6%wY8^bC1&dF3*", ALLOWED_HOSTS="crm.example.com")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
