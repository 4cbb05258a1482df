"""Leads: the people and companies not yet customers, from first touch to conversion."""
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Concat, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import Record
from crm.core.vocabularies import BuyingRole, Industry, Rating

SOURCE_PICKLIST = "leads.source"
STATUS_PICKLIST = "leads.status"


class LifecycleStage(models.TextChoices):
    NEW = "new", _("New")
    MQL = "mql", _("Marketing qualified (MQL)")
    SAL = "sal", _("Sales accepted (SAL)")
    SQL = "sql", _("Sales qualified (SQL)")
    CONVERTED = "converted", _("Converted")
    UNQUALIFIED = "unqualified", _("Unqualified")


class Level(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Timeframe(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    QUARTER = "0_3_months", _("Within 3 months")
    HALF_YEAR = "3_6_months", _("3–6 months")
    YEAR = "6_12_months", _("6–12 months")
    LATER = "12_plus_months", _("More than 12 months")
    UNKNOWN = "unknown", _("Unknown")


def search_text():
    """What list search matches: "first last company email", upper-cased. A trigram index serves it, so
    `search_text() LIKE '%TERM%'` (and a full name typed as "Aino Laine") does not scan the table."""
    space = models.Value(" ")
    return Upper(Concat("first_name", space, "last_name", space, "company", space, "email",
                        output_field=models.TextField()))


class Lead(Record):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=150, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=50, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    street = models.CharField(_("street"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state or province"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("Two-letter ISO code, e.g. FI, IR, US."))
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(_("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    description = models.TextField(_("description"), blank=True)
    competitors = models.TextField(_("competitors"), blank=True)
    objections = models.TextField(_("objections"), blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)

    source = models.ForeignKey("customization.PicklistValue", verbose_name=_("source"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", limit_choices_to={"picklist": SOURCE_PICKLIST})
    status = models.ForeignKey("customization.PicklistValue", verbose_name=_("status"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", limit_choices_to={"picklist": STATUS_PICKLIST})
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=20, choices=LifecycleStage.choices,
                                       default=LifecycleStage.NEW)
    unqualified_reason = models.CharField(_("unqualified reason"), max_length=255, blank=True)

    # BANT
    budget_confirmed = models.BooleanField(_("has budget"), null=True, blank=True)
    budget_amount = models.DecimalField(_("budget amount"), max_digits=16, decimal_places=2, null=True, blank=True)
    authority_role = models.CharField(_("buying role"), max_length=30, choices=BuyingRole.choices, blank=True)
    need_pain_points = models.TextField(_("pain points"), blank=True)
    need_requirements = models.TextField(_("requirements"), blank=True)
    need_desired_outcome = models.TextField(_("desired outcome"), blank=True)
    timeline_urgency = models.CharField(_("urgency"), max_length=10, choices=Level.choices, blank=True)
    timeline_timeframe = models.CharField(_("purchase timeframe"), max_length=20, choices=Timeframe.choices, blank=True)
    # CHAMP
    champ_challenges = models.TextField(_("challenges"), blank=True)
    champ_authority = models.CharField(_("authority"), max_length=30, choices=BuyingRole.choices, blank=True)
    champ_money = models.DecimalField(_("money available"), max_digits=16, decimal_places=2, null=True, blank=True)
    champ_prioritization = models.CharField(_("prioritization"), max_length=10, choices=Level.choices, blank=True)

    # Scoring: the number and how it was reached ([{"label": ..., "points": ...}, ...]).
    score = models.IntegerField(_("score"), default=0)
    score_breakdown = models.JSONField(default=list, blank=True, editable=False)
    score_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Campaign attribution
    first_touch_campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("first-touch campaign"), null=True,
                                             blank=True, on_delete=models.SET_NULL, related_name="+")
    last_touch_campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("last-touch campaign"), null=True,
                                            blank=True, on_delete=models.SET_NULL, related_name="+")

    # Duplicate detection keys, kept by the services that write leads.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False)

    # Conversion
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True, editable=False)
    converted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    converted_account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", editable=False)
    converted_contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", editable=False)
    converted_opportunity = models.ForeignKey("opportunities.Opportunity", null=True, blank=True,
                                              on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            GinIndex(fields=["custom"], name="leads_lead_custom"),
            models.Index(fields=["owner", "-created_at"], name="lead_owner_created"),
            models.Index(fields=["-created_at", "-id"], name="lead_created"),
            models.Index(fields=["status", "-created_at"], name="lead_status_created"),
            models.Index(fields=["lifecycle_stage", "-created_at"], name="lead_stage_created"),
            models.Index(fields=["-score", "-id"], name="lead_score"),
            models.Index(fields=["owner", "-score", "-id"], name="lead_owner_score"),  # "my open leads", best first
            models.Index(fields=["email_normalized"], name="lead_email_norm"),
            models.Index(fields=["phone_normalized"], name="lead_phone_norm"),
            GinIndex(OpClass(Upper("company"), name="gin_trgm_ops"), name="lead_company_trgm"),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="lead_last_name_trgm"),
            GinIndex(OpClass(search_text(), name="gin_trgm_ops"), name="lead_search_trgm"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_converted(self) -> bool:
        return self.lifecycle_stage == LifecycleStage.CONVERTED


class LifecycleTransition(models.Model):
    """Every lifecycle change, for funnel conversion rates and times."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="lifecycle_transitions")
    from_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=LifecycleStage.choices)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_constraint=False)  # kept by on_delete: imports add thousands
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["to_stage", "created_at"])]


class WebForm(models.Model):
    """A public web-to-lead form: the fields it asks for and where its leads go."""

    name = models.CharField(_("name"), max_length=150)
    key = models.SlugField(_("public key"), max_length=40, unique=True)
    # Field names of Lead (and cf_<name> for custom fields), in display order.
    fields = models.JSONField(_("fields"), default=list)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    thank_you_message = models.TextField(_("thank-you message"), blank=True)
    redirect_url = models.URLField(_("redirect after submit"), blank=True)
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    source = models.ForeignKey("customization.PicklistValue", verbose_name=_("lead source"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+", limit_choices_to={"picklist": SOURCE_PICKLIST})
    default_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner when no rule assigns"),
                                      null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(_("form language"), max_length=10, choices=settings.LANGUAGES, default="en")
    allowed_origins = models.JSONField(_("sites allowed to embed"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    submissions = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("web-to-lead form")
        verbose_name_plural = _("web-to-lead forms")

    def __str__(self) -> str:
        return self.name


class Framework(models.TextChoices):
    BANT = "bant", _("BANT (budget, authority, need, timeline)")
    CHAMP = "champ", _("CHAMP (challenges, authority, money, prioritization)")


class QualificationPolicy(models.Model):
    """Which framework qualifies leads, for everyone (team empty) or for one team's leads,
    and per criterion: its points and whether SQL or conversion needs it.

    `criteria` = {"budget": {"points": 25, "sql": true, "convert": true}, ...}."""

    team = models.OneToOneField("access.Team", verbose_name=_("team"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="qualification_policy")
    framework = models.CharField(_("framework"), max_length=10, choices=Framework.choices, default=Framework.BANT)
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("qualification policy")
        verbose_name_plural = _("qualification policies")
        constraints = [models.UniqueConstraint(fields=["team"], name="uniq_global_qualification",
                                               condition=models.Q(team__isnull=True), nulls_distinct=False)]

    def __str__(self) -> str:
        return str(self.team) if self.team_id else str(_("Everyone"))


class ScoringRule(models.Model):
    class Kind(models.TextChoices):
        FIT = "fit", _("Fit: a field matches")
        ENGAGEMENT = "engagement", _("Engagement: activities and submissions")
        DECAY = "decay", _("Decay: no engagement for a while")

    class Engagement(models.TextChoices):
        CALL = "call", _("Calls")
        MEETING = "meeting", _("Meetings")
        EMAIL = "email", _("Emails")
        NOTE = "note", _("Notes")
        TASK = "task", _("Completed tasks")
        WEB_FORM = "web_form", _("Web form submissions")

    name = models.CharField(_("label"), max_length=150, help_text=_("Shown in the score explanation."))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FIT)
    # Fit rules: a condition of crm.core.conditions the lead must meet ({"all": [{"field", "op", "value"}]}).
    conditions = models.JSONField(_("criteria"), default=dict, blank=True)
    engagement = models.CharField(_("counts"), max_length=20, choices=Engagement.choices, blank=True)
    within_days = models.PositiveIntegerField(_("within days"), null=True, blank=True,
                                              help_text=_("Engagement: only the last N days. Decay: the length of one period."))
    points = models.IntegerField(_("points"), help_text=_("Per match, per occurrence or per period of decay."))
    max_points = models.PositiveIntegerField(_("at most"), null=True, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")

    def __str__(self) -> str:
        return self.name

    @property
    def criteria_text(self) -> str:
        from crm.core.conditions import describe

        return describe(self.conditions, "leads.lead")


class AssignmentRule(models.Model):
    class Target(models.TextChoices):
        USER = "user", _("A user")
        ROUND_ROBIN = "round_robin", _("Round robin within a team")
        TERRITORY = "territory", _("Territory: countries to a team (round robin)")

    name = models.CharField(_("name"), max_length=150)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # A condition of crm.core.conditions; empty matches every lead.
    conditions = models.JSONField(_("criteria"), default=dict, blank=True)
    target = models.CharField(_("assign to"), max_length=20, choices=Target.choices, default=Target.USER)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("access.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    countries = models.CharField(_("countries"), max_length=500, blank=True,
                                 help_text=_("Two-letter codes separated by commas, e.g. FI, SE, EE."))
    # Round robin: the id of the member who got the last lead, read and written under a row lock.
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", editable=False)
    assigned_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return self.name

    @property
    def criteria_text(self) -> str:
        from crm.core.conditions import describe

        return describe(self.conditions, "leads.lead")

    def country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.countries.split(",") if c.strip()]
