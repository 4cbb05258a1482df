"""Writes to the access model. Each one clears the visibility caches and, when an
admin makes it, leaves an audit row."""
from __future__ import annotations

from django.db import transaction

from crm.access import visibility
from crm.access.models import AuditLog, OrgDefault, Role


def audit(*, actor, action: str, target=None, ip: str | None = None, data: dict | None = None, target_type: str = "") -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        ip=ip,
        target_type=target_type or (f"{target._meta.app_label}.{target._meta.model_name}" if target is not None else ""),
        target_id=str(getattr(target, "pk", "") or ""),
        target_repr=str(target)[:255] if target is not None else "",
        data=data or {},
    )


def _rebuild_paths(role: Role) -> None:
    role.path, role.depth = role.compute_path()
    Role.objects.filter(pk=role.pk).update(path=role.path, depth=role.depth)
    for child in Role.objects.filter(parent=role):
        _rebuild_paths(child)


@transaction.atomic
def role_create(*, actor, name: str, parent: Role | None = None, description: str = "", ip=None) -> Role:
    role = Role.objects.create(name=name, parent=parent, description=description)
    _rebuild_paths(role)
    if actor is not None:
        audit(actor=actor, action=AuditLog.Action.ROLE_CHANGED, target=role, ip=ip, data={"created": True})
    visibility.clear_caches()
    return role


@transaction.atomic
def role_update(*, actor, role: Role, name: str, parent: Role | None, description: str = "", ip=None) -> Role:
    if parent is not None and parent.path.startswith(role.path):
        raise ValueError("a role cannot report to itself or to a role below it")
    before = {"name": role.name, "parent": role.parent_id}
    role.name, role.parent, role.description = name, parent, description
    role.save()
    _rebuild_paths(role)
    audit(actor=actor, action=AuditLog.Action.ROLE_CHANGED, target=role, ip=ip,
          data={"before": before, "after": {"name": name, "parent": getattr(parent, "pk", None)}})
    visibility.clear_caches()
    return role


@transaction.atomic
def org_default_set(*, actor, record_type: str, access: str, ip=None) -> OrgDefault:
    row, _ = OrgDefault.objects.update_or_create(record_type=record_type, defaults={"access": access})
    if actor is not None:
        audit(actor=actor, action=AuditLog.Action.SHARING_CHANGED, target_type="org_default", ip=ip,
              data={"record_type": record_type, "access": access})
    transaction.on_commit(visibility.clear_caches)
    visibility.clear_caches()
    return row


# --- /settings/ administration: users, roles, profiles, teams, sharing --------------------------
# Every write below takes the acting admin and the request IP and leaves one audit row,
# so "who changed access, from where" is always answerable from the audit log.

