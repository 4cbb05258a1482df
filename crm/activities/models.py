"""The timeline of any record: tasks, calls, meetings, emails, notes, and
system entries (stage changes, conversions, automation runs); meeting attendees, reminders (durable rows a
beat task claims, so each is sent exactly once) and each user's secret calendar feed."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Activity(models.Model):
    class Kind(models.TextChoices):
        TASK = "task", _("Task")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("Email")
        NOTE = "note", _("Note")
        SYSTEM = "system", _("System")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        """Call outcomes offered by the form; older free-text outcomes are shown as written."""
        CONNECTED = "connected", _("Connected")
        VOICEMAIL = "voicemail", _("Left a voicemail")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        CALL_BACK = "call_back", _("Asked to call back")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, db_index=True)
    # For system entries: the event name, e.g. "lead.converted".
    verb = models.CharField(_("what happened"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("details"), blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="assigned_activities")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DONE)
    priority = models.CharField(_("priority"), max_length=20, choices=Priority.choices, default=Priority.NORMAL)
    direction = models.CharField(_("direction"), max_length=20, choices=Direction.choices, blank=True)
    # A task's due time; a meeting's start.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=255, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=100, blank=True)
    # Minutes before due_at that the assignee (and a meeting's attendees) are reminded; None: no reminder.
    remind_minutes = models.PositiveIntegerField(_("reminder"), null=True, blank=True)
    # Notes' and e-mails' formatted text, sanitized (crm.activities.richtext); `body` holds its plain text.
    body_html = models.TextField(_("formatted text"), blank=True)
    # iCalendar SEQUENCE: raised whenever the time or place changes, so calendars replace their copy.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-occurred_at"]),
            models.Index(fields=["assigned_to", "status", "due_at"]),
            # The calendar and the feed: a person's tasks and meetings by time (calls and notes, the bulk of
            # the table, stay out of it).
            models.Index(fields=["assigned_to", "due_at"], name="activity_calendar",
                         condition=models.Q(kind__in=["task", "meeting"])),
        ]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at is not None and self.due_at < timezone.now()

    @property
    def outcome_label(self) -> str:
        return str(self.Outcome(self.outcome).label) if self.outcome in self.Outcome.values else self.outcome

    @property
    def is_sent_email(self) -> bool:
        """An e-mail the CRM sent: a copy of what left, never edited afterwards."""
        return self.kind == self.Kind.EMAIL and bool(self.data.get("sent"))


class Attendee(models.Model):
    """Someone invited to a meeting: a user, a record with an e-mail address (a contact, a lead: any
    registered type, through a generic relation that merges re-point), or just an address."""

    class Response(models.TextChoices):
        NEEDS_ACTION = "needs_action", _("Not answered")
        ACCEPTED = "accepted", _("Accepted")
        TENTATIVE = "tentative", _("Tentative")
        DECLINED = "declined", _("Declined")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="meeting_invitations")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    # As invited: what the invitation says even if the record changes later.
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    response = models.CharField(_("response"), max_length=20, choices=Response.choices, default=Response.NEEDS_ACTION)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="uniq_attendee_user",
                                    condition=models.Q(user__isnull=False)),
            models.UniqueConstraint(fields=["activity", "content_type", "object_id"], name="uniq_attendee_record",
                                    condition=models.Q(object_id__isnull=False)),
        ]
        indexes = [models.Index(fields=["user", "activity"]), models.Index(fields=["content_type", "object_id"])]
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")

    def __str__(self) -> str:
        return self.name or self.email


class Reminder(models.Model):
    """One reminder for one person. A beat task claims due rows with SELECT … FOR UPDATE SKIP LOCKED and
    writes the notification, sends the e-mail and sets `sent_at` in one transaction: a worker killed halfway
    rolls back, another takes the row, and no two workers ever hold the same one."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not needed any more")
        NOTIFIED_ONLY = "notified_only", _("Notified; the e-mail could not be sent")
        FAILED = "failed", _("Could not be sent")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    remind_at = models.DateTimeField()
    # remind_at, or later after a failed e-mail (backoff): what the beat task looks for.
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the in-app notification was written (in the same transaction as what follows it): a retry after a
    # refused e-mail does not ring the bell again.
    notified_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="uniq_reminder")]
        indexes = [models.Index(fields=["next_attempt_at"], name="reminder_due", condition=models.Q(sent_at__isnull=True))]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")

    def __str__(self) -> str:
        return f"{self.activity_id} → {self.user_id} at {self.remind_at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A user's secret iCalendar address. The URL carries an HMAC of `key` under the SECRET_KEY, so this
    table alone opens no feed; revoking deletes the row, regenerating draws a new key."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"feed of {self.user_id}"
