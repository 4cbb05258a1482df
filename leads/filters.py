from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access.models import User
from crm.customization.filters import CustomFieldsFilterSetMixin
from crm.customization.models import PicklistValue
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, Lead, LifecycleStage


class LeadFilter(CustomFieldsFilterSetMixin, django_filters.FilterSet):
    status = django_filters.ModelChoiceFilter(queryset=PicklistValue.objects.filter(picklist=STATUS_PICKLIST), label=_("Status"))
    source = django_filters.ModelChoiceFilter(queryset=PicklistValue.objects.filter(picklist=SOURCE_PICKLIST), label=_("Source"))
    owner = django_filters.ChoiceFilter(  # deactivated users too: their leads still need finding
        label=_("Owner"), choices=lambda: User.objects.choices(active_only=False))
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices, label=_("Lifecycle stage"))
    country = django_filters.CharFilter(method="filter_country", label=_("Country"))
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", label=_("Score from"))
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", label=_("Score to"))
    created_after = django_filters.DateFilter(method="filter_created_after", label=_("Created from"),
                                              widget=forms.DateInput(attrs={"type": "date"}))
    created_before = django_filters.DateFilter(method="filter_created_before", label=_("Created to"),
                                               widget=forms.DateInput(attrs={"type": "date"}))

    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Mine only"), widget=forms.CheckboxInput)
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open only (not converted or unqualified)"),
                                        widget=forms.CheckboxInput)
    unassigned = django_filters.BooleanFilter(method="filter_unassigned", label=_("Unassigned"), widget=forms.CheckboxInput)
    created_within = django_filters.ChoiceFilter(method="filter_created_within", label=_("Created"), choices=[
        ("today", _("Today")), ("week", _("This week")), ("month", _("This month"))])

    def filter_mine(self, qs, name, value):
        return qs.filter(owner=self.request.user) if value else qs

    def filter_unassigned(self, qs, name, value):
        return qs.filter(owner__isnull=True) if value else qs

    def filter_open(self, qs, name, value):
        return qs.exclude(lifecycle_stage__in=[LifecycleStage.CONVERTED, LifecycleStage.UNQUALIFIED]) if value else qs

    def filter_country(self, qs, name, value):
        # Stored as upper-case ISO codes: an exact match lets PostgreSQL use the column's statistics, where
        # UPPER(country) made it guess (and plan a manager's filtered list five times slower).
        return qs.filter(country=value.strip().upper()) if value.strip() else qs

    # Dates compared as the bounds of the user's days, not created_at::date, so the created_at index serves them.
    def filter_created_after(self, qs, name, value):
        return qs.filter(created_at__gte=_day_start(value))

    def filter_created_before(self, qs, name, value):
        return qs.filter(created_at__lt=_day_start(value + timedelta(days=1)))

    def filter_created_within(self, qs, name, value):
        today = timezone.localdate()
        start = {"today": today, "week": today - timedelta(days=today.weekday()), "month": today.replace(day=1)}.get(value)
        return qs.filter(created_at__gte=_day_start(start)) if start else qs

    class Meta:
        model = Lead
        fields = ["status", "source", "lifecycle_stage", "owner", "rating", "country"]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
