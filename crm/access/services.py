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
