"""Campaigns, the touch ledger that attribution reads, and segments: saved conditions over contacts, leads or
accounts whose members are worked out when used. (Budgets, lists and sends arrive with the campaigns issue.)"""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
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


# Record types a segment may be built over: registered types with a list (the members are shown and exported
# through it): the people a campaign reaches (contacts and leads) and the companies (accounts). Another type
# takes part by being named here.
SEGMENT_TYPES = ("accounts.contact", "leads.lead", "accounts.account")
# The people a campaign touches (its members): "Add to campaign" on their lists and on their segments.
CAMPAIGN_MEMBER_TYPES = ("leads.lead", "accounts.contact")


class SegmentQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view"):
        """Segments `user` may use (action="view": their own and those shared with everyone) or change
        ("edit": their own), over record types they may view. Admins see and change every segment."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_crm_admin:
            return self
        qs = self.filter(record_type__in=[key for key in SEGMENT_TYPES if user.can(key, "view")])
        if action == "view":
            return qs.filter(Q(shared=True) | Q(owner=user))
        return qs.filter(owner=user)


class Segment(models.Model):
    """Saved conditions (crm.core.conditions) over one record type: "customers in Finland with more than 50
    employees". Not a business record but what a user configures, like a saved list view: members are
    evaluated on use, through the reader's visibility, so two users may count the same segment differently."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    record_type = models.CharField(_("record type"), max_length=100)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["record_type", "name"], name="segment_type_name")]

    def __str__(self) -> str:
        return self.name
