"""Opportunities in pipelines of ordered stages. (The minimal shape lead
conversion needs; kanban, quotes and forecasts arrive with their issue.)"""
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import Record


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100)
    name_translations = models.JSONField(default=dict, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_translations.get(get_language() or "en") or self.name


class Stage(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    name_translations = models.JSONField(default=dict, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability %"), default=0)
    forecast_category = models.CharField(_("forecast category"), max_length=20, choices=ForecastCategory.choices,
                                         default=ForecastCategory.PIPELINE)
    outcome = models.CharField(_("won/lost"), max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    required_fields = models.JSONField(_("fields required to enter"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "order", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_translations.get(get_language() or "en") or self.name


class Opportunity(Record):
    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="opportunities")
    contact = models.ForeignKey("accounts.Contact", verbose_name=_("primary contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="opportunities")
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    probability = models.PositiveSmallIntegerField(_("probability %"), default=0)
    close_date = models.DateField(_("close date"), null=True, blank=True)
    lead_source = models.CharField(_("lead source"), max_length=100, blank=True)
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("primary campaign"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(_("description"), blank=True)

    class Meta(Record.Meta):
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["close_date", "id"]
        # Record.Meta's index name would pass the 30 characters Django allows index names.
        indexes = [GinIndex(fields=["custom"], name="opportunity_custom"),
                   models.Index(fields=["owner", "close_date"], name="opp_owner_close")]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    probability = models.PositiveSmallIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
