"""Approval processes: which records need whose approval, and every request's steps and answers.

A process applies to one approvable type (a registered record type such as "opportunities.opportunity", or a
type registered with crm.core.approvables such as "opportunities.quote") when its entry criteria hold. Its
steps run in order; a step whose criteria do not hold is skipped. Each step's approvers get an ApprovalTask;
"first response" decides the step with the first answer, "unanimous" needs every approver's approval (one
rejection rejects). While a request is pending its record is locked (crm.core.locks) for everyone but admins
and the step's current approvers."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApprovalProcess(models.Model):
    name = models.CharField(_("name"), max_length=150)
    record_type = models.CharField(_("record type"), max_length=100, db_index=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    entry_criteria = models.JSONField(_("entry criteria"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=10,
                                        help_text=_("When several processes match, the lowest order is used."))
    # Field updates applied to the record at each moment: [{"field": "status", "value": "..."}]
    # (opportunities' quote status is moved by the quote's own services, not here).
    on_submit = models.JSONField(_("when submitted"), default=list, blank=True)
    on_approve = models.JSONField(_("when approved"), default=list, blank=True)
    on_reject = models.JSONField(_("when rejected"), default=list, blank=True)
    on_recall = models.JSONField(_("when recalled"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "order", "id"]
        verbose_name = _("approval process")
        verbose_name_plural = _("approval processes")

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    class Approver(models.TextChoices):
        MANAGER = "manager", _("The submitter's manager (role hierarchy)")
        USER = "user", _("A named user")
        TEAM = "team", _("A team (queue or group)")

    class Mode(models.TextChoices):
        FIRST = "first", _("First response decides")
        UNANIMOUS = "unanimous", _("Every approver must approve")

    process = models.ForeignKey(ApprovalProcess, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"), default=1)
    name = models.CharField(_("name"), max_length=150)
    criteria = models.JSONField(_("step criteria"), default=dict, blank=True,
                                help_text=_("The step is skipped when these do not hold. Empty: always."))
    approver_kind = models.CharField(_("approver"), max_length=20, choices=Approver.choices, default=Approver.MANAGER)
    approver_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    approver_team = models.ForeignKey("access.Team", verbose_name=_("team"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    mode = models.CharField(_("decision"), max_length=20, choices=Mode.choices, default=Mode.FIRST)
    remind_after_hours = models.PositiveIntegerField(_("remind after (hours)"), null=True, blank=True)
    escalate_after_hours = models.PositiveIntegerField(_("escalate after (hours)"), null=True, blank=True)
    escalate_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("escalate to"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    help_text=_("Empty: the approver's own manager."))

    class Meta:
        ordering = ["process", "order", "id"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")

    def __str__(self) -> str:
        return self.name


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RECALLED = "recalled", _("Recalled")

    process = models.ForeignKey(ApprovalProcess, on_delete=models.PROTECT, related_name="requests")
    record_type = models.CharField(max_length=100)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    label = models.CharField(max_length=255)  # what the record was called when submitted (inbox, history)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    step = models.ForeignKey(ApprovalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="approval_requests")
    submitted_at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "status"], name="approval_record")]
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id"],
                                               condition=models.Q(status="pending"), name="one_pending_approval")]

    def __str__(self) -> str:
        return self.label


class ApprovalTask(models.Model):
    """One approver's part in one step of a request."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CLOSED = "closed", _("No longer needed")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="+")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_tasks")
    delegated_from = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The e-mailed approve/reject link is single-use: it carries this nonce, cleared when the task is answered.
    link_nonce = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["approver", "status"], name="approval_inbox")]


class ApprovalDelegation(models.Model):
    """While `user` is away (from … to, inclusive), their new approval tasks go to `delegate`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_delegations")
    delegate = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("delegate"), on_delete=models.CASCADE,
                                 related_name="+")
    starts = models.DateField(_("from"))
    ends = models.DateField(_("to"))

    class Meta:
        ordering = ["user", "-starts"]
