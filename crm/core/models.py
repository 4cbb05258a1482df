"""The Record base every business record inherits, and the platform's own
small tables: events and recently viewed records."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class History(HistoricalRecords):
    """Field history of a record. The copied fields carry no index but the record's id: history is read
    per record and by date, while every index would slow each write (an import writes thousands)."""

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


class RecordQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view"):
        """Records `user` may see (action="view") or change (action="edit"):
        admins, org-wide default, owner, role hierarchy, sharing rules, teams."""
        from crm.access.visibility import filter_visible

        return filter_visible(self, user, action)


class Record(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True, editable=False)

    history = History(inherit=True)
    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True
        indexes = [GinIndex(fields=["custom"], name="%(app_label)s_%(class)s_custom")]

    @property
    def record_type(self):
        from crm.core import records

        return records.for_model(self)

    def get_absolute_url(self) -> str:
        return self.record_type.detail_url(self.pk)


class Event(models.Model):
    """A domain event: the outbox row, written in the transaction that caused it, delivered to each
    subscriber after commit by a worker (crm.core.events) and marked delivered once every subscriber has it."""

    keep_after_target_deleted = True  # the log of what happened outlives the record (crm.core.relations)

    name = models.CharField(max_length=100, db_index=True)
    # The event log is written in bulk (an import adds one event per lead): like the history tables, its
    # references are kept by Django's on_delete rather than checked by the database on every row.
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_constraint=False)
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_constraint=False)
    changes = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set when every subscriber the event matches has it (or gave up): what the sweep looks for is the rest.
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"]),
                   models.Index(fields=["created_at"], name="event_undelivered",
                                condition=models.Q(delivered_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.name} #{self.object_id}"


class EventDelivery(models.Model):
    """One event handed to one subscriber. Written in the same transaction as what the subscriber did, so a
    redelivered event finds it and does nothing twice; a failure keeps its error and when to try again."""

    class Status(models.TextChoices):
        DONE = "done", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Failed, gave up")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    subscriber = models.CharField(_("subscriber"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DONE)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    error = models.TextField(_("error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="uniq_event_delivery")]
        indexes = [models.Index(fields=["next_attempt_at"], name="delivery_retry",
                                condition=models.Q(status="failed")),
                   models.Index(fields=["status", "-updated_at"], name="delivery_status")]
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.event_id}"


class RecentView(models.Model):
    """The records a user opened last, for the home page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "content_type", "object_id"], name="uniq_recent_view")]
        indexes = [models.Index(fields=["user", "-viewed_at"])]
