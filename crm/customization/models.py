"""What admins configure without code: custom fields on any record type and
admin-editable picklists (lead source, lead status, ...)."""
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    # A field holding a number, and one holding an amount of money (not a document's number, nor a currency code).
    NUMBER = "number", pgettext_lazy("custom field type", "Number")
    CURRENCY = "currency", pgettext_lazy("custom field type", "Currency")
    PERCENT = "percent", _("Percent")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CHECKBOX = "checkbox", _("Checkbox")
    PICKLIST = "picklist", _("Picklist")
    MULTI_PICKLIST = "multi_picklist", _("Multi-select picklist")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    URL = "url", _("URL")
    USER = "user", _("User lookup")


class CustomField(models.Model):
    record_type = models.CharField(_("record type"), max_length=100, db_index=True)
    name = models.CharField(
        _("API name"), max_length=50,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", _("Lowercase letters, digits and underscores, starting with a letter."))],
        help_text=_("Stored key; cannot change once values exist."),
    )
    label = models.CharField(_("label"), max_length=100)
    label_translations = models.JSONField(_("translated labels"), default=dict, blank=True)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    default = models.CharField(_("default value"), max_length=255, blank=True)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("For picklists: one value per line."))
    section = models.CharField(_("section"), max_length=100, blank=True, default="")
    order = models.PositiveIntegerField(_("order"), default=0)
    show_in_list = models.BooleanField(_("show as list column"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record_type", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["record_type", "name"], name="uniq_custom_field_name")]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.display_label

    @property
    def key(self) -> str:
        """The name used in forms, filters, exports and field-level security."""
        return f"cf_{self.name}"

    @property
    def display_label(self) -> str:
        return self.label_translations.get(get_language() or "en") or self.label


class PicklistValue(models.Model):
    """One value of an admin-editable picklist such as lead source or lead status.
    `picklist` names the list ("leads.source"); `value` is the stored key."""

    picklist = models.CharField(_("picklist"), max_length=100, db_index=True)
    value = models.SlugField(_("value"), max_length=100)
    label = models.CharField(_("label"), max_length=100)
    label_translations = models.JSONField(_("translated labels"), default=dict, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Free per-list meaning, e.g. a lead status that counts as "closed".
    flags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["picklist", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["picklist", "value"], name="uniq_picklist_value")]
        verbose_name = _("picklist value")
        verbose_name_plural = _("picklist values")

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return self.label_translations.get(get_language() or "en") or self.label
