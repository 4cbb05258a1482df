"""A list's filters: a django-filter FilterSet built from the record type's
registration. Each field named in ListSpec.filters gets the filter its type calls
for (choices and picklists as selects, users with "mine" and "unassigned", dates
and numbers as ranges, lookups of other records through visibility), custom
fields come from their definitions, and fields hidden from the reader get none."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.core.widgets import FastSelect, LookupSelect
from crm.customization.filters import CustomFieldsFilterSetMixin
from crm.lists.spec import extra_filters

DATE_INPUT = {"type": "date"}


def day_start(day: date) -> datetime:
    """The start of `day` in the reader's time zone: dates compare as bounds, so the index serves them."""
    return timezone.make_aware(datetime.combine(day, time.min))


class RecordFilterSet(CustomFieldsFilterSetMixin, django_filters.FilterSet):
    """The filters every record list has: the creation date by period, and what the type declares."""

    created_within = django_filters.ChoiceFilter(method="filter_created_within", label=_("Created"), choices=[
        ("today", _("Today")), ("week", _("This week")), ("month", _("This month"))])
    created_within.fls_field = "created_at"

    hidden_fields: frozenset[str] = frozenset()

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        # The type's own filters name the field they test (`fls_field`): a filter on a hidden field would
        # tell its value by what it lets through.
        for name in [n for n, f in self.filters.items() if getattr(f, "fls_field", None) in self.hidden_fields]:
            del self.filters[name]
        data = self.data or {}
        for name, flt in self.filters.items():
            queryset = getattr(flt, "lookup_queryset", None)
            if queryset is not None:
                # Only the records the reader may see can be picked; with nothing picked there is nothing to
                # check or show, and visibility (a query of its own) is not worked out.
                flt.queryset = queryset.visible_to(user) if data.get(name) else queryset.none()

    def filter_created_within(self, qs, name, value):
        today = timezone.localdate()
        start = {"today": today, "week": today - timedelta(days=today.weekday()), "month": today.replace(day=1)}.get(value)
        return qs.filter(created_at__gte=day_start(start)) if start else qs

    def filter_mine(self, qs, name, value):
        return qs.filter(owner=self.user) if value else qs

    def filter_unassigned(self, qs, name, value):
        return qs.filter(owner__isnull=True) if value else qs


def _range_label(label, bound: str) -> str:
    return (_("%(field)s from") if bound == "from" else _("%(field)s to")) % {"field": capfirst(label)}


