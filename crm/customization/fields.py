"""Custom fields at run time: one definition (`CustomField`) becomes a form
field, a validated JSON value, a display string, a filter, a list column and
an import/export column, with no per-field code anywhere.

Values live in `Record.custom[<name>]` as JSON: numbers as strings (exact
decimals), dates and date-times as ISO text, users as their id, multi-picklists
as lists.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.config_cache import ConfigCache
from crm.customization.models import CustomField, FieldType

# Every record type's definitions, per process, valid while the version token stays the same.
custom_fields_config = ConfigCache("custom-fields", size=64)


def definitions_version(record_type: str) -> str:
    """Changes whenever any custom field changes (read once per request with the other versions)."""
    return custom_fields_config.version()


def definitions_changed(record_type: str) -> None:
    """Called whenever a custom field of `record_type` is saved or deleted (now and after the commit)."""
    custom_fields_config.changed()


def definitions(record_type: str) -> list[CustomField]:
    """Active custom fields of a record type, in display order (cached per process
    until an admin changes them)."""
    return custom_fields_config.get(("definitions", record_type), lambda: list(
        CustomField.objects.filter(record_type=record_type, is_active=True).order_by("order", "id")))


def by_key(record_type: str) -> dict[str, CustomField]:
    return {cf.key: cf for cf in definitions(record_type)}


def validate_phone(value: str) -> None:
    try:
        number = phonenumbers.parse(value, None if value.strip().startswith("+") else "FI")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a valid phone number, e.g. +358 40 123 4567."))
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("Enter a valid phone number, e.g. +358 40 123 4567."))


def _user_queryset():
    from crm.access.models import User

    return User.objects.filter(is_active=True).order_by("first_name", "last_name")


def form_field(cf: CustomField) -> forms.Field:
    options = {"label": cf.display_label, "help_text": cf.help_text, "required": cf.required}
    choices = [(c, c) for c in cf.choices]
    t = cf.field_type
    if t == FieldType.TEXT:
        field = forms.CharField(max_length=255, **options)
    elif t == FieldType.LONG_TEXT:
        field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, **options)
    elif t == FieldType.NUMBER:
        field = forms.DecimalField(max_digits=20, decimal_places=6, **options)
    elif t == FieldType.CURRENCY:
        field = forms.DecimalField(max_digits=18, decimal_places=2, **options)
    elif t == FieldType.PERCENT:
        field = forms.DecimalField(max_digits=6, decimal_places=2,
                                   validators=[MinValueValidator(0), MaxValueValidator(100)], **options)
    elif t == FieldType.DATE:
        field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **options)
    elif t == FieldType.DATETIME:
        field = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                    **options)
    elif t == FieldType.CHECKBOX:
        field = forms.BooleanField(**options)
    elif t == FieldType.PICKLIST:
        field = forms.ChoiceField(choices=[("", "---------")] + choices, **options)
    elif t == FieldType.MULTI_PICKLIST:
        field = forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **options)
    elif t == FieldType.EMAIL:
        field = forms.EmailField(**options)
    elif t == FieldType.PHONE:
        field = forms.CharField(max_length=50, validators=[validate_phone], **options)
    elif t == FieldType.URL:
        field = forms.URLField(max_length=500, assume_scheme="https", **options)
    elif t == FieldType.USER:
        field = forms.ModelChoiceField(queryset=_user_queryset(), **options)
    else:  # pragma: no cover - every FieldType is handled above
        raise ValueError(t)
    field.custom_field = cf
    return field


def default_value(cf: CustomField):
    """The definition's default as a Python value (None when unset or invalid)."""
    if cf.default in ("", None):
        return None
    if cf.field_type == FieldType.MULTI_PICKLIST:
        return [v.strip() for v in cf.default.split(",") if v.strip()]
    try:
        return form_field(cf).clean(cf.default) if cf.field_type != FieldType.USER else None
    except ValidationError:
        return None


def to_json(cf: CustomField, value):
    if value in (None, "", []):
        return None if cf.field_type != FieldType.CHECKBOX else bool(value)
    t = cf.field_type
    if t in (FieldType.NUMBER, FieldType.CURRENCY, FieldType.PERCENT):
        return str(Decimal(value).normalize()) if Decimal(value) != Decimal(value).to_integral() else str(int(Decimal(value)))
    if t == FieldType.DATE:
        return value.isoformat()
    if t == FieldType.DATETIME:
        aware = timezone.make_aware(value) if timezone.is_naive(value) else value
        return aware.astimezone(timezone.utc).isoformat()
    if t == FieldType.CHECKBOX:
        return bool(value)
    if t == FieldType.USER:
        return value.pk if hasattr(value, "pk") else int(value)
    if t == FieldType.MULTI_PICKLIST:
        return list(value)
    return str(value)


