"""Reads of the timeline and of a user's tasks."""
from django.contrib.contenttypes.models import ContentType
from django.db.models import F

from crm.activities.models import Activity


def open_tasks(*, user, limit: int = 20) -> list[Activity]:
    tasks = list(
        Activity.objects.filter(kind=Activity.Kind.TASK, status=Activity.Status.OPEN, assigned_to=user)
        .select_related("content_type")
        .order_by(F("due_at").asc(nulls_last=True), "id")[:limit]
    )
    return tasks


def timeline_for(record, *, limit: int = 50):
    return (
        Activity.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
        .select_related("actor", "assigned_to")
        .order_by("-occurred_at", "-id")[:limit]
    )
