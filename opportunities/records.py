"""How opportunities take part in the platform's shared machinery: the list
(columns, filters, search, views, export). Registered from OpportunitiesConfig.ready()."""
from __future__ import annotations

from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from crm.lists.columns import money_cell
from crm.lists.filters import RecordFilterSet
from crm.lists.spec import ListSpec, View


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


class OpportunityFilter(RecordFilterSet):
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open only (not won or lost)"),
                                        widget=forms.CheckboxInput)
    open.fls_field = "stage"
    closing = django_filters.ChoiceFilter(method="filter_closing", label=_("Closing"), choices=[
        ("overdue", _("Overdue")), ("month", _("This month")), ("next_month", _("Next month")),
        ("quarter", _("This quarter"))])
    closing.fls_field = "close_date"

    def filter_open(self, qs, name, value):
        return qs.filter(stage__outcome="open") if value else qs

    def filter_closing(self, qs, name, value):
        today = timezone.localdate()
        if value == "overdue":
            return qs.filter(close_date__lt=today, stage__outcome="open")
        if value == "month":
            start, end = today.replace(day=1), _month_end(today)
        elif value == "next_month":
            start = _month_end(today) + timedelta(days=1)
            end = _month_end(start)
        elif value == "quarter":
            start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
            end = _month_end(start.replace(month=start.month + 2))
        else:
            return qs
        return qs.filter(close_date__gte=start, close_date__lte=end)


LIST = ListSpec(
    columns=("name", "account", "stage", "amount", "probability", "close_date", "owner"),
    optional_columns=("contact", "pipeline", "currency", "lead_source", "campaign", "created_at", "updated_at"),
    default_sort="close_date",
    # Stages run in their pipeline's order, not alphabetically.
    sorts={"stage": lambda: [F("pipeline__order"), F("stage__order")]},
    search_fields=("name", "account__name"),
    filters=("pipeline", "stage", "owner", "account", "contact", "amount", "probability", "close_date", "created_at"),
    filterset=OpportunityFilter,
    views=(View("my-open", _("My open opportunities"), "mine=1&open=1"),
           View("closing-month", _("Closing this month"), "open=1&closing=month")),
    export_fields=("name", "account", "contact", "pipeline", "stage", "amount", "currency", "probability", "close_date",
                   "lead_source", "campaign", "description", "owner", "created_at"),
    cells={"amount": money_cell("amount", "currency")},
    load=("name", "currency"),
    create_label=_("New opportunity"),
    count_text=ngettext_lazy("%(n)s opportunity", "%(n)s opportunities", "count"),
    count_capped=_("More than %(n)s opportunities: filter or search to narrow the list."),
    empty_text=_("No opportunities match."),
)
