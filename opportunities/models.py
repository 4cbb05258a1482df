"""Opportunities in pipelines of ordered stages, with their stage history and contact roles; the products,
price books and line items that make up an amount; quotes and invoices; dated exchange rates to the corporate
currency; quotas and weekly forecast snapshots.

Money: an opportunity keeps its own currency. `amount_corporate` is its amount in the corporate currency
(settings.CORPORATE_CURRENCY) at the rate in force on its close date, and `expected_revenue` that times the
probability. PostgreSQL keeps both (the trigger in migration 0006) whenever an opportunity's amount, currency,
close date or probability or an exchange rate changes, whichever path wrote it (forms, the board, imports, bulk
updates, merges), so totals and forecasts add plain numbers. After a save, `refresh_from_db(fields=...)` reads
them back."""
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import Record
from crm.core.vocabularies import BuyingRole

LOSS_REASON_PICKLIST = "opportunities.loss_reason"
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


# What a rep may call a deal regardless of its stage: every forecast category but "closed" (which only a won
# or lost stage gives).
FORECAST_CALL_CHOICES = [(value, label) for value, label in ForecastCategory.choices
                         if value != ForecastCategory.CLOSED]


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
    probability = models.PositiveSmallIntegerField(_("probability %"), default=0, validators=PERCENT)
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


