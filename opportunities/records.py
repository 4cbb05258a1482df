"""How opportunities take part in the platform's shared machinery: the list
(columns, filters, search, views, export). Registered from OpportunitiesConfig.ready()."""
from __future__ import annotations

from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from crm.lists.columns import money_cell
from crm.lists.filters import RecordFilterSet, day_start
from crm.lists.spec import ListSpec, View


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _closed(qs, lookup: str, moment):
    """Won or lost deals by when they closed: closed_at, or for rows written around the services (old
    imports) the time they entered their closed stage, as opportunities.analytics dates them."""
    return qs.exclude(stage__outcome="open").filter(
        Q(**{f"closed_at__{lookup}": moment}) | Q(closed_at__isnull=True, **{f"stage_entered_at__{lookup}": moment}))


class OpportunityFilter(RecordFilterSet):
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open only (not won or lost)"),
                                        widget=forms.CheckboxInput)
    open.fls_field = "stage"
    closing = django_filters.ChoiceFilter(method="filter_closing", label=_("Closing"), choices=[
        ("overdue", _("Overdue")), ("month", _("This month")), ("next_month", _("Next month")),
        ("quarter", _("This quarter"))])
    closing.fls_field = "close_date"

    team = django_filters.ModelChoiceFilter(method="filter_team", label=_("Owner's team"), queryset=None)
    team.fls_field = "owner"
    won = django_filters.BooleanFilter(method="filter_won", label=_("Won only"), widget=forms.CheckboxInput)
    won.fls_field = "stage"
    lost = django_filters.BooleanFilter(method="filter_lost", label=_("Lost only"), widget=forms.CheckboxInput)
    lost.fls_field = "stage"
    # When a won or lost deal closed (the dashboard's win-rate figures link here).
    closed_after = django_filters.DateFilter(method="filter_closed_after", label=_("Closed from"),
                                             widget=forms.DateInput(attrs={"type": "date"}))
    closed_after.fls_field = "stage"
    closed_before = django_filters.DateFilter(method="filter_closed_before", label=_("Closed to"),
                                              widget=forms.DateInput(attrs={"type": "date"}))
    closed_before.fls_field = "stage"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "team" in self.filters:
            from crm.access.models import Team

            self.filters["team"].queryset = Team.objects.order_by("name")

    def filter_team(self, qs, name, value):
        return qs.filter(owner__teams=value) if value else qs

    def filter_won(self, qs, name, value):
        return qs.filter(stage__outcome="won") if value else qs

    def filter_lost(self, qs, name, value):
        return qs.filter(stage__outcome="lost") if value else qs

    def filter_open(self, qs, name, value):
        return qs.filter(stage__outcome="open") if value else qs

    def filter_closed_after(self, qs, name, value):
        return _closed(qs, "gte", day_start(value)) if value else qs

    def filter_closed_before(self, qs, name, value):
        if not value:
            return qs
        if value >= date.max:  # no day after it: every closed deal closed before
            return qs.exclude(stage__outcome="open")
        return _closed(qs, "lt", day_start(value + timedelta(days=1)))

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


def _cached_choices():
    """The version token of the pipelines, stages and teams the list's filters offer (opportunities.choices_cache)."""
    from opportunities.choices_cache import cached_choices

    return cached_choices()


