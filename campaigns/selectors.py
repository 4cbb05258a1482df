"""Reads of campaigns other apps use: the campaigns a user may pick, a record's touches, and touch counts for
scoring, without importing campaigns' models."""
from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Max

from campaigns.models import Campaign, Touch


def open_campaigns(*, user):
    """Campaigns `user` may see that still take members (not completed or aborted), by name."""
    return (Campaign.objects.visible_to(user).exclude(status__in=[Campaign.Status.COMPLETED, Campaign.Status.ABORTED])
            .order_by("name"))


def touches_for(record, *, limit: int = 20):
    return (Touch.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
            .select_related("campaign").order_by("-touched_at", "-id")[:limit])


def touch_counts(*, model, ids, channel: str | None = None, since=None) -> dict[int, int]:
    """{record id: touches} for the records `ids`, one grouped query."""
    qs = Touch.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    if channel:
        qs = qs.filter(channel=channel)
    if since is not None:
        qs = qs.filter(touched_at__gte=since)
    return dict(qs.order_by().values("object_id").annotate(n=Count("id")).values_list("object_id", "n"))


def last_touches(*, model, ids) -> dict[int, object]:
    """{record id: time of its newest touch}."""
    qs = Touch.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    return dict(qs.order_by().values("object_id").annotate(at=Max("touched_at")).values_list("object_id", "at"))


def first_and_last(*, records) -> tuple:
    """The oldest and the newest touch among the touches of `records` (a merge keeps the earlier first touch
    and the later last touch)."""
    qs = Touch.objects.none()
    for record in records:
        qs = qs | Touch.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
    ordered = qs.order_by("touched_at", "id")
    return ordered.first(), ordered.last()
