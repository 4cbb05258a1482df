import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.customization.filters import CustomFieldsFilterSetMixin
from crm.customization.models import PicklistValue
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, Lead, LifecycleStage


class LeadFilter(CustomFieldsFilterSetMixin, django_filters.FilterSet):
    status = django_filters.ModelChoiceFilter(queryset=PicklistValue.objects.filter(picklist=STATUS_PICKLIST), label=_("Status"))
    source = django_filters.ModelChoiceFilter(queryset=PicklistValue.objects.filter(picklist=SOURCE_PICKLIST), label=_("Source"))
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices, label=_("Lifecycle stage"))
    country = django_filters.CharFilter(lookup_expr="iexact", label=_("Country"))
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", label=_("Score from"))
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", label=_("Score to"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"),
                                              widget=forms.DateInput(attrs={"type": "date"}))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created to"),
                                               widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Lead
        fields = ["status", "source", "lifecycle_stage", "owner", "rating", "country"]