def filters_for_field(field: models.Field) -> dict[str, django_filters.Filter]:
    """The filters one model field gets, by its type."""
    name, label = field.name, capfirst(field.verbose_name)
    if field.choices:
        return {name: django_filters.ChoiceFilter(field_name=name, choices=field.choices, label=label, widget=FastSelect)}
    if field.many_to_one:
        related = field.related_model
        if related._meta.label == settings.AUTH_USER_MODEL:
            from crm.access.models import User

            result = {name: django_filters.ChoiceFilter(  # deactivated users too: their records still need finding
                field_name=name, label=label, choices=lambda: User.objects.choices(active_only=False), widget=FastSelect)}
            if name == "owner":
                result["mine"] = django_filters.BooleanFilter(method="filter_mine", label=_("Mine only"),
                                                              widget=forms.CheckboxInput)
                result["unassigned"] = django_filters.BooleanFilter(method="filter_unassigned", label=_("Unassigned"),
                                                                    widget=forms.CheckboxInput)
            return result
        if related._meta.label == "customization.PicklistValue":
            from crm.customization import picklists

            picklist = (field.remote_field.limit_choices_to or {})["picklist"]
            return {name: django_filters.ChoiceFilter(  # retired values too: records still carry them
                field_name=name, label=label, choices=lambda: picklists.choices(picklist, active_only=False),
                widget=FastSelect)}
        if not hasattr(related._default_manager, "visible_to"):  # configuration (pipelines, stages): a few rows
            return {name: django_filters.ModelChoiceFilter(field_name=name, queryset=related._default_manager.all(),
                                                           label=label, widget=FastSelect)}
        # Business records: only the chosen one is rendered, the rest come from the lookup as the user types.
        flt = django_filters.ModelChoiceFilter(field_name=name, queryset=related._default_manager.all(), label=label,
                                               widget=LookupSelect)
        flt.lookup_queryset = related._default_manager.all()
        return {name: flt}
    if isinstance(field, models.BooleanField):
        return {name: django_filters.BooleanFilter(field_name=name, label=label, widget=_yes_no())}
    if isinstance(field, models.DateTimeField):
        stem = name.removesuffix("_at")  # created_at → created_after / created_before
        return {f"{stem}_after": django_filters.DateFilter(method=_day_bound(name, "gte"), label=_range_label(label, "from"),
                                                           widget=forms.DateInput(attrs=DATE_INPUT)),
                f"{stem}_before": django_filters.DateFilter(method=_day_bound(name, "lt"), label=_range_label(label, "to"),
                                                            widget=forms.DateInput(attrs=DATE_INPUT))}
    if isinstance(field, models.DateField):
        return {f"{name}_after": django_filters.DateFilter(field_name=name, lookup_expr="gte",
                                                           label=_range_label(label, "from"), widget=forms.DateInput(attrs=DATE_INPUT)),
                f"{name}_before": django_filters.DateFilter(field_name=name, lookup_expr="lte",
                                                            label=_range_label(label, "to"), widget=forms.DateInput(attrs=DATE_INPUT))}
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return {f"{name}_min": django_filters.NumberFilter(field_name=name, lookup_expr="gte", label=_range_label(label, "from")),
                f"{name}_max": django_filters.NumberFilter(field_name=name, lookup_expr="lte", label=_range_label(label, "to"))}
    if isinstance(field, models.CharField) and field.max_length and field.max_length <= 3:
        # Codes (countries, currencies) are stored upper case: an exact match the column's statistics serve.
        return {name: django_filters.CharFilter(field_name=name, method=_upper_exact(name), label=label)}
    return {name: django_filters.CharFilter(field_name=name, lookup_expr="icontains", label=label)}


def _yes_no():
    return forms.Select(choices=[("", "---------"), ("true", _("Yes")), ("false", _("No"))])


def _day_bound(name: str, lookup: str):
    def apply(qs, _name, value):
        if not value:
            return qs
        if lookup != "gte" and value >= date.max:  # "to 31.12.9999": no day after it, and no bound either
            return qs
        day = value if lookup == "gte" else value + timedelta(days=1)
        return qs.filter(**{f"{name}__{lookup}": day_start(day)})
    return apply


def _upper_exact(name: str):
    def apply(qs, _name, value):
        value = (value or "").strip().upper()
        return qs.filter(**{name: value}) if value else qs
    return apply


_classes: dict[tuple, type] = {}


def filterset_class(record_type, hidden: frozenset[str]) -> type[RecordFilterSet]:
    """The FilterSet class of `record_type` for a reader with these hidden fields (built once per combination)."""
    key = (record_type.key, hidden)
    cls = _classes.get(key)
    if cls is None:
        spec, model = record_type.list, record_type.model
        attrs: dict = {}
        for name in spec.filters:
            if name in hidden:
                continue
            attrs.update(filters_for_field(model._meta.get_field(name)))
        for name, make in extra_filters(record_type.key).items():  # other apps' filters (a segment)
            attrs[name] = make()
        base = spec.filterset or RecordFilterSet
        if not issubclass(base, RecordFilterSet):
            raise TypeError(f"{base.__name__} must inherit crm.lists.filters.RecordFilterSet")
        attrs["Meta"] = type("Meta", (), {"model": model, "fields": []})
        attrs["record_type"] = record_type.key
        attrs["hidden_fields"] = hidden
        cls = type(f"{model.__name__}ListFilter", (base,), attrs)
        # The type's fields first, in the order it lists them; the shared ones (created this week) after.
        own = [n for n in cls.base_filters if n in attrs or n in (spec.filterset.declared_filters if spec.filterset else {})]
        cls.base_filters = {n: cls.base_filters[n] for n in [*own, *(n for n in cls.base_filters if n not in own)]}
        _classes[key] = cls
    return cls

