"""Sign-in plumbing: lockout page, login history, per-IP rate limit."""
from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.shortcuts import render
from django.utils.translation import gettext as _

from crm.access.models import AuditLog, LoginEvent, User
from crm.core.middleware import client_ip


def lockout_response(request, *args, **kwargs):
    """django-axes calls this when an account or IP is locked out."""
    return render(request, "registration/locked_out.html",
                  {"minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}, status=429)


def _record(request, *, outcome: str, email: str = "", user=None, action: str | None = None) -> None:
    from crm.access.services import audit

    ip = client_ip(request) if request is not None else None
    agent = (request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:500]
    LoginEvent.objects.create(user=user, email=email[:254], ip=ip, user_agent=agent, outcome=outcome)
    if action:
        audit(actor=user, action=action, ip=ip, target=user, data={"email": email} if not user else {})


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    _record(request, outcome=LoginEvent.Outcome.SUCCESS, email=user.email, user=user, action=AuditLog.Action.LOGIN)


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
