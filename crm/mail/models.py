"""E-mail templates: a name, the record type whose fields they may use, and a subject and body per language
(English, Persian, Finnish), the variant chosen by the recipient's language. Reps send them from record
pages; automation and campaigns send them through crm.mail.services."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailTemplate(models.Model):
    name = models.CharField(_("name"), max_length=150)
    # A key of the record-type registry ("leads.lead"): the fields its merge fields may name.
    record_type = models.CharField(_("record type"), max_length=100, db_index=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive templates are kept but not offered when writing an e-mail."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "name"]
        constraints = [models.UniqueConstraint(fields=["record_type", "name"], name="uniq_email_template_name")]
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")

    def __str__(self) -> str:
        return self.name


class EmailTemplateVariant(models.Model):
    """One language of a template. The body is sanitized HTML (crm.activities.richtext) with merge fields."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=255)
    body_html = models.TextField(_("body"))

    class Meta:
        ordering = ["template", "language"]
        constraints = [models.UniqueConstraint(fields=["template", "language"], name="uniq_email_template_language")]
        verbose_name = _("template language")
        verbose_name_plural = _("template languages")

    def __str__(self) -> str:
        return f"{self.template} ({self.language})"
