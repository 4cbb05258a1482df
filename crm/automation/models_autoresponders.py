"""Auto-responders' tables: the responders admins configure (per record type, in order, first match wins) and
one durable `AutoResponse` row per record that was answered, or was to be: a UNIQUE (content type, object id)
constraint is what makes "one auto-response per record, ever" hold against redelivered events and racing
workers (crm.automation.autoresponders)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["AutoResponder", "AutoResponse"]


class AutoResponder(models.Model):
    """Answers new records of one type with an e-mail template, in the recipient's language. Of the active
    responders of a type, in order, the first whose criteria the new record meets answers it; the others do not."""

    name = models.CharField(_("name"), max_length=150)
    # A key of the record-type registry ("leads.lead") whose records have an e-mail address.
    record_type = models.CharField(_("record type"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=100, help_text=_(
        "Responders of one record type are tried in this order (lowest first); the first that matches answers."))
    is_active = models.BooleanField(_("active"), default=True)
    # crm.core.conditions' format, validated against the record type (no "changed" operators: a new record).
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    template = models.ForeignKey("mail.EmailTemplate", verbose_name=_("template"), null=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # Who the answer comes from: a user (their name, the CRM's address, replies to them), or a from-address
    # and name; neither: the record's owner.
    sender_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sender"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    from_name = models.CharField(_("from name"), max_length=100, blank=True)
    from_email = models.EmailField(_("from address"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "order", "id"]
        indexes = [models.Index(fields=["record_type", "is_active", "order"], name="autoresponder_active")]
        verbose_name = _("auto-responder")
        verbose_name_plural = _("auto-responders")

    def __str__(self) -> str:
        return self.name


class AutoResponse(models.Model):
    """The auto-response of one record: claimed when a responder matched its "created" event, then sent (or not,
    and why). At most one per record, ever."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        OPTED_OUT = "opted_out", _("Not sent: opted out")
        NO_ADDRESS = "no_address", _("Not sent: no e-mail address")
        CANCELLED = "cancelled", _("Not sent: cancelled")
        FAILED = "failed", _("Failed")

    responder = models.ForeignKey(AutoResponder, verbose_name=_("auto-responder"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="responses")
    responder_name = models.CharField(_("auto-responder"), max_length=150, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField(_("record id"))
    record_repr = models.CharField(_("record"), max_length=255, blank=True)
    event_id = models.BigIntegerField(_("event"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    to_address = models.CharField(_("to"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The e-mail activity on the record's timeline, once sent.
    activity_id = models.BigIntegerField(_("activity"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When beat queues a waiting row again: a retry's backoff, or the safety net for a lost after-commit message.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a worker began sending
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id"], name="uniq_autoresponse_record")]
        indexes = [models.Index(fields=["responder", "-created_at"], name="autoresponse_responder_time"),
                   models.Index(fields=["created_at"], name="autoresponse_time"),
                   models.Index(fields=["next_attempt_at"], name="autoresponse_waiting", condition=Q(outcome="pending")),
                   models.Index(fields=["claimed_at"], name="autoresponse_sending", condition=Q(outcome="sending"))]
        verbose_name = _("auto-response")
        verbose_name_plural = _("auto-responses")

    def __str__(self) -> str:
        return f"{self.responder_name} → {self.record_repr or self.object_id}"
