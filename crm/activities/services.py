"""Writes to the timeline."""
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from crm.activities.models import Activity
from crm.core.events import emit


def activity_log(*, target, verb: str, actor=None, subject: str = "", data: dict | None = None) -> Activity:
    """A system entry on a record's timeline (stage change, conversion, ...)."""
    return Activity.objects.create(
        kind=Activity.Kind.SYSTEM,
        verb=verb,
        subject=subject,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
    )


@transaction.atomic
def activity_create(*, target, actor, kind: str, **fields) -> Activity:
    """A task, call, meeting, email or note a person logs on a record."""
    if kind == Activity.Kind.TASK:
        fields.setdefault("status", Activity.Status.OPEN)
        fields.setdefault("assigned_to", actor)
    activity = Activity.objects.create(
        kind=kind,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        actor=actor,
        **fields,
    )
    emit("activity.created", target, actor=actor, data={"activity_id": activity.pk, "kind": kind})
    return activity


@transaction.atomic
def activity_complete(*, activity: Activity, actor) -> Activity:
    activity.status = Activity.Status.DONE
    activity.save(update_fields=["status"])
    emit("activity.completed", activity.target, actor=actor, data={"activity_id": activity.pk, "kind": activity.kind})
    return activity


def activities_move(*, source, target) -> int:
    """Re-point every activity of `source` to `target` (lead merge and conversion)."""
    return Activity.objects.filter(
        content_type=ContentType.objects.get_for_model(source), object_id=source.pk
    ).update(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)
