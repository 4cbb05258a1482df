"""Customer accounts (companies) and contacts (people). Not user logins: those are crm.access."""
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
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
    billing_street = models.CharField(_("billing street"), max_length=255, blank=True)
    billing_city = models.CharField(_("billing city"), max_length=100, blank=True)
    billing_state = models.CharField(_("billing state"), max_length=100, blank=True)
    billing_postal_code = models.CharField(_("billing postal code"), max_length=20, blank=True)
    billing_country = models.CharField(_("billing country"), max_length=2, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(_("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False, db_index=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name", "id"]
        indexes = [
            GinIndex(fields=["custom"], name="accounts_account_custom"),
            models.Index(fields=["owner", "name"], name="account_owner_name"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="account_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name


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
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=50, blank=True)
    mailing_street = models.CharField(_("mailing street"), max_length=255, blank=True)
    mailing_city = models.CharField(_("mailing city"), max_length=100, blank=True)
    mailing_postal_code = models.CharField(_("mailing postal code"), max_length=20, blank=True)
    mailing_country = models.CharField(_("mailing country"), max_length=2, blank=True)
    birthdate = models.DateField(_("birthdate"), null=True, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    email_opt_out = models.BooleanField(_("email opt-out"), default=False)
    do_not_call = models.BooleanField(_("do not call"), default=False)
    email_normalized = models.CharField(max_length=254, blank=True, editable=False, db_index=True)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False, db_index=True)

    class Meta:
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
    """A contact's role on an account (and later on opportunities)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="roles")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contact_roles")
    role = models.CharField(_("role"), max_length=30, choices=BuyingRole.choices)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "account", "role"], name="uniq_contact_role")]
