"""Custom fields as django-filter filters, added to any FilterSet by a mixin."""
from __future__ import annotations

import django_filters
from django import forms
from django.db.models import DecimalField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from crm.core.widgets import FastSelect, faster
from crm.customization.fields import _user_queryset, definitions
from crm.customization.models import FieldType

NUMERIC = {FieldType.NUMBER, FieldType.CURRENCY, FieldType.PERCENT}
TEXTUAL = {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL}


class NumericRangeFilter(django_filters.Filter):
    field_class = forms.DecimalField

    def __init__(self, *args, key: str, bound: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.key, self.bound = key, bound

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        alias = f"_cf_num_{self.key}"
        qs = qs.alias(**{alias: Cast(KeyTextTransform(self.key, "custom"), DecimalField(max_digits=30, decimal_places=8))})
        return qs.filter(**{f"{alias}__{self.bound}": value})


def custom_filters(record_type: str) -> dict[str, django_filters.Filter]:
    result: dict[str, django_filters.Filter] = {}
    for cf in definitions(record_type):
        label, path, t = cf.display_label, f"custom__{cf.name}", cf.field_type
        if t in TEXTUAL:
            result[cf.key] = django_filters.CharFilter(field_name=path, lookup_expr="icontains", label=label)
        elif t in NUMERIC:
            result[f"{cf.key}_min"] = NumericRangeFilter(key=cf.name, bound="gte", label=_("%(field)s from") % {"field": label})
            result[f"{cf.key}_max"] = NumericRangeFilter(key=cf.name, bound="lte", label=_("%(field)s to") % {"field": label})
        elif t in (FieldType.DATE, FieldType.DATETIME):
            widget = forms.DateInput(attrs={"type": "date"})
            result[f"{cf.key}_after"] = django_filters.DateFilter(
                field_name=path, lookup_expr="gte", label=_("%(field)s from") % {"field": label}, widget=widget,
                method=_iso_filter(cf.name, "gte"))
            result[f"{cf.key}_before"] = django_filters.DateFilter(
                field_name=path, lookup_expr="lte", label=_("%(field)s to") % {"field": label}, widget=widget,
                method=_iso_filter(cf.name, "lte", end_of_day=t == FieldType.DATETIME))
        elif t == FieldType.CHECKBOX:
            result[cf.key] = django_filters.BooleanFilter(field_name=path, label=label)
        elif t == FieldType.PICKLIST:
            result[cf.key] = django_filters.ChoiceFilter(field_name=path, choices=[(c, c) for c in cf.choices], label=label)
        elif t == FieldType.MULTI_PICKLIST:
            result[cf.key] = django_filters.ChoiceFilter(
                field_name=path, choices=[(c, c) for c in cf.choices], label=label,
                method=lambda qs, name, value, _n=cf.name: qs.filter(**{f"custom__{_n}__contains": [value]}) if value else qs)
        elif t == FieldType.USER:
            result[cf.key] = django_filters.ModelChoiceFilter(
                queryset=_user_queryset(), label=label,
                method=lambda qs, name, value, _n=cf.name: qs.filter(**{f"custom__{_n}": value.pk}) if value else qs)
    return result


def _iso_filter(name: str, bound: str, end_of_day: bool = False):
    def apply(qs, _field, value):
        if not value:
            return qs
        text = value.isoformat() + ("T23:59:59.999999" if end_of_day and bound == "lte" else "")
        return qs.filter(**{f"custom__{name}__{bound}": text})

    return apply


class CustomFieldsFilterSetMixin:
    """A FilterSet mixin: adds one filter (or a from/to pair) per custom field, and styles the form's
    widgets with Bootstrap classes so the `filter_fields` template filter can render it without crispy's
    per-field templates (a list page renders its filters on every request)."""

    record_type: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model
        record_type = self.record_type or f"{model._meta.app_label}.{model._meta.model_name}"
        hidden = getattr(self, "hidden_fields", ())
        for name, flt in custom_filters(record_type).items():
            if name.rsplit("_", 1)[0] in hidden or name in hidden:  # cf_x, or its cf_x_min / cf_x_after pair
                continue
            flt.model = model
            flt.parent = self
            self.filters[name] = flt
        for flt in self.filters.values():
            if isinstance(flt, django_filters.ChoiceFilter | django_filters.ModelChoiceFilter) and "widget" not in flt.extra:
                flt.extra["widget"] = FastSelect

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_styled", False):
            for field in form.fields.values():
                field.widget = widget = faster(field.widget)
                if isinstance(widget, forms.CheckboxInput):
                    css = "form-check-input"
                elif isinstance(widget, forms.Select):
                    css = "form-select form-select-sm"
                else:
                    css = "form-control form-control-sm"
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            form._styled = True
        return form
