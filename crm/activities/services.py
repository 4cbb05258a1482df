"""Writes to the timeline: activities people log, meetings and their attendees, completing tasks, moving
meetings, reminders (scheduled here, sent exactly once by a beat task) and each user's calendar feed."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from crm.activities import richtext
from crm.activities.models import Activity, Attendee, CalendarFeed, Reminder
from crm.core.events import emit

logger = logging.getLogger(__name__)

EDITABLE = ("subject", "body", "body_html", "due_at", "ends_at", "location", "priority", "direction",
            "duration_minutes", "outcome", "remind_minutes", "assigned_to", "status", "occurred_at")
# Changing these moves the activity in calendars: their copies are replaced (SEQUENCE) and reminders rescheduled.
SCHEDULE_FIELDS = {"due_at", "ends_at", "location", "remind_minutes", "assigned_to", "status", "subject"}
REMINDER_RETRIES = 5
REMINDER_BATCH = 500


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


def _prepare_text(fields: dict) -> None:
    """Formatted text is sanitized, and `body` keeps its plain text (search, scoring, calendar descriptions)."""
    if "body_html" in fields:
        fields["body_html"] = richtext.clean_input(fields["body_html"] or "")
        fields["body"] = richtext.to_text(fields["body_html"])


@transaction.atomic
def activity_create(*, target, actor, kind: str, attendees=None, **fields) -> Activity:
    """A task, call, meeting, email or note a person logs on a record. `attendees`: users and records
    (contacts, leads...) invited to a meeting."""
    if kind == Activity.Kind.TASK:
        fields.setdefault("status", Activity.Status.OPEN)
        fields.setdefault("assigned_to", actor)
    if kind == Activity.Kind.MEETING:
        fields.setdefault("status", Activity.Status.OPEN)
        fields.setdefault("assigned_to", actor)  # the organiser
        if fields.get("due_at") and not fields.get("ends_at"):
            fields["ends_at"] = fields["due_at"] + timedelta(minutes=fields.get("duration_minutes") or 30)
        if fields.get("due_at"):
            fields.setdefault("occurred_at", fields["due_at"])
    _prepare_text(fields)
    activity = Activity.objects.create(
        kind=kind,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    if attendees is not None:
        attendees_set(activity=activity, people=attendees)
    reminders_schedule(activity=activity)
    emit("activity.created", target, actor=actor, data={"activity_id": activity.pk, "kind": kind})
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, actor, attendees=None, **fields) -> Activity:
    """Change what a person logged. A sent e-mail is a copy of what left and never changes."""
    if activity.is_sent_email or activity.kind == Activity.Kind.SYSTEM:
        raise ValueError("sent e-mails and system entries are not edited")
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    _prepare_text(fields)
    changed = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValueError(f"{name} is not editable")
        old = getattr(activity, name)
        if old != value:
            changed[name] = [_jsonable(old), _jsonable(value)]
            setattr(activity, name, value)
    if activity.kind == Activity.Kind.MEETING and activity.due_at:
        if not activity.ends_at or activity.ends_at <= activity.due_at:
            activity.ends_at = activity.due_at + timedelta(minutes=30)
        activity.occurred_at = activity.due_at
    attendees_changed = attendees is not None and attendees_set(activity=activity, people=attendees)
    if not changed and not attendees_changed:
        return activity
    if SCHEDULE_FIELDS & set(changed) or attendees_changed:
        activity.sequence += 1
    activity.updated_at = timezone.now()
    activity.save()
    reminders_schedule(activity=activity)
    emit("activity.updated", activity.target, actor=actor, changes=changed,
         data={"activity_id": activity.pk, "kind": activity.kind})
    return activity


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


@transaction.atomic
def activity_complete(*, activity: Activity, actor) -> Activity:
    """Mark a task done (once: completing a done task again changes nothing); its reminders are dropped."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status == Activity.Status.DONE:
        return activity
    activity.status = Activity.Status.DONE
    activity.updated_at = timezone.now()
    activity.sequence += 1
    activity.save(update_fields=["status", "updated_at", "sequence"])
    Reminder.objects.filter(activity=activity, sent_at__isnull=True).delete()
    emit("activity.completed", activity.target, actor=actor, data={"activity_id": activity.pk, "kind": activity.kind})
    return activity


