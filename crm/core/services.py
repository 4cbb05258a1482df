"""Small platform services shared by every app."""
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.core.models import RecentView


def recent_view_touch(*, user, record) -> None:
    RecentView.objects.update_or_create(
        user=user,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        defaults={"viewed_at": timezone.now()},
    )


def record_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every key whose value differs."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