def _jsonable_value(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__") and not isinstance(value, (str, dict)):
        return sorted(_jsonable_value(v) for v in value)
    return value


def _diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


USER_FIELDS = ("email", "first_name", "last_name", "title", "phone", "role", "profile",
               "language", "timezone", "is_active")


def user_sessions_end(user, *, keep_session_key: str | None = None) -> int:
    """Delete every stored session that belongs to `user` (sessions hold the id
    only inside their encoded data, so each one is decoded). Returns the count."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone as dj_timezone

    from django.contrib.sessions.backends.cached_db import SessionStore

    ended = 0
    for session in Session.objects.filter(expire_date__gt=dj_timezone.now()).iterator():
        if session.session_key == keep_session_key:
            continue
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            # Through the store so the cached copy goes too (SESSION_ENGINE is cached_db).
            SessionStore(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def user_create(*, actor, ip=None, email: str, password: str | None = None, teams=(), **fields):
    from crm.access.models import User

    user = User(email=email.strip().lower(), **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.teams.set(teams)
    after = {k: _jsonable_value(getattr(user, k)) for k in USER_FIELDS}
    after["teams"] = _jsonable_value(teams)
    audit(actor=actor, action=AuditLog.Action.USER_CHANGED, target=user, ip=ip, data={"created": True, "changes": after})
    visibility.clear_caches()
    return user


@transaction.atomic
def user_update(*, actor, user, ip=None, teams=None, **fields):
    before = {k: _jsonable_value(getattr(user, k)) for k in fields}
    for key, value in fields.items():
        setattr(user, key, value.strip().lower() if key == "email" else value)
    user.save()
    after = {k: _jsonable_value(getattr(user, k)) for k in fields}
    if teams is not None:
        before["teams"] = sorted(user.teams.values_list("pk", flat=True))
        user.teams.set(teams)
        after["teams"] = _jsonable_value(teams)
    changes = _diff(before, after)
    if changes:
        audit(actor=actor, action=AuditLog.Action.USER_CHANGED, target=user, ip=ip, data={"changes": changes})
    if fields.get("is_active") is False and before.get("is_active"):
        transaction.on_commit(lambda: user_sessions_end(user))
    visibility.clear_caches()
    return user


@transaction.atomic
def user_set_active(*, actor, user, active: bool, ip=None):
    was = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    if was != active:
        audit(actor=actor, action=AuditLog.Action.USER_CHANGED, target=user, ip=ip,
              data={"changes": {"is_active": [was, active]}})
    if not active:
        # A deactivated user must not keep working in an open browser.
        user_sessions_end(user)
    return user


def user_is_locked_out(user) -> bool:
    from axes.models import AccessAttempt
    from django.conf import settings

    limit = getattr(settings, "AXES_FAILURE_LIMIT", 5)
    return AccessAttempt.objects.filter(username__iexact=user.email, failures_since_start__gte=limit).exists()


@transaction.atomic
def user_unlock(*, actor, user, ip=None) -> int:
    from axes.utils import reset

    count = reset(username=user.email)
    audit(actor=actor, action=AuditLog.Action.USER_CHANGED, target=user, ip=ip, data={"unlocked": True, "attempts_cleared": count})
    return count


@transaction.atomic
def user_set_password(*, actor, user, password: str, ip=None):
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(actor=actor, action=AuditLog.Action.PASSWORD_CHANGED, target=user, ip=ip, data={"by_admin": True})
    transaction.on_commit(lambda: user_sessions_end(user))
    return user


def user_send_password_reset(*, user, request) -> None:
    """Email the user a one-time link to choose a password (new accounts, forgotten ones)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import NoReverseMatch, reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode
    from django.utils.translation import gettext as _, override

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    try:
        path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    except NoReverseMatch:  # the sign-in pages have not landed: the reset page is where to start
        try:
            path = reverse("password_reset")
        except NoReverseMatch:
            path = "/"
    with override(user.language or "en"):
        body = render_to_string("settings/email/password_set.txt", {"user": user, "link": request.build_absolute_uri(path)})
        send_mail(_("Set your CRM password"), body, None, [user.email])


@transaction.atomic
def role_delete(*, actor, role: Role, ip=None) -> None:
    if role.users.exists():
        raise ValueError("users")
    if role.children.exists():
        raise ValueError("children")
    audit(actor=actor, action=AuditLog.Action.ROLE_CHANGED, target=role, ip=ip, data={"deleted": True, "name": role.name})
    role.delete()
    visibility.clear_caches()


def _profile_snapshot(profile) -> dict:
    from crm.access.models import ObjectPermission, PermissionProfile

    data = {"name": profile.name, "description": profile.description, "is_admin": profile.is_admin}
    data.update({r: getattr(profile, r) for r in PermissionProfile.RIGHTS})
    data["objects"] = {
        row.record_type: sorted(a for a in ObjectPermission.ACTIONS if getattr(row, f"can_{a}"))
        for row in ObjectPermission.objects.filter(profile=profile).order_by("record_type")
    } if profile.pk else {}
    return data


@transaction.atomic
def profile_save(*, actor, profile=None, ip=None, permissions: dict[str, set[str]] | None = None, **fields):
    """Create (profile=None) or update a permission profile; `permissions` maps
    record type -> the actions granted, one ObjectPermission row per type."""
    from crm.access.models import ObjectPermission, PermissionProfile

    created = profile is None
    profile = profile or PermissionProfile()
    before = _profile_snapshot(profile) if not created else {}
    for key, value in fields.items():
        setattr(profile, key, value)
    profile.save()
    if permissions is not None:
        for record_type, actions in permissions.items():
            ObjectPermission.objects.update_or_create(
                profile=profile, record_type=record_type,
                defaults={f"can_{a}": a in actions for a in ObjectPermission.ACTIONS},
            )
    after = _profile_snapshot(profile)
    audit(actor=actor, action=AuditLog.Action.PROFILE_CHANGED, target=profile, ip=ip,
          data={"created": created, "before": before, "after": after})
    visibility.clear_caches()
    return profile


@transaction.atomic
def profile_field_access_set(*, actor, profile, record_type: str, access: dict[str, str], ip=None):
    """`access` maps field name -> "" (editable), "hidden" or "read_only"; editable means no row."""
    from crm.access.models import FieldPermission

    rows = FieldPermission.objects.filter(profile=profile, record_type=record_type)
    before = dict(rows.values_list("field_name", "access"))
    for field_name, level in access.items():
        if level:
            FieldPermission.objects.update_or_create(profile=profile, record_type=record_type, field_name=field_name,
                                                     defaults={"access": level})
        else:
            rows.filter(field_name=field_name).delete()
    after = dict(FieldPermission.objects.filter(profile=profile, record_type=record_type).values_list("field_name", "access"))
    if before != after:
        audit(actor=actor, action=AuditLog.Action.PROFILE_CHANGED, target=profile, ip=ip,
              data={"record_type": record_type, "field_access": {"before": before, "after": after}})
    visibility.clear_caches()
    return after


@transaction.atomic
def team_save(*, actor, team=None, ip=None, members=(), **fields):
    from crm.access.models import Team

    created = team is None
    team = team or Team()
    before = {} if created else {k: _jsonable_value(getattr(team, k)) for k in fields}
    if not created:
        before["members"] = sorted(team.members.values_list("pk", flat=True))
    for key, value in fields.items():
        setattr(team, key, value)
    team.save()
    team.members.set(members)
    after = {k: _jsonable_value(getattr(team, k)) for k in fields}
    after["members"] = _jsonable_value(members)
    audit(actor=actor, action=AuditLog.Action.TEAM_CHANGED, target=team, ip=ip,
          data={"created": created, "changes": _diff(before, after)})
    visibility.clear_caches()
    return team


@transaction.atomic
def team_delete(*, actor, team, ip=None) -> None:
    audit(actor=actor, action=AuditLog.Action.TEAM_CHANGED, target=team, ip=ip, data={"deleted": True, "name": team.name})
    team.delete()
    visibility.clear_caches()


SHARING_RULE_FIELDS = ("name", "record_type", "kind", "source_role", "source_include_subordinates", "criteria",
                       "target_kind", "target_role", "target_team",
                       "access_level", "is_active")


@transaction.atomic
def sharing_rule_save(*, actor, rule=None, ip=None, **fields):
    from crm.access.models import SharingRule

    created = rule is None
    rule = rule or SharingRule()
    before = {} if created else {k: _jsonable_value(getattr(rule, k)) for k in fields}
    for key, value in fields.items():
        setattr(rule, key, value)
    rule.save()
    after = {k: _jsonable_value(getattr(rule, k)) for k in fields}
    audit(actor=actor, action=AuditLog.Action.SHARING_CHANGED, target=rule, ip=ip,
          data={"created": created, "record_type": rule.record_type, "changes": _diff(before, after)})
    visibility.clear_caches()
    return rule


@transaction.atomic
def sharing_rule_delete(*, actor, rule, ip=None) -> None:
    audit(actor=actor, action=AuditLog.Action.SHARING_CHANGED, target=rule, ip=ip,
          data={"deleted": True, "record_type": rule.record_type, "name": rule.name})
    rule.delete()
    visibility.clear_caches()


# --- Two-factor authentication (TOTP, django-otp) ------------------------------------------------
# A device starts unconfirmed while the user scans the QR code; only a confirmed device is asked
# for at sign-in, so an abandoned set-up never locks anyone out.

def two_factor_device(user, *, confirmed: bool = True):
    """The user's TOTP device in the given state, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def two_factor_setup_device(*, user):
    """The unconfirmed device to show during set-up: the pending one, or a new one with a fresh key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return two_factor_device(user, confirmed=False) or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def two_factor_enable(*, actor, device, ip=None):
    """Confirm `device` (its code was just verified) and drop any other set-up attempt."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    audit(actor=actor, action=AuditLog.Action.USER_CHANGED, target=device.user, ip=ip,
          data={"two_factor": "enabled"})
    return device


@transaction.atomic
def two_factor_disable(*, actor, user, ip=None) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    audit(actor=actor, action=AuditLog.Action.USER_CHANGED, target=user, ip=ip, data={"two_factor": "disabled"})