@transaction.atomic
def meeting_move(*, activity: Activity, start, actor) -> Activity:
    """Move a meeting to a new start, keeping its length (the calendar's drag and drop)."""
    if activity.kind != Activity.Kind.MEETING:
        raise ValueError("only meetings move")
    length = (activity.ends_at - activity.due_at) if activity.ends_at and activity.due_at else timedelta(minutes=30)
    return activity_update(activity=activity, actor=actor, due_at=start, ends_at=start + length)


def activities_move(*, source, target) -> int:
    """Re-point every activity of `source` to `target` (lead merge and conversion)."""
    return Activity.objects.filter(
        content_type=ContentType.objects.get_for_model(source), object_id=source.pk
    ).update(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)


# --- attendees ------------------------------------------------------------------------------------------------

def attendees_set(*, activity: Activity, people) -> bool:
    """Make the meeting's attendees exactly `people` (users and records); True when that changed anything.
    The organiser is never an attendee of their own meeting."""
    from crm.access.models import User

    wanted_users, wanted_records = {}, {}
    for person in people:
        if isinstance(person, User):
            if person.pk != activity.assigned_to_id:
                wanted_users[person.pk] = person
        elif person is not None:
            ct = ContentType.objects.get_for_model(person)
            wanted_records[(ct.pk, person.pk)] = person
    current = list(Attendee.objects.filter(activity=activity))
    stale = [a.pk for a in current if (a.user_id and a.user_id not in wanted_users)
             or (a.object_id and (a.content_type_id, a.object_id) not in wanted_records)]
    have_users = {a.user_id for a in current if a.user_id}
    have_records = {(a.content_type_id, a.object_id) for a in current if a.object_id}
    new = [Attendee(activity=activity, user=u, name=u.get_full_name() or u.email, email=u.email)
           for pk, u in wanted_users.items() if pk not in have_users]
    new += [Attendee(activity=activity, content_type_id=ct_id, object_id=pk, name=str(record)[:200],
                     email=(getattr(record, "email", "") or "")[:254])
            for (ct_id, pk), record in wanted_records.items() if (ct_id, pk) not in have_records]
    if stale:
        Attendee.objects.filter(pk__in=stale).delete()
    if new:
        Attendee.objects.bulk_create(new)
    return bool(stale or new)


@transaction.atomic
def attendee_respond(*, activity: Activity, user, response: str) -> Attendee:
    """An invited colleague accepts, declines or is unsure; the organiser's calendar files show it."""
    if response not in Attendee.Response.values:
        raise ValueError("unknown response")
    attendee = Attendee.objects.select_for_update().get(activity=activity, user=user)
    if attendee.response != response:
        attendee.response = response
        attendee.save(update_fields=["response"])
        Activity.objects.filter(pk=activity.pk).update(sequence=models.F("sequence") + 1, updated_at=timezone.now())
        emit("activity.updated", activity.target, actor=user, changes={"response": [user.pk, response]},
             data={"activity_id": activity.pk, "kind": activity.kind})
    return attendee


# --- reminders --------------------------------------------------------------------------------------------------

def _reminder_recipients(activity: Activity) -> set[int]:
    ids = {activity.assigned_to_id} - {None}
    if activity.kind == Activity.Kind.MEETING:
        ids |= set(Attendee.objects.filter(activity=activity, user__isnull=False).values_list("user_id", flat=True))
    return ids


