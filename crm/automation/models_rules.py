"""Workflow rules' tables: the rule and its versions (what admins configure), and the durable rows the engine
works from (runs, action runs, time-based runs waiting for their due time, round-robin turns, beat's heartbeat).

A rule's behaviour lives in its versions: editing an active rule writes a new `RuleVersion`, and every run keeps
the version it used. An `ActionRun`'s `key` is unique, so an event or a due time delivered twice never runs an
action twice (crm.automation.engine)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ActionRun", "AutomationSettings", "Heartbeat", "OffsetDirection", "OffsetUnit", "RoundRobinTurn",
           "RuleRun", "RuleVersion", "ScheduledRun", "Trigger", "WorkflowRule"]


class Trigger(models.TextChoices):
    CREATED = "created", _("When a record is created")
    CREATED_OR_UPDATED = "created_or_updated", _("When a record is created or changed")
    CRITERIA_BECAME_TRUE = "criteria_became_true", _("When a record comes to meet the criteria")
    FIELD_CHANGED = "field_changed", _("When a field changes")
    TIME_BASED = "time_based", _("At a time relative to a date field")


class OffsetUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class OffsetDirection(models.TextChoices):
    BEFORE = "before", _("before")
    AFTER = "after", _("after")


class WorkflowRule(models.Model):
    """A rule admins write: its record type, name, order and whether it runs. What it does is its current
    version."""

    name = models.CharField(_("name"), max_length=150)
    description = models.CharField(_("description"), max_length=255, blank=True)
    record_type = models.CharField(_("record type"), max_length=100, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100,
                                        help_text=_("Rules of one record type run in this order (lowest first)."))
    current_version = models.ForeignKey("automation.RuleVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "order", "id"]
        indexes = [models.Index(fields=["record_type", "is_active", "order"], name="workflow_rule_active")]
        verbose_name = _("workflow rule")
        verbose_name_plural = _("workflow rules")

    def __str__(self) -> str:
        return self.name


class RuleVersion(models.Model):
    """What a rule does, frozen: a new version is written whenever an admin changes it."""

    rule = models.ForeignKey(WorkflowRule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    # The field a "field changed" trigger watches, or the date field a time-based trigger counts from.
    trigger_field = models.CharField(_("field"), max_length=100, blank=True)
    offset_amount = models.PositiveIntegerField(_("offset"), default=0)
    offset_unit = models.CharField(_("unit"), max_length=10, choices=OffsetUnit.choices, default=OffsetUnit.DAYS)
    offset_direction = models.CharField(_("before or after"), max_length=10, choices=OffsetDirection.choices,
                                        default=OffsetDirection.AFTER)
    # crm.core.conditions' format, validated against the record type.
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    # [{"kind": "create_task", ...}, ...]: each kind's options are checked by its registered action.
    actions = models.JSONField(_("actions"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="uniq_rule_version_number")]
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")

    def __str__(self) -> str:
        return f"{self.rule} v{self.number}"


class RuleRun(models.Model):
    """One firing of a rule on one record (or one logged refusal: the depth limit). Kept for the
    configured number of days."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Partly failed")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    rule = models.ForeignKey(WorkflowRule, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="runs")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField(_("record id"))
    record_repr = models.CharField(_("record"), max_length=255, blank=True)
    event_id = models.BigIntegerField(_("event"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)  # time-based runs
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    matched = models.BooleanField(_("criteria met"), default=True)
    # [{"field", "label", "op", "value", "actual", "result"}] per leaf of the criteria.
    criteria_outcome = models.JSONField(default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    note = models.CharField(_("note"), max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    depth = models.PositiveSmallIntegerField(_("depth"), default=1)
    # The rules whose actions led to the event this run came from: their actions' events carry it on.
    chain = models.JSONField(default=list, blank=True)
    # rule:version:record:event-or-due-time: a redelivered event or due time finds its run and adds nothing.
    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rule", "-created_at"], name="rule_run_rule_time"),
                   models.Index(fields=["content_type", "object_id", "-created_at"], name="rule_run_record_time"),
                   models.Index(fields=["created_at"], name="rule_run_time"),
                   models.Index(fields=["outcome", "-created_at"], name="rule_run_outcome_time")]
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")

    def __str__(self) -> str:
        return f"{self.rule} → {self.record_repr or self.object_id}"


class ActionRun(models.Model):
    """One action of a run. Taken under a row lock by `action_run_task`; a failure waits `next_attempt_at` and is
    retried by beat, with backoff, until it succeeds or runs out of attempts. An action with an effect outside
    the database (an e-mail) is "sending" between its committed claim and its recorded delivery; one left there
    (its worker died mid-send) is failed by beat once `next_attempt_at` passes, never sent again on its own."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SUCCEEDED = "succeeded", _("Succeeded")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(RuleRun, on_delete=models.CASCADE, related_name="action_runs")
    index = models.PositiveSmallIntegerField()
    kind = models.CharField(_("action"), max_length=50)
    # f"{rule}:{version}:{record}:{event or due time}:{index}"
    key = models.CharField(max_length=220, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When beat (re)queues a waiting action: a retry's backoff, or a safety net for a lost after-commit message.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("error"), blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        indexes = [models.Index(fields=["next_attempt_at"], name="action_run_waiting",
                                condition=Q(status="pending")),
                   models.Index(fields=["status", "-finished_at"], name="action_run_status_time")]
        verbose_name = _("action run")
        verbose_name_plural = _("action runs")

    def __str__(self) -> str:
        return f"{self.kind} #{self.index}"


class ScheduledRun(models.Model):
    """A time-based rule waiting for its due time on one record: a durable row, taken by beat with
    SELECT … FOR UPDATE SKIP LOCKED. One per rule, record and due time, so a due time fires once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    rule = models.ForeignKey(WorkflowRule, on_delete=models.CASCADE, related_name="scheduled_runs")
    version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    note = models.CharField(_("note"), max_length=255, blank=True)
    run = models.ForeignKey(RuleRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["rule", "content_type", "object_id", "due_at"],
                                               name="uniq_scheduled_run")]
        indexes = [models.Index(fields=["due_at"], name="scheduled_run_due", condition=Q(status="pending")),
                   models.Index(fields=["content_type", "object_id"], name="scheduled_run_record")]
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")

    def __str__(self) -> str:
        return f"{self.rule} #{self.object_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class RoundRobinTurn(models.Model):
    """Whose turn it is in a team: the member last given a record by an "assign owner" action (read and moved
    under a row lock, so two concurrent assignments never give the same turn twice)."""

    team = models.OneToOneField("access.Team", on_delete=models.CASCADE, related_name="+")
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    assigned_count = models.PositiveIntegerField(default=0)


class Heartbeat(models.Model):
    """When a periodic task last ran ("automation-tick"): the health panel warns when beat stops."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()


class AutomationSettings(models.Model):
    """The one row of automation settings admins change in the browser."""

    log_retention_days = models.PositiveIntegerField(
        _("keep the execution log for (days)"), default=30,
        help_text=_("Runs older than this are deleted every night."))

    class Meta:
        verbose_name = _("automation settings")
        verbose_name_plural = _("automation settings")

    @classmethod
    def get(cls) -> "AutomationSettings":
        return cls.objects.get_or_create(pk=1)[0]
