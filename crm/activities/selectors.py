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


def timeline_for(record, *, limit: int = 50) -> list[Activity]:
    """The record's latest activities, newest first, their people from the user directory (joining two
    user tables made the query cost more than the page's others together, even when it found nothing)."""
    from crm.access.directory import people

    activities = list(
        Activity.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
        .order_by("-occurred_at", "-id")[:limit]
    )
    users = people({pk for a in activities for pk in (a.actor_id, a.assigned_to_id) if pk is not None})
    actor, assigned = Activity._meta.get_field("actor"), Activity._meta.get_field("assigned_to")
    for a in activities:
        actor.set_cached_value(a, users.get(a.actor_id))
        assigned.set_cached_value(a, users.get(a.assigned_to_id))
    return activities
