"""Customer accounts (companies) and contacts (people), and the roles contacts play on accounts. Not user
logins: those are crm.access."""
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from crm.core.models import Record
from crm.core.vocabularies import BuyingRole, Industry, Rating


class Account(Record):
    class Type(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        PARTNER = "partner", _("Partner")
        RESELLER = "reseller", _("Reseller")
        COMPETITOR = "competitor", _("Competitor")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    account_type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.PROSPECT)
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, blank=True)
    parent = models.ForeignKey("self", verbose_name=_("parent account"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="children")
    website = models.URLField(_("website"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    fax = models.CharField(_("fax"), max_length=50, blank=True)
    billing_street = models.CharField(_("billing street"), max_length=255, blank=True)
    billing_city = models.CharField(_("billing city"), max_length=100, blank=True)
    billing_state = models.CharField(_("billing state"), max_length=100, blank=True)
    billing_postal_code = models.CharField(_("billing postal code"), max_length=20, blank=True)
    billing_country = models.CharField(_("billing country"), max_length=2, blank=True)
    shipping_street = models.CharField(_("shipping street"), max_length=255, blank=True)
    shipping_city = models.CharField(_("shipping city"), max_length=100, blank=True)
    shipping_state = models.CharField(_("shipping state"), max_length=100, blank=True)
    shipping_postal_code = models.CharField(_("shipping postal code"), max_length=20, blank=True)
    shipping_country = models.CharField(_("shipping country"), max_length=2, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(_("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True)
    # The annual revenue's currency (ISO 4217); empty: the organisation's (CORPORATE_CURRENCY), as for leads.
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False, db_index=True)

    class Meta(Record.Meta):
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name", "id"]
        indexes = [
            GinIndex(fields=["custom"], name="accounts_account_custom"),
            models.Index(fields=["owner", "name"], name="account_owner_name"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="account_name_trgm"),
        ]
        # Deeper loops (a parent under its own subsidiary) are refused by the services, which walk the tree.
        constraints = [models.CheckConstraint(condition=~Q(parent=F("pk")), name="account_not_own_parent")]

    def __str__(self) -> str:
        return self.name


class ConsentSource(models.TextChoices):
    """How a contact's consent flag came to be what it is (stored with the time it changed)."""

    MANUAL = "manual", _("Set by a user")
    IMPORT = "import", _("Import")
    LEAD = "lead", _("Lead conversion")
    MERGE = "merge", _("Merge")
    WEB_FORM = "web_form", _("Web form")
    EMAIL_LINK = "email_link", _("Link in an email")
    API = "api", _("API")


# Each consent flag with the fields its time and source are kept in.
CONSENT_FLAGS = ("email_opt_in", "email_opt_out", "do_not_call")


class Contact(Record):
    salutation = models.CharField(_("salutation"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    title = models.CharField(_("title"), max_length=150, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    account = models.ForeignKey(Account, verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="contacts")
    reports_to = models.ForeignKey("self", verbose_name=_("reports to"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(_("email"), max_length=254, blank=True)
    secondary_email = models.EmailField(_("second email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=50, blank=True)
    mailing_street = models.CharField(_("mailing street"), max_length=255, blank=True)
    mailing_city = models.CharField(_("mailing city"), max_length=100, blank=True)
    mailing_state = models.CharField(_("mailing state"), max_length=100, blank=True)
    mailing_postal_code = models.CharField(_("mailing postal code"), max_length=20, blank=True)
    mailing_country = models.CharField(_("mailing country"), max_length=2, blank=True)
    birthdate = models.DateField(_("birthdate"), null=True, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    description = models.TextField(_("description"), blank=True)
    # Consent: each flag with when it last changed and how (the services set both when the flag changes).
    email_opt_in = models.BooleanField(_("email opt-in"), default=False)
    email_opt_in_at = models.DateTimeField(_("email opt-in changed"), null=True, blank=True, editable=False)
    email_opt_in_source = models.CharField(_("email opt-in source"), max_length=20, choices=ConsentSource.choices,
                                           blank=True, editable=False)
    email_opt_out = models.BooleanField(_("email opt-out"), default=False)
    email_opt_out_at = models.DateTimeField(_("email opt-out changed"), null=True, blank=True, editable=False)
    email_opt_out_source = models.CharField(_("email opt-out source"), max_length=20, choices=ConsentSource.choices,
                                            blank=True, editable=False)
    do_not_call = models.BooleanField(_("do not call"), default=False)
    do_not_call_at = models.DateTimeField(_("do not call changed"), null=True, blank=True, editable=False)
    do_not_call_source = models.CharField(_("do not call source"), max_length=20, choices=ConsentSource.choices,
                                          blank=True, editable=False)
    email_normalized = models.CharField(max_length=254, blank=True, editable=False, db_index=True)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False, db_index=True)

    class Meta(Record.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            GinIndex(fields=["custom"], name="accounts_contact_custom"),
            models.Index(fields=["owner", "last_name"], name="contact_owner_name"),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="contact_last_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactRole(models.Model):
    """A contact's role on an account (the buying roles opportunities will use too). A contact belongs to one
    account and may play roles on any number; one role per account may be the primary contact's."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="roles")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="contact_roles")
    role = models.CharField(_("role"), max_length=30, choices=BuyingRole.choices)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")
        constraints = [
            models.UniqueConstraint(fields=["contact", "account", "role"], name="uniq_contact_role"),
            models.UniqueConstraint(fields=["account"], condition=Q(is_primary=True),
                                    name="one_primary_contact_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.get_role_display()}"
