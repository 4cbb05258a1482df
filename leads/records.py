"""How leads take part in the platform's shared machinery: the list (columns,
filters, search, views, bulk actions, export). Registered from LeadsConfig.ready()."""
from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Value
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from crm.lists.columns import money_cell
from crm.lists.filters import RecordFilterSet
from crm.lists.spec import BulkAction, ListSpec, View

RT = "leads.lead"
# Lead fields scoring and assignment rules test (custom fields come with them), in the order the builder lists them.
RULE_FIELDS = ("title", "company", "industry", "employees", "annual_revenue", "country", "city", "rating", "status",
               "source", "email", "website", "lifecycle_stage", "owner", "budget_confirmed", "budget_amount",
               "authority_role", "timeline_urgency", "timeline_timeframe", "champ_authority", "champ_money",
               "champ_prioritization", "score")


class LeadFilter(RecordFilterSet):
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open only (not converted or unqualified)"),
                                        widget=forms.CheckboxInput)
    open.fls_field = "lifecycle_stage"

    def filter_open(self, qs, name, value):
        from leads.models import LifecycleStage

        return qs.exclude(lifecycle_stage__in=[LifecycleStage.CONVERTED, LifecycleStage.UNQUALIFIED]) if value else qs


def search(qs, query: str):
    """Any part of "first last company email": one trigram index serves it, and a full name typed as
    "Aino Laine" matches. Both sides upper-cased by PostgreSQL, whatever the database's locale."""
    from leads.models import search_text

    return qs.annotate(search=search_text()).filter(search__contains=Upper(Value(query)))


def _statuses(user):
    from leads.services import status_choices

    return [(v.pk, v.display_label) for v in status_choices()]


def _campaigns(user):
    from campaigns.models import Campaign

    return [(c.pk, c.name) for c in Campaign.objects.visible_to(user).exclude(status__in=["completed", "aborted"])
            .order_by("name")]


def _set_status(*, actor, ids, value):
    from crm.customization.models import PicklistValue
    from leads.services import leads_bulk_update

    return leads_bulk_update(actor=actor, ids=ids, status=PicklistValue.objects.get(pk=value))


def _add_to_campaign(*, actor, ids, value):
    from campaigns.models import Campaign
    from leads.services import leads_bulk_add_to_campaign

    return leads_bulk_add_to_campaign(actor=actor, ids=ids, campaign=Campaign.objects.visible_to(actor).get(pk=value))


EXPORT_FIELDS = ("first_name", "last_name", "title", "email", "phone", "mobile", "company", "website", "industry",
                 "employees", "annual_revenue", "currency", "street", "city", "state", "postal_code", "country",
                 "status", "source", "rating", "owner", "description", "competitors", "objections", "lifecycle_stage",
                 "score", "created_at")

LIST = ListSpec(
    columns=("last_name", "first_name", "company", "email", "status", "lifecycle_stage", "score", "owner", "created_at"),
    optional_columns=("title", "phone", "mobile", "website", "city", "state", "postal_code", "country", "industry",
                      "employees", "annual_revenue", "rating", "source", "first_touch_campaign", "last_touch_campaign",
                      "budget_amount", "timeline_timeframe", "updated_at"),
    default_sort="-created_at",
    search_fields=("first_name", "last_name", "company", "email"),
    search=search,
    filters=("status", "source", "lifecycle_stage", "owner", "rating", "industry", "country", "score", "created_at"),
    filterset=LeadFilter,
    views=(View("my-open", _("My open leads"), "mine=1&open=1"),
           View("hot-week", _("Hot leads this week"), "rating=hot&created_within=week"),
           View("unassigned", _("Unassigned"), "unassigned=1")),
    bulk_actions=(
        BulkAction("status", _("Change status"), _set_status, done=_("Status changed to %(value)s: %(count)s."),
                   choices=_statuses, prompt=_("Status…")),
        BulkAction("campaign", _("Add to campaign"), _add_to_campaign, done=_("Added to %(value)s: %(count)s."),
                   choices=_campaigns, prompt=_("Campaign…")),
    ),
    export_fields=EXPORT_FIELDS,
    cells={"annual_revenue": money_cell("annual_revenue", "currency"),
           "budget_amount": money_cell("budget_amount", "currency")},
    load=("first_name", "last_name", "currency"),
    create_label=_("New lead"),
    count_text=ngettext_lazy("%(n)s lead", "%(n)s leads", "count"),
    count_capped=_("More than %(n)s leads: filter or search to narrow the list."),
    empty_text=_("No leads match."),
)
