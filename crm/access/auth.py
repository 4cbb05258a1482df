"""Sign-in plumbing: lockout page, login history, and the
second sign-in step for users with two-factor authentication."""
import time

from django.conf import settings
from django.contrib.auth import login, user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.shortcuts import render

from crm.access.models import AuditLog, LoginEvent, User
from crm.core.middleware import client_ip


def lockout_response(request, *args, **kwargs):
    """django-axes calls this when an account is locked out (per username: AXES_LOCKOUT_PARAMETERS)."""
    return render(request, "registration/locked_out.html",
                  {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}, status=429)


def _record(request, *, outcome: str, email: str = "", user=None, action: str | None = None,
            data: dict | None = None) -> None:
    from crm.access.services import audit

    ip = client_ip(request) if request is not None else None
    agent = (request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:500]
    LoginEvent.objects.create(user=user, email=email[:254], ip=ip, user_agent=agent, outcome=outcome)
    if action:
        audit(actor=user, action=action, ip=ip, target=user, data=data or ({"email": email} if not user else {}))


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    # otp_device is set on the user by the second sign-in step (two_factor_login_complete).
    data = {"two_factor": True} if getattr(user, "otp_device", None) is not None else None
    _record(request, outcome=LoginEvent.Outcome.SUCCESS, email=user.email, user=user, action=AuditLog.Action.LOGIN,
            data=data)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        _record(request, outcome=LoginEvent.Outcome.LOGOUT, email=user.email, user=user, action=AuditLog.Action.LOGOUT)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = (credentials or {}).get("username", "") or ""
    user = User.objects.filter(email__iexact=email).first()
    _record(request, outcome=LoginEvent.Outcome.FAILURE, email=email, user=user, action=AuditLog.Action.LOGIN_FAILED)


def _connect_axes():
    from axes.signals import user_locked_out

    @receiver(user_locked_out)
    def on_locked_out(sender, request, username, ip_address, **kwargs):
        user = User.objects.filter(email__iexact=username or "").first()
        _record(request, outcome=LoginEvent.Outcome.LOCKED_OUT, email=username or "", user=user,
                action=AuditLog.Action.LOCKOUT)

    return on_locked_out


on_locked_out = _connect_axes()


# --- The second sign-in step -------------------------------------------------------------------
# After the password of a user with a confirmed TOTP device is accepted, the session holds only
# "this user is half-way in" (never _auth_user_id) until the code is entered; the state is
# short-lived so a password typed on a shared machine cannot be finished later by someone else.

TWO_FACTOR_PENDING_KEY = "_crm_two_factor_pending"
TWO_FACTOR_PENDING_SECONDS = 5 * 60


def two_factor_login_start(request, *, user, next_url: str) -> None:
    request.session.cycle_key()
    request.session[TWO_FACTOR_PENDING_KEY] = {
        "user_id": user.pk,
        # Several backends are configured; login() must be told which one accepted the password.
        "backend": getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[-1],
        "next": next_url,
        "started": int(time.time()),
    }


def two_factor_login_pending(request) -> tuple[User | None, bool]:
    """The user waiting at the second step, and whether a waiting state was dropped
    because it expired (or its user can no longer sign in)."""
    state = request.session.get(TWO_FACTOR_PENDING_KEY)
    if not state:
        return None, False
    user = User.objects.filter(pk=state.get("user_id"), is_active=True).first()
    if user is None or time.time() - state.get("started", 0) > TWO_FACTOR_PENDING_SECONDS:
        two_factor_login_clear(request)
        return None, True
    return user, False


def two_factor_login_clear(request) -> None:
    request.session.pop(TWO_FACTOR_PENDING_KEY, None)


def two_factor_login_complete(request, *, user, device) -> str:
    """Sign the user in with the verified device; returns where to go next."""
    from django_otp import login as otp_login

    state = request.session.pop(TWO_FACTOR_PENDING_KEY)
    user.otp_device = device
    login(request, user, backend=state["backend"])
    otp_login(request, device)
    return state["next"]


def two_factor_login_failed(request, *, user) -> None:
    _record(request, outcome=LoginEvent.Outcome.OTP_FAILURE, email=user.email, user=user,
            action=AuditLog.Action.LOGIN_FAILED, data={"two_factor": True})