def reminders_schedule(*, activity: Activity) -> None:
    """Keep one reminder row per person to remind, at due time minus `remind_minutes`. A changed time
    re-arms a reminder already sent (the meeting moved: remind again); an unchanged one stays as it is."""
    remind_at = None
    if (activity.remind_minutes is not None and activity.due_at is not None
            and activity.status == Activity.Status.OPEN and activity.kind in (Activity.Kind.TASK, Activity.Kind.MEETING)):
        remind_at = activity.due_at - timedelta(minutes=activity.remind_minutes)
    recipients = _reminder_recipients(activity) if remind_at else set()
    existing = {r.user_id: r for r in Reminder.objects.select_for_update().filter(activity=activity)}
    gone = [r.pk for user_id, r in existing.items() if user_id not in recipients and r.sent_at is None]
    if gone:
        Reminder.objects.filter(pk__in=gone).delete()
    for user_id in recipients:
        row = existing.get(user_id)
        if row is None:
            Reminder.objects.create(activity=activity, user_id=user_id, remind_at=remind_at, next_attempt_at=remind_at)
        elif row.remind_at != remind_at:
            row.remind_at = row.next_attempt_at = remind_at
            row.sent_at, row.notified_at, row.outcome, row.attempts, row.error = None, None, "", 0, ""
            row.save(update_fields=["remind_at", "next_attempt_at", "sent_at", "notified_at", "outcome", "attempts",
                                    "error"])


def reminders_send_due(*, now=None, limit: int = REMINDER_BATCH) -> int:
    """Send the reminders that are due, each in its own transaction: claim the row (FOR UPDATE SKIP LOCKED,
    so concurrent workers never take the same one), write the notification, send the e-mail and set
    `sent_at`, then commit. A worker killed halfway leaves the row unsent and unlocked for the next run.
    Returns how many were handled."""
    handled = 0
    while handled < limit:
        reminder = None
        try:
            with transaction.atomic():
                reminder = (Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                            .filter(sent_at__isnull=True, next_attempt_at__lte=now or timezone.now())
                            .select_related("activity", "user").order_by("next_attempt_at", "id").first())
                if reminder is None:
                    break
                _reminder_send(reminder)
        except Exception as exc:  # noqa: BLE001 - one broken reminder must not hold up the others behind it
            if reminder is None:
                raise
            logger.exception("reminder %s could not be sent", reminder.pk)
            _reminder_failed(reminder.pk, exc)
        handled += 1
    return handled


def _reminder_failed(pk: int, exc: Exception) -> None:
    """An unexpected error rolled the reminder's transaction back: try it later (backoff), and give up
    after REMINDER_RETRIES with the error kept on the row."""
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(pk=pk, sent_at__isnull=True).first()
        if reminder is None:
            return
        reminder.attempts += 1
        reminder.error = f"{type(exc).__name__}: {exc}"[:2000]
        now = timezone.now()
        if reminder.attempts >= REMINDER_RETRIES:
            reminder.sent_at, reminder.outcome = now, Reminder.Outcome.FAILED
        else:
            reminder.next_attempt_at = now + timedelta(minutes=2 ** reminder.attempts)
        reminder.save(update_fields=["attempts", "error", "sent_at", "outcome", "next_attempt_at"])


def _reminder_send(reminder: Reminder) -> None:
    from crm.notifications.services import notification_send

    activity, user, now = reminder.activity, reminder.user, timezone.now()
    # Check the state again: the task may be done, the meeting cancelled, the person gone.
    due = (activity.remind_minutes is not None and activity.due_at is not None
           and activity.status == Activity.Status.OPEN and user.is_active
           and activity.due_at - timedelta(minutes=activity.remind_minutes) == reminder.remind_at)
    if not due:
        _reminder_mark(reminder, Reminder.Outcome.SKIPPED, now)
        return
    target = _target_or_none(activity)
    subject, text, url = _reminder_text(activity, user, target)
    if reminder.notified_at is None:  # a retry after a refused e-mail has its notification already
        notification_send(recipient=user, message=text, url=url, verb="activity.reminder", target=target)
        reminder.notified_at = now
    try:
        _reminder_email(reminder, user, subject, text, url)
    except Exception as exc:  # noqa: BLE001 - a mail server that refuses: retried with backoff, then given up
        logger.warning("reminder %s: e-mail to user %s failed: %s", reminder.pk, user.pk, exc)
        reminder.attempts += 1
        reminder.error = str(exc)[:2000]
        if reminder.attempts >= REMINDER_RETRIES:
            _reminder_mark(reminder, Reminder.Outcome.NOTIFIED_ONLY, now)
        else:
            reminder.next_attempt_at = now + timedelta(minutes=2 ** reminder.attempts)
            reminder.save(update_fields=["attempts", "error", "next_attempt_at", "notified_at"])
        return
    _reminder_mark(reminder, Reminder.Outcome.SENT, now)


