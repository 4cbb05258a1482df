"""The e-mail template form: name, record type, and a subject and message per language."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.activities.forms import RichTextWidget
from crm.mail import services
from crm.mail.models import EmailTemplate


def record_type_choices() -> list[tuple[str, str]]:
    from crm.core import records

    return [(rt.key, str(rt.label)) for rt in records.all_types()]


class EmailTemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    record_type = forms.ChoiceField(label=gettext_lazy("Used on"), help_text=gettext_lazy(
        "The type of record whose fields the merge fields may name."))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=255, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, template: EmailTemplate | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        self.fields["record_type"].choices = record_type_choices()
        from django.urls import reverse

        # Choosing another type shows its merge fields beside the form (htmx; without script, after saving).
        self.fields["record_type"].widget.attrs.update({
            "class": "form-select", "hx-get": reverse("mail:merge_fields"), "hx-trigger": "change",
            "hx-target": "#merge-fields", "hx-swap": "outerHTML", "hx-include": "this"})
        variants = {v.language: v for v in template.variants.all()} if template is not None else {}
        if template is not None:
            self.initial.update(name=template.name, record_type=template.record_type,
                                description=template.description, is_active=template.is_active)
        for code, label in settings.LANGUAGES:
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": _(label)}, max_length=255, required=False)
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Message (%(language)s)") % {"language": _(label)}, required=False,
                widget=RichTextWidget(attrs={"rows": 8}))
            if code in variants:
                self.initial[f"subject_{code}"] = variants[code].subject
                self.initial[f"body_{code}"] = variants[code].body_html

    @property
    def languages(self):
        return [(code, label, self[f"subject_{code}"], self[f"body_{code}"]) for code, label in settings.LANGUAGES]

    def variants(self) -> dict[str, tuple[str, str]]:
        from crm.activities import richtext

        return {code: (self.cleaned_data.get(f"subject_{code}") or "",
                       richtext.clean_input(self.cleaned_data.get(f"body_{code}") or ""))
                for code, _label in settings.LANGUAGES}

    def clean(self):
        cleaned = super().clean()
        record_type = cleaned.get("record_type")
        if not record_type:
            return cleaned
        written = 0
        for code, (subject, body) in self.variants().items():
            if not (subject or body):
                continue
            written += 1
            if not subject.strip():
                self.add_error(f"subject_{code}", _("Enter a subject for this language, or leave the message empty too."))
            for error in services.template_errors(record_type=record_type, subject=subject, body_html=body):
                self.add_error(f"body_{code}", error)
        if not written:
            raise ValidationError(_("Write the template in at least one language."))
        name = cleaned.get("name")
        clash = EmailTemplate.objects.filter(record_type=record_type, name=name)
        if self.template is not None:
            clash = clash.exclude(pk=self.template.pk)
        if name and clash.exists():
            self.add_error("name", _("A template of this type already has this name."))
        return cleaned
