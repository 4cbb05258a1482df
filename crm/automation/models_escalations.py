"""Escalation rules' tables: the rules admins configure (a record type, which records are watched, the date-time
the clock starts from, a business-hours calendar, when to stop) with their ordered levels ("after 4 business
hours → reassign and notify"), and one durable `EscalationDue` row per level, record and clock start. Its
UNIQUE (level, content type, object id, clock start) is what makes "each level fires once per clock start" hold
against redelivered events and racing workers (crm.automation.escalations)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["EscalationDue", "EscalationLevel", "EscalationRule"]


class EscalationRule(models.Model):
    """Watches the records of one type that meet its criteria, from the moment in its clock field; each level
    fires when that many business minutes have passed without the escalation being stopped."""

    name = models.CharField(_("name"), max_length=150)
    # A key of the record-type registry ("leads.lead"; "support.ticket" once support registers it).
    record_type = models.CharField(_("record type"), max_length=100, db_index=True)
    calendar = models.ForeignKey("automation.BusinessCalendar", verbose_name=_("business hours"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+", help_text=_(
                                     "The clock runs only in this calendar's working hours. Empty: around the clock."))
    # crm.core.conditions' format, validated against the record type with sql=True (existing records are
    # found by it): which records are watched.
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    # The date or date-time field the clock starts from ("created_at").
    clock_field = models.CharField(_("clock starts at"), max_length=100, default="created_at")
    # crm.core.conditions' format; when it holds (on a save, or at a level's due time) the escalation of that
    # record stops for its clock start. Change operators ("status changed") are allowed: they answer on a save.
    stop_criteria = models.JSONField(_("stop when"), default=dict, blank=True)
    stop_on_activity = models.BooleanField(_("stop when someone logs an activity"), default=True, help_text=_(
        "A call, meeting, e-mail, note or task a person logs on the record stops the escalation. What automation "
        "writes (its tasks, auto-responses) does not."))
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    # Due times from before this moment (the rule's creation or last activation) are not fired on their own.
    active_since = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "order", "id"]
        indexes = [models.Index(fields=["record_type", "is_active", "order"], name="escalation_rule_active")]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """One step of a rule: when `after_minutes` business minutes have passed since the clock started, its
    actions run (the workflow-rule action kinds, validated by crm.automation.actions.validate_actions)."""

    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="levels")
    number = models.PositiveSmallIntegerField(_("level"))  # 1, 2, 3 … in the rule's order
    after_minutes = models.PositiveIntegerField(_("after (business minutes)"))
    actions = models.JSONField(_("actions"), default=list, blank=True)

    class Meta:
        ordering = ["rule", "number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="uniq_escalation_level_number")]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")

    def __str__(self) -> str:
        return f"{self.rule} #{self.number}"


class EscalationDue(models.Model):
    """One level of a rule waiting for its due time on one record, for one clock start: a durable row, taken by
    beat with SELECT … FOR UPDATE SKIP LOCKED and fired (or cancelled) in the same transaction as what its
    actions wrote."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        FIRED = "fired", _("Fired")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Reason(models.TextChoices):
        """Why a row was cancelled: a row cancelled because the record left the criteria (or the rule was
        switched off) waits again when they hold again at the same clock start; the others stay cancelled."""
        NONE = "", "—"
        CRITERIA = "criteria", _("The criteria no longer hold.")
        STOPPED = "stopped", _("The stop condition held.")
        ACTIVITY = "activity", _("Someone logged an activity.")
        CLOCK = "clock", _("The clock restarted.")
        RULE = "rule", _("The rule was changed or switched off.")
        DELETED = "deleted", _("The record was deleted.")

    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="dues")
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="dues")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField(_("record id"))
    record_repr = models.CharField(_("record"), max_length=255, blank=True)
    clock_start = models.DateTimeField(_("clock started"))
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=10, choices=Reason.choices, blank=True, default="")
    note = models.CharField(_("note"), max_length=255, blank=True)
    # [{"kind", "status": succeeded|skipped|failed, "result" or "error"}] per action, in order: a retry runs only
    # the actions without an outcome yet.
    results = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # a retry's backoff
    error = models.TextField(_("error"), blank=True)
    fired_at = models.DateTimeField(_("fired"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["level", "content_type", "object_id", "clock_start"],
                                               name="uniq_escalation_due")]
        indexes = [models.Index(fields=["due_at"], name="escalation_due_waiting", condition=Q(state="pending")),
                   models.Index(fields=["content_type", "object_id"], name="escalation_due_record"),
                   models.Index(fields=["rule", "state", "-fired_at"], name="escalation_due_rule_state"),
                   models.Index(fields=["-updated_at"], name="escalation_due_time")]
        verbose_name = _("escalation due")
        verbose_name_plural = _("escalations due")

    def __str__(self) -> str:
        return f"{self.rule_id}#{self.level_id} → {self.record_repr or self.object_id} @ {self.due_at:%Y-%m-%d %H:%M}"
