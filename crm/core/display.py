"""Labels and display values of any record's fields, standard or custom,
honouring field-level security."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.hashable import make_hashable
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext as _

from crm.core import formatting


def _record_type_key(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def field_label(model, name: str) -> str:
    if name.startswith("cf_"):
        from crm.customization.fields import by_key

        cf = by_key(_record_type_key(model)).get(name)
        return cf.display_label if cf else name
    try:
        return capfirst(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def format_value(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return formatting.format_datetime(value)
    if isinstance(value, date):
        return formatting.format_date(value)
    if isinstance(value, (int, Decimal, float)):
        return formatting.format_number(value)
    return str(value)


_CHOICE_LABELS: dict[tuple, dict] = {}


def _choice_labels(field) -> dict:
    """A field's choice labels in the active language, built once: Django's get_FOO_display() rebuilds the
    mapping on every call, which costs a long export dearly (a country field has 250 choices)."""
    key = (field, get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        labels = _CHOICE_LABELS[key] = {make_hashable(k): str(v) for k, v in field.flatchoices}
    return labels


def field_value(record, name: str) -> str:
    if name.startswith("cf_"):
        from crm.customization.fields import by_key, display

        cf = by_key(_record_type_key(type(record))).get(name)
        return display(cf, (record.custom or {}).get(cf.name)) if cf else ""
    try:
        field = record._meta.get_field(name)
    except FieldDoesNotExist:
        return format_value(getattr(record, name, ""))
    if field.choices:
        value = getattr(record, field.attname)
        return _choice_labels(field).get(make_hashable(value), "" if value is None else str(value))
    if isinstance(field, models.ForeignKey):
        related = getattr(record, name)
        return str(related) if related is not None else ""
    if isinstance(field, models.BooleanField) and getattr(record, name) is None:
        return ""
    return format_value(getattr(record, name))


def field_html(record, name: str) -> str:
    """`field_value` for a page: escaped, and isolated left to right where the value reads that way in any
    language (phones, emails, web addresses, codes, numbers), so a Persian page does not reverse it."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    from crm.lists.columns import LTR_CUSTOM, LTR_NAMES, NUMERIC_CUSTOM, ltr

    text = escape(field_value(record, name))
    if name.startswith("cf_"):
        from crm.customization.fields import by_key

        cf = by_key(_record_type_key(type(record))).get(name)
        isolate = cf is not None and (cf.field_type in LTR_CUSTOM or cf.field_type in NUMERIC_CUSTOM)
    else:
        try:
            field = record._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        isolate = field is not None and not field.choices and (
            name in LTR_NAMES or isinstance(field, (models.EmailField, models.URLField, models.IntegerField,
                                                   models.DecimalField, models.FloatField)))
    return mark_safe(ltr(text) if isolate else text)


def detail_rows(record, names, user) -> list[tuple[str, str, str]]:
    from crm.access.fls import hidden_fields

    hidden = hidden_fields(user, _record_type_key(type(record)))
    return [(field_label(type(record), n), field_html(record, n), n) for n in names if n not in hidden]


def custom_sections(record, user) -> list[tuple[str, list[tuple[str, str, str]]]]:
    from crm.access.fls import hidden_fields
    from crm.customization.fields import definitions, display

    rt = _record_type_key(type(record))
    hidden = hidden_fields(user, rt)
    sections: dict[str, list] = {}
    for cf in definitions(rt):
        if cf.key in hidden:
            continue
        sections.setdefault(cf.section or _("Additional information"), []).append(
            (cf.display_label, field_html(record, cf.key), cf.key))
    return list(sections.items())
