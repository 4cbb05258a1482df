"""Notify users in the app."""
from django.utils import timezone, translation

from crm.notifications.models import Notification


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
    return qs.update(read_at=timezone.now())