LIST = ListSpec(
    columns=("name", "account", "stage", "amount", "probability", "close_date", "owner"),
    optional_columns=("contact", "pipeline", "currency", "amount_corporate", "expected_revenue", "opportunity_type",
                      "next_step", "competitors", "loss_reason", "lead_source", "campaign", "forecast_override",
                      "created_at", "updated_at"),
    default_sort="close_date",
    # Stages run in their pipeline's order, not alphabetically.
    sorts={"stage": lambda: [F("pipeline__order"), F("stage__order")]},
    search_fields=("name", "account__name"),
    filters=("pipeline", "stage", "owner", "account", "contact", "opportunity_type", "amount", "amount_corporate",
             "probability", "close_date", "lead_source", "campaign", "loss_reason", "forecast_override", "created_at"),
    filterset=OpportunityFilter,
    views=(View("my-open", _("My open opportunities"), "mine=1&open=1"),
           View("closing-month", _("Closing this month"), "open=1&closing=month"),
           View("won-quarter", _("Won this quarter"), "won=1&closing=quarter"),
           View("lost", _("Lost"), "lost=1")),
    export_fields=("name", "account", "contact", "opportunity_type", "pipeline", "stage", "amount", "currency",
                   "amount_corporate", "probability", "expected_revenue", "close_date", "lead_source", "campaign",
                   "next_step", "competitors", "loss_reason", "description", "owner", "created_at"),
    cells={"amount": money_cell("amount", "currency"), "amount_corporate": money_cell("amount_corporate"),
           "expected_revenue": money_cell("expected_revenue")},
    load=("name", "currency"),
    create_label=_("New opportunity"),
    cached_choices=_cached_choices,
    template="opportunities/opportunity_list.html",
    count_text=ngettext_lazy("%(n)s opportunity", "%(n)s opportunities", "count"),
    count_capped=_("More than %(n)s opportunities: filter or search to narrow the list."),
    empty_text=_("No opportunities match."),
)


# --- import -------------------------------------------------------------------------------------------------

IMPORT_FIELDS = ("name", "account", "pipeline", "stage", "amount", "currency", "probability", "close_date",
                 "opportunity_type", "lead_source", "next_step", "description", "owner")

# The values other systems write in a deal's "Type" column: Salesforce's opportunity types and HubSpot's deal types.
TYPE_ALIASES = {
    "new customer": "new_business", "new business": "new_business", "newbusiness": "new_business",
    "existing customer - upgrade": "upsell", "existing customer - replacement": "upsell", "upgrade": "upsell",
    "existingbusiness": "upsell", "existing business": "upsell", "existing customer - downgrade": "renewal",
    "renewal": "renewal", "renewals": "renewal",
}


def _import_defaults() -> dict:
    from opportunities.services import default_open_stage

    stage = default_open_stage()
    return {"pipeline_id": stage.pipeline_id, "stage_id": stage.pk, "probability": stage.probability} if stage else {}


def _import_complete(record: dict, columns: set) -> None:
    """A stage named without its pipeline brings the pipeline; without a probability, the stage's."""
    from opportunities.models import Stage

    stage = Stage.objects.filter(pk=record.get("stage_id")).only("pipeline_id", "probability").first()
    if stage is None:
        return
    if "pipeline" not in columns or record.get("pipeline_id") != stage.pipeline_id:
        record["pipeline_id"] = stage.pipeline_id
    if "probability" not in columns:
        record["probability"] = stage.probability


def _after_import(**kwargs) -> None:
    from opportunities.importing import after_import

    after_import(**kwargs)


def import_spec():
    from django.utils.translation import gettext_lazy

    from crm.imports.spec import ImportSpec

    return ImportSpec(
        fields=IMPORT_FIELDS,
        concepts={"opportunity_name": "name", "company": "account", "stage": "stage", "amount": "amount",
                  "currency": "currency", "probability": "probability", "close_date": "close_date",
                  "lead_source": "lead_source", "description": "description", "owner": "owner",
                  "next_step": "next_step",
                  # A deals export's plain "Type" column (Salesforce, HubSpot) is the deal's type.
                  "account_type": "opportunity_type"},
        value_aliases={"opportunity_type": TYPE_ALIASES},
        after_import=_after_import,
        required_any=("name",),
        related_by_name={"account": "name"},
        create_related=("account",),
        defaults=_import_defaults,
        complete=_import_complete,
        row_fields=("pipeline_id", "stage_id", "probability"),
        title=gettext_lazy("Import opportunities"),
        records_label=gettext_lazy("Back to opportunities"),
    )
