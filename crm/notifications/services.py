"""Notify users in the app."""
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from crm.notifications.models import Notification

UNREAD_KEY = "notifications:unread:{}"
UNREAD_SECONDS = 60  # at most this stale, should a count read before a commit be stored after it


def unread_count(user) -> int:
    """The bell's number: every page shows it, so it is kept in Redis until a notification for the user
    is sent or read."""
    key = UNREAD_KEY.format(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_SECONDS)
    return count


def unread_changed(user_id) -> None:
    """Saving or deleting a notification calls this too (crm/notifications/apps.py)."""
    key = UNREAD_KEY.format(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)


def notification_send(*, recipient, message: str, url: str = "", verb: str = "", actor=None,
                      target=None) -> Notification | None:
    """Tell `recipient` something; `target` is the record it is about (its page is the link, even after the
    record is merged into another)."""
    if recipient is None or not recipient.is_active:
        return None
    with translation.override(recipient.language):  # lazy messages render in the reader's language
        text = str(message)
    return Notification.objects.create(recipient=recipient, message=text, url=url or (target.get_absolute_url() if
                                       target is not None else ""), verb=verb, target=target,
                                       actor=actor if getattr(actor, "is_authenticated", False) else None)


def notifications_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    unread_changed(user.pk)
    return qs.update(read_at=timezone.now())