def from_json(cf: CustomField, raw):
    """The stored value as Python, tolerant of bad or outdated data (None)."""
    if raw is None or raw == "":
        return None
    t = cf.field_type
    try:
        if t in (FieldType.NUMBER, FieldType.CURRENCY, FieldType.PERCENT):
            return Decimal(str(raw))
        if t == FieldType.DATE:
            return parse_date(str(raw))
        if t == FieldType.DATETIME:
            return parse_datetime(str(raw))
        if t == FieldType.CHECKBOX:
            return bool(raw)
        if t == FieldType.USER:
            return int(raw)
        if t == FieldType.MULTI_PICKLIST:
            return list(raw) if isinstance(raw, list) else [str(raw)]
    except (InvalidOperation, ValueError, TypeError):
        return None
    return str(raw)


def display(cf: CustomField, raw, *, users: dict | None = None) -> str:
    from crm.core import formatting

    value = from_json(cf, raw)
    t = cf.field_type
    if t == FieldType.CHECKBOX:
        return _("Yes") if value else _("No")
    if value is None:
        return ""
    if t == FieldType.DATE:
        return formatting.format_date(value)
    if t == FieldType.DATETIME:
        return formatting.format_datetime(value)
    if t in (FieldType.NUMBER,):
        return formatting.format_number(value)
    if t == FieldType.CURRENCY:
        return formatting.format_money(value)
    if t == FieldType.PERCENT:
        return formatting.format_percent(value)
    if t == FieldType.MULTI_PICKLIST:
        return ", ".join(value)
    if t == FieldType.USER:
        if users is not None and value in users:
            return str(users[value])
        from crm.access.models import User

        user = User.objects.filter(pk=value).first()
        return str(user) if user else ""
    return str(value)


def validate_values(record_type: str, data: dict, fields: list[CustomField] | None = None) -> tuple[dict, dict]:
    """Raw strings keyed by cf_<name> (or <name>) → (custom JSON values, {key: [errors]}),
    with the same rules as the forms. Used by imports and the public web form. `fields`: the record
    type's definitions when the caller already holds them (an import, row after row)."""
    values, errors = {}, {}
    for cf in definitions(record_type) if fields is None else fields:
        if cf.key in data:
            raw = data[cf.key]
        elif cf.name in data:
            raw = data[cf.name]
        else:
            continue
        field = form_field(cf)
        if cf.field_type == FieldType.MULTI_PICKLIST and isinstance(raw, str):
            raw = [v.strip() for v in raw.split(",") if v.strip()]
        if cf.field_type == FieldType.CHECKBOX and isinstance(raw, str):
            raw = raw.strip().lower() in ("1", "true", "yes", "y", "x", "on", "kyllä", "بله")
        try:
            values[cf.name] = to_json(cf, field.clean(raw))
        except ValidationError as exc:
            errors[cf.key] = [f"{cf.display_label}: {m}" for m in exc.messages]
    return values, errors


class CustomFieldsFormMixin:
    """For ModelForms of Record models: adds a form field per custom field
    (named cf_<name>), applies field-level security for `user`, and writes the
    cleaned values into `instance.custom` on save."""

    record_type: str = ""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        meta = self._meta.model._meta
        self.record_type = self.record_type or f"{meta.app_label}.{meta.model_name}"
        self.custom_fields = definitions(self.record_type)
        is_new = self.instance.pk is None
        stored = self.instance.custom or {}
        for cf in self.custom_fields:
            field = form_field(cf)
            if is_new and cf.name not in stored:
                field.initial = default_value(cf)
            else:
                value = from_json(cf, stored.get(cf.name))
                field.initial = value
            self.fields[cf.key] = field
        if user is not None:
            from crm.access.fls import apply_to_form

            apply_to_form(self, user, self.record_type)

    def custom_field_names(self) -> list[str]:
        return [cf.key for cf in self.custom_fields if cf.key in self.fields]

    def custom_sections(self) -> list[tuple[str, list[str]]]:
        sections: dict[str, list[str]] = {}
        for cf in self.custom_fields:
            if cf.key in self.fields:
                sections.setdefault(cf.section or str(gettext_lazy("Additional information")), []).append(cf.key)
        return list(sections.items())

    def _post_clean(self):
        super()._post_clean()
        custom = dict(self.instance.custom or {})
        for cf in self.custom_fields:
            field = self.fields.get(cf.key)
            # Hidden, read-only (disabled) and invalid fields keep what is stored.
            if field is None or field.disabled or cf.key not in self.cleaned_data:
                continue
            value = to_json(cf, self.cleaned_data[cf.key])
            if value is None:
                custom.pop(cf.name, None)
            else:
                custom[cf.name] = value
        self.instance.custom = custom