def _reminder_mark(reminder: Reminder, outcome: str, now) -> None:
    reminder.sent_at, reminder.outcome = now, outcome
    reminder.save(update_fields=["sent_at", "outcome", "attempts", "error", "notified_at"])


def _target_or_none(activity: Activity):
    model = activity.content_type.model_class()
    if model is None:
        return None
    return model._base_manager.filter(pk=activity.object_id).first()


def _reminder_text(activity: Activity, user, target) -> tuple[str, str, str]:
    """Subject, message and link, in the reader's language and time zone."""
    import zoneinfo

    from django.urls import reverse

    from crm.core.formatting import format_datetime

    try:
        zone = zoneinfo.ZoneInfo(user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(zone):
        when = format_datetime(activity.due_at, user)
        if activity.kind == Activity.Kind.MEETING:
            text = _("Meeting “%(subject)s” starts at %(when)s.") % {"subject": activity.subject, "when": when}
        else:
            text = _("Task “%(subject)s” is due at %(when)s.") % {"subject": activity.subject, "when": when}
        if target is not None:
            text += " " + _("(%(record)s)") % {"record": target}
        subject = _("Reminder: %(subject)s") % {"subject": activity.subject}
    return subject, text, reverse("activities:detail", args=[activity.pk])


def _reminder_email(reminder: Reminder, user, subject: str, text: str, url: str) -> None:
    from crm.mail.services import mail_send

    if not user.email:
        return
    domain = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "crm.local"
    # The same Message-ID for the same reminder: should a crash ever land between the mail server taking the
    # message and our commit, the copy sent again is recognisably the same message.
    stamp = int(reminder.remind_at.timestamp())
    mail_send(to=[user.email], subject=subject, text=f"{text}\n\n{settings.SITE_URL.rstrip('/')}{url}",
              headers={"Message-ID": f"<reminder-{reminder.pk}-{stamp}@{domain}>"}, log=False, respect_opt_out=False)


# --- the calendar feed ------------------------------------------------------------------------------------------

def feed_token(feed: CalendarFeed) -> str:
    """The secret part of the feed's address: the row's id and an HMAC-SHA256 of its key (256 bits)."""
    digest = salted_hmac("crm.activities.calendar-feed", f"{feed.pk}:{feed.key}", algorithm="sha256").hexdigest()
    return f"{feed.pk}-{digest}"


@transaction.atomic
def calendar_feed_rotate(*, user) -> CalendarFeed:
    """Give `user` a new feed address; the old one (if any) stops working at once."""
    feed, _created = CalendarFeed.objects.select_for_update().get_or_create(user=user, defaults={"key": secrets.token_hex(32)})
    if not _created:
        feed.key, feed.created_at, feed.last_used_at = secrets.token_hex(32), timezone.now(), None
        feed.save(update_fields=["key", "created_at", "last_used_at"])
    return feed


@transaction.atomic
def calendar_feed_revoke(*, user) -> bool:
    return CalendarFeed.objects.filter(user=user).delete()[0] > 0


def calendar_feed_used(*, feed: CalendarFeed) -> None:
    """Remember when a calendar last fetched the feed (at most once an hour: calendars poll often)."""
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