class OpportunityType(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    UPSELL = "upsell", _("Upsell")
    RENEWAL = "renewal", _("Renewal")


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
    probability = models.PositiveSmallIntegerField(_("probability %"), default=0, validators=PERCENT)
    close_date = models.DateField(_("close date"), null=True, blank=True)
    opportunity_type = models.CharField(_("type"), max_length=20, choices=OpportunityType.choices,
                                        default=OpportunityType.NEW_BUSINESS)
    lead_source = models.CharField(_("lead source"), max_length=100, blank=True)
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("primary campaign"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    competitors = models.CharField(_("competitors"), max_length=255, blank=True)
    loss_reason = models.ForeignKey("customization.PicklistValue", verbose_name=_("loss reason"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+",
                                    limit_choices_to={"picklist": LOSS_REASON_PICKLIST})
    price_book = models.ForeignKey("opportunities.PriceBook", verbose_name=_("price book"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(_("description"), blank=True)
    # The rep's call: the forecast category of an open deal when it differs from its stage's (empty: follow the
    # stage). Won and lost deals count by their outcome, whatever this says.
    forecast_override = models.CharField(_("forecast category override"), max_length=20, null=True, blank=True,
                                         choices=FORECAST_CALL_CHOICES,
                                         help_text=_("Leave empty to follow the stage's forecast category."))
    # Kept by the services (opportunities.currency), never typed: the amount in the corporate currency at the
    # rate in force on the close date, and amount × probability in the corporate currency.
    amount_corporate = models.DecimalField(_("amount (corporate currency)"), max_digits=18, decimal_places=2,
                                           null=True, blank=True, editable=False)
    expected_revenue = models.DecimalField(_("expected revenue"), max_digits=18, decimal_places=2, null=True,
                                           blank=True, editable=False)
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)

    class Meta(Record.Meta):
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["close_date", "id"]
        # Record.Meta's index name would pass the 30 characters Django allows index names.
        indexes = [GinIndex(fields=["custom"], name="opportunity_custom"),
                   models.Index(fields=["owner", "close_date"], name="opp_owner_close"),
                   models.Index(fields=["pipeline", "stage", "close_date"], name="opp_board"),
                   models.Index(fields=["currency", "close_date"], name="opp_currency_close")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.stage.outcome != Stage.Outcome.OPEN

    # For templates (the rep's call select on the deal page and in the forecast's drill-down).
    FORECAST_CALL_CHOICES = FORECAST_CALL_CHOICES

    @property
    def effective_forecast_category(self) -> str:
        """The category the forecast counts this deal in: closed once won or lost, else the rep's override, else
        the stage's."""
        if self.stage.outcome != Stage.Outcome.OPEN:
            return ForecastCategory.CLOSED
        return self.forecast_override or self.stage.forecast_category

    def get_effective_forecast_category_display(self) -> str:
        return str(ForecastCategory(self.effective_forecast_category).label)


class OpportunityContactRole(models.Model):
    """A contact's buying role on one opportunity (the same roles an account's contacts play)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey("accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="opportunity_roles")
    role = models.CharField(_("role"), max_length=30, choices=BuyingRole.choices)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact", "role"], name="uniq_opportunity_contact_role"),
            models.UniqueConstraint(fields=["opportunity"], condition=Q(is_primary=True),
                                    name="one_primary_role_per_opportunity"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.get_role_display()}"


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
        indexes = [models.Index(fields=["opportunity", "created_at"], name="stage_change_opp_time"),
                   models.Index(fields=["created_at"], name="stage_change_time")]


# --- currencies -----------------------------------------------------------------------------------------------

class ExchangeRate(models.Model):
    """How many units of `currency` one unit of the corporate currency buys, from `valid_from` until the next
    rate of the same currency (as Salesforce's dated exchange rates). The corporate currency itself is 1."""

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8,
                               validators=[MinValueValidator(Decimal("0.00000001"))])
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["currency", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [models.UniqueConstraint(fields=["currency", "valid_from"], name="uniq_rate_per_day")]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} ({self.valid_from})"


# --- products and price books ---------------------------------------------------------------------------------

class Product(models.Model):
    code = models.CharField(_("product code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    family = models.CharField(_("product family"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PriceBook(models.Model):
    """A standard book per currency, plus custom ones (partner prices, a campaign's)."""

    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    is_standard = models.BooleanField(_("standard"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["-is_standard", "currency", "name", "id"]
        verbose_name = _("price book")
        verbose_name_plural = _("price books")
        constraints = [models.UniqueConstraint(fields=["currency"], condition=Q(is_standard=True),
                                               name="one_standard_book_per_currency")]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceBookEntry(models.Model):
    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="prices")
    unit_price = models.DecimalField(_("list price"), max_digits=16, decimal_places=2,
                                     validators=[MinValueValidator(0)])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["price_book", "product__name", "id"]
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [models.UniqueConstraint(fields=["price_book", "product"], name="uniq_book_product")]

    def __str__(self) -> str:
        return f"{self.product} · {self.unit_price} {self.price_book.currency}"


class LineFields(models.Model):
    """A line of an opportunity, quote or invoice: total = quantity × list price × (1 − discount %)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, default=Decimal(1),
                                   validators=[MinValueValidator(Decimal("0.01"))])
    list_price = models.DecimalField(_("list price"), max_digits=16, decimal_places=2,
                                     validators=[MinValueValidator(0)])
    discount_percent = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=Decimal(0),
                                           validators=PERCENT)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=Decimal(0), editable=False)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ["order", "id"]

    def compute_total(self) -> Decimal:
        gross = (self.quantity or 0) * (self.list_price or 0)
        return (gross * (100 - (self.discount_percent or 0)) / 100).quantize(Decimal("0.01"))

    def save(self, *args, **kwargs):
        self.total = self.compute_total()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.name


class LineItem(LineFields):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="line_items")

    class Meta(LineFields.Meta):
        verbose_name = _("line item")
        verbose_name_plural = _("line items")


# --- quotes and invoices --------------------------------------------------------------------------------------

class NumberSequence(models.Model):
    """The next number of a series ("quote", "invoice"), taken under a row lock so numbers never repeat."""

    name = models.CharField(max_length=30, primary_key=True)
    next_value = models.PositiveIntegerField(default=1)


class SalesSettings(models.Model):
    """The organisation's sales settings (one row, pk=1), edited by admins."""

    discount_approval_threshold = models.DecimalField(
        _("discount needing approval (%)"), max_digits=5, decimal_places=2, default=Decimal(20), validators=PERCENT,
        help_text=_("A quote with a line or overall discount above this waits for approval before it can be sent."))
    quote_validity_days = models.PositiveSmallIntegerField(_("quotes valid for (days)"), default=30)
    invoice_due_days = models.PositiveSmallIntegerField(_("invoices due after (days)"), default=14)
    default_tax_percent = models.DecimalField(_("default tax %"), max_digits=5, decimal_places=2,
                                              default=Decimal(0), validators=PERCENT)
    quote_terms = models.TextField(_("default quote terms"), blank=True)
    # settings.CORPORATE_CURRENCY, copied here by migration 0006 so the database's conversion trigger can read it.
    corporate_currency = models.CharField(max_length=3, default="EUR", editable=False)

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")

    @classmethod
    def load(cls) -> "SalesSettings":
        return cls.objects.get_or_create(pk=1)[0]


class Quote(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        NEEDS_APPROVAL = "needs_approval", _("Needs approval")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE,
                                    related_name="quotes")
    contact = models.ForeignKey("accounts.Contact", verbose_name=_("recipient"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=10, default="en")
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    discount_percent = models.DecimalField(_("overall discount %"), max_digits=5, decimal_places=2,
                                           default=Decimal(0), validators=PERCENT)
    tax_percent = models.DecimalField(_("tax %"), max_digits=5, decimal_places=2, default=Decimal(0),
                                      validators=PERCENT)
    terms = models.TextField(_("terms"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=Decimal(0),
                                   editable=False)
    discount_amount = models.DecimalField(_("discount"), max_digits=18, decimal_places=2, default=Decimal(0),
                                          editable=False)
    tax_amount = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=Decimal(0), editable=False)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=Decimal(0), editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class QuoteLine(LineFields):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineFields.Meta):
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    quote = models.OneToOneField(Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="invoice")
    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE,
                                    related_name="invoices")
    contact = models.ForeignKey("accounts.Contact", verbose_name=_("recipient"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=10, default="en")
    issue_date = models.DateField(_("issue date"), default=timezone.localdate)
    due_date = models.DateField(_("due date"))
    discount_percent = models.DecimalField(_("overall discount %"), max_digits=5, decimal_places=2,
                                           default=Decimal(0), validators=PERCENT)
    tax_percent = models.DecimalField(_("tax %"), max_digits=5, decimal_places=2, default=Decimal(0),
                                      validators=PERCENT)
    terms = models.TextField(_("terms"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=Decimal(0),
                                   editable=False)
    discount_amount = models.DecimalField(_("discount"), max_digits=18, decimal_places=2, default=Decimal(0),
                                          editable=False)
    tax_amount = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=Decimal(0), editable=False)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=Decimal(0), editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [models.Index(fields=["status", "due_date"], name="invoice_status_due")]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(LineFields):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineFields.Meta):
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")


# --- quotas and forecast snapshots -------------------------------------------------------------------------------

class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Quota(models.Model):
    """A user's target of closed-won revenue for one month or quarter, in the corporate currency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="quotas")
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("quota"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["period_start", "user_id"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [models.UniqueConstraint(fields=["user", "period_kind", "period_start"], name="uniq_quota")]

    def __str__(self) -> str:
        return f"{self.user} {self.period_start} {self.amount}"


class ForecastAdjustment(models.Model):
    """A manager's call on a subordinate's forecast for one period: the closed-won plus commit revenue the
    manager expects of them, with the reason. Rows are never changed: the newest is the current call, the
    older ones its history; `rep_call` keeps the rep's own call the manager saw when adjusting."""

    subject = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
                                related_name="forecast_adjustments")
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("manager's call"), max_digits=18, decimal_places=2,
                                 validators=[MinValueValidator(0)])
    rep_call = models.DecimalField(_("rep's call then"), max_digits=18, decimal_places=2, default=Decimal(0),
                                   editable=False)
    note = models.TextField(_("note"))
    adjusted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("adjusted by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(_("adjusted"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        indexes = [models.Index(fields=["period_kind", "period_start", "subject", "-created_at"],
                                name="forecast_adjustment_current")]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.period_start} {self.amount}"


class ForecastSnapshot(models.Model):
    """The open and closed opportunities as they stood at one moment, taken weekly by beat (and on demand), so
    "what moved" can compare two of them deal by deal."""

    taken_at = models.DateTimeField(_("taken"), default=timezone.now, db_index=True)
    week = models.DateField(_("week"), unique=True, help_text="The Monday of the ISO week it stands for.")

    class Meta:
        ordering = ["-taken_at"]
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")

    def __str__(self) -> str:
        return str(self.week)


class SnapshotLine(models.Model):
    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.CASCADE, related_name="lines")
    opportunity = models.ForeignKey(Opportunity, null=True, on_delete=models.SET_NULL, related_name="+",
                                    db_constraint=False)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              db_constraint=False)
    stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    outcome = models.CharField(max_length=10)
    forecast_category = models.CharField(max_length=20)
    amount_corporate = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    probability = models.PositiveSmallIntegerField(default=0)
    close_date = models.DateField(null=True)

    class Meta:
        indexes = [models.Index(fields=["snapshot", "opportunity"], name="snapshot_line_opp")]
