"""Admin forms for custom field definitions and picklist values."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from crm.customization.models import CustomField, FieldType, PicklistValue

PICKLIST_TYPES = (FieldType.PICKLIST, FieldType.MULTI_PICKLIST)
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def validate_default(field_type: str, default: str, choices: list[str]) -> None:
    """Raise ValidationError when `default` is not a valid value of `field_type`."""
    if not default:
        return
    if field_type in (FieldType.NUMBER, FieldType.CURRENCY, FieldType.PERCENT):
        try:
            Decimal(default)
        except InvalidOperation:
            raise ValidationError(_("The default must be a number, such as 12 or 12.5.")) from None
    elif field_type == FieldType.DATE:
        try:
            ok = parse_date(default) is not None
        except ValueError:
            ok = False
        if not ok and default.lower() != "today":
            raise ValidationError(_("The default must be a date as YYYY-MM-DD, or “today”."))
    elif field_type == FieldType.DATETIME:
        try:
            ok = parse_datetime(default) is not None or parse_date(default) is not None
        except ValueError:
            ok = False
        if not ok and default.lower() != "now":
            raise ValidationError(_("The default must be a date and time as YYYY-MM-DD HH:MM, or “now”."))
    elif field_type == FieldType.CHECKBOX:
        if default.lower() not in TRUE_WORDS | FALSE_WORDS:
            raise ValidationError(_("The default of a checkbox is “true” or “false”."))
    elif field_type == FieldType.PICKLIST:
        if default not in choices:
            raise ValidationError(_("The default must be one of the choices."))
    elif field_type == FieldType.MULTI_PICKLIST:
        missing = [v.strip() for v in default.split(",") if v.strip() and v.strip() not in choices]
        if missing:
            raise ValidationError(_("Not among the choices: %(values)s") % {"values": ", ".join(missing)})
    elif field_type == FieldType.EMAIL:
        try:
            validate_email(default)
        except ValidationError:
            raise ValidationError(_("The default must be a valid email address.")) from None
    elif field_type == FieldType.URL:
        try:
            URLValidator()(default)
        except ValidationError:
            raise ValidationError(_("The default must be a valid URL, starting with http:// or https://.")) from None
    elif field_type == FieldType.USER:
        raise ValidationError(_("User lookups cannot have a default."))


class CustomFieldForm(forms.ModelForm):
    label_fa = forms.CharField(label=_("Label in Persian"), max_length=100, required=False)
    label_fi = forms.CharField(label=_("Label in Finnish"), max_length=100, required=False)
    choices_text = forms.CharField(
        label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One value per line. Required for picklists."))

    class Meta:
        model = CustomField
        fields = ["name", "label", "label_fa", "label_fi", "field_type", "required", "default", "help_text",
                  "choices_text", "section", "order", "show_in_list", "is_active"]

    def __init__(self, *args, record_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.record_type = record_type
        translations = self.instance.label_translations or {}
        self.fields["label_fa"].initial = translations.get("fa", "")
        self.fields["label_fi"].initial = translations.get("fi", "")
        self.fields["choices_text"].initial = "\n".join(self.instance.choices or [])
        if self.instance.pk:
            # The API name keys stored values and field-level security rows: fixed once created.
            self.fields["name"].disabled = True
            self.fields["name"].help_text = _("The API name cannot change.")
        else:
            self.fields["name"].help_text = _("Lowercase letters, digits and underscores. Cannot change later.")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not self.instance.pk and CustomField.objects.filter(record_type=self.record_type, name=name).exists():
            raise ValidationError(_("This record type already has a field with this API name."))
        return name

    def clean(self):
        data = super().clean()
        choices = []
        for line in (data.get("choices_text") or "").splitlines():
            if line.strip() and line.strip() not in choices:
                choices.append(line.strip())
        data["choices"] = choices
        field_type = data.get("field_type")
        if field_type in PICKLIST_TYPES and not choices:
            self.add_error("choices_text", _("Picklists need at least one choice."))
        if field_type and "default" in data:
            try:
                validate_default(field_type, data["default"].strip(), choices)
            except ValidationError as error:
                self.add_error("default", error)
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        translations = {lang: data[f"label_{lang}"].strip() for lang in ("fa", "fi") if data[f"label_{lang}"].strip()}
        return {
            "label": data["label"], "label_translations": translations, "field_type": data["field_type"],
            "required": data["required"], "default": data["default"].strip(), "help_text": data["help_text"],
            "choices": data["choices"] if data["field_type"] in PICKLIST_TYPES else [],
            "section": data["section"], "order": data["order"], "show_in_list": data["show_in_list"],
            "is_active": data["is_active"],
        }


class PicklistValueAddForm(forms.ModelForm):
    label_fa = forms.CharField(label=_("Label in Persian"), max_length=100, required=False)
    label_fi = forms.CharField(label=_("Label in Finnish"), max_length=100, required=False)

    class Meta:
        model = PicklistValue
        fields = ["value", "label", "label_fa", "label_fi"]

    def __init__(self, *args, picklist: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.picklist = picklist

    def clean_value(self):
        value = self.cleaned_data["value"]
        if PicklistValue.objects.filter(picklist=self.picklist, value=value).exists():
            raise ValidationError(_("This list already has this value."))
        return value

    def translations(self) -> dict:
        return {lang: self.cleaned_data[f"label_{lang}"].strip()
                for lang in ("fa", "fi") if self.cleaned_data[f"label_{lang}"].strip()}


class PicklistValueEditForm(forms.ModelForm):
    label_fa = forms.CharField(label=_("Label in Persian"), max_length=100, required=False)
    label_fi = forms.CharField(label=_("Label in Finnish"), max_length=100, required=False)

    class Meta:
        model = PicklistValue
        fields = ["label", "label_fa", "label_fi", "order", "is_default", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        translations = self.instance.label_translations or {}
        self.fields["label_fa"].initial = translations.get("fa", "")
        self.fields["label_fi"].initial = translations.get("fi", "")
        # Rendered as a table row: each input names its column and value for screen readers.
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control form-control-sm"
            field.widget.attrs.update({"class": css, "aria-label": f"{field.label}: {self.instance.value}"})

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "id": self.instance.pk, "label": data["label"], "order": data["order"],
            "is_default": data["is_default"], "is_active": data["is_active"],
            "label_translations": {lang: data[f"label_{lang}"].strip()
                                   for lang in ("fa", "fi") if data[f"label_{lang}"].strip()},
        }


class BasePicklistFormSet(forms.BaseModelFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        defaults = [f for f in self.forms if f.cleaned_data.get("is_default")]
        if len(defaults) > 1:
            raise ValidationError(_("Only one value can be the default."))
        for f in defaults:
            if not f.cleaned_data.get("is_active"):
                raise ValidationError(_("An inactive value cannot be the default."))


PicklistFormSet = forms.modelformset_factory(
    PicklistValue, form=PicklistValueEditForm, formset=BasePicklistFormSet, extra=0, can_delete=False)
