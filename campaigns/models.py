"""Campaigns and the touch ledger that attribution reads. (The minimal shape
leads need; budgets, lists and sends arrive with the campaigns issue.)"""
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import Record


class Campaign(Record):
    class Type(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        EVENT = "event", _("Event")
        WEBINAR = "webinar", _("Webinar")
        TRADE_SHOW = "trade_show", _("Trade show")
        SOCIAL = "social_media", _("Social media")
        ADS = "online_ads", _("Online ads")
        PRINT = "print", _("Print")
        DIRECT_MAIL = "direct_mail", _("Direct mail")
        REFERRAL = "referral_program", _("Referral program")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        ABORTED = "aborted", _("Aborted")

    name = models.CharField(_("name"), max_length=200)
    campaign_type = models.CharField(_("type"), max_length=30, choices=Type.choices, default=Type.EMAIL)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, null=True, blank=True)
    actual_cost = models.DecimalField(_("actual cost"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-start_date", "name"]

    def __str__(self) -> str:
        return self.name


class Touch(models.Model):
    """One campaign touch of a record (a lead, later a contact): the ledger attribution reads. A converted lead's
    touches move to its contact and name the opportunity they helped win."""

    class Channel(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        IMPORT = "import", _("Import")
        MANUAL = "manual", _("Manual")
        EMAIL = "email", _("Email")
        EVENT = "event", _("Event")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="touches")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    opportunity = models.ForeignKey("opportunities.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="touches")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    touched_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["touched_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "touched_at"], name="touch_record"),
                   models.Index(fields=["campaign", "touched_at"], name="touch_campaign")]
