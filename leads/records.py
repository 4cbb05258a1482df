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
from leads import funnel

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

    # The lead funnel's steps (the sales dashboard links here): leads that ever reached a stage, or whose
    # converted opportunity was won.
    reached = django_filters.ChoiceFilter(method="filter_reached", label=_("Reached in the funnel"),
                                          choices=funnel.step_choices)
    reached.fls_field = "lifecycle_stage"

    def filter_reached(self, qs, name, value):
        return qs.filter(funnel.reached_q(value)) if value else qs


def search(qs, query: str):
    """Any part of "first last company email": one trigram index serves it, and a full name typed as
    "Aino Laine" matches. Both sides upper-cased by PostgreSQL, whatever the database's locale."""
    from leads.models import search_text

    return qs.annotate(search=search_text()).filter(search__contains=Upper(Value(query)))


def _statuses(user):
    from crm.customization import picklists
    from leads.models import STATUS_PICKLIST

    return picklists.choices(STATUS_PICKLIST)


def _set_status(*, actor, ids, value):
    from crm.customization.models import PicklistValue
    from leads.services import leads_status_set

    return leads_status_set(actor=actor, ids=ids, status=PicklistValue.objects.get(pk=value))


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


# --- duplicates, merge, import ------------------------------------------------------------------------------

def duplicate_spec():
    from crm.core.duplicates import DuplicateSpec

    return DuplicateSpec(email="email", phones=("phone", "mobile"), country="country", similar=("company", "last_name"))


def locked():
    """Converted leads are read-only."""
    from django.db.models import Q

    return Q(lifecycle_stage="converted")


MERGE_FIELDS = ("first_name", "last_name", "company", "title", "email", "phone", "mobile", "website", "street", "city",
                "state", "postal_code", "country", "industry", "employees", "annual_revenue", "currency",
                "description", "competitors", "objections", "rating", "source", "status", "owner", "budget_confirmed",
                "budget_amount", "authority_role", "need_pain_points", "need_requirements", "need_desired_outcome",
                "timeline_urgency", "timeline_timeframe", "champ_challenges", "champ_authority", "champ_money",
                "champ_prioritization")


def _merge_refused(survivor, other):
    from django.utils.translation import gettext as gettext

    if survivor.is_converted or other.is_converted:
        return gettext("Converted leads cannot be merged.")
    return None


def _merge_before(survivor, other):
    survivor.score = max(survivor.score, other.score)


def _merge_after(survivor):
    """Attribution: the earlier first touch and the later last touch of both, now all on the survivor."""
    from campaigns.selectors import first_and_last

    first, last = first_and_last(records=[survivor])
    if first is not None:
        type(survivor)._base_manager.filter(pk=survivor.pk).update(
            first_touch_campaign_id=first.campaign_id, last_touch_campaign_id=last.campaign_id)


def merge_spec():
    from crm.core.merge import MergeSpec

    return MergeSpec(fields=MERGE_FIELDS, refuse=_merge_refused, before=_merge_before, after=_merge_after)


IMPORT_FIELDS = ("first_name", "last_name", "company", "title", "email", "phone", "mobile", "website", "street", "city",
                 "state", "postal_code", "country", "industry", "employees", "annual_revenue", "currency",
                 "description", "competitors", "objections", "rating", "source", "status", "owner",
                 "budget_confirmed", "budget_amount", "authority_role", "need_pain_points", "need_requirements",
                 "need_desired_outcome", "timeline_urgency", "timeline_timeframe", "champ_challenges",
                 "champ_authority", "champ_money", "champ_prioritization")

# How Salesforce, HubSpot, Zoho, Pipedrive and Vtiger spell lead sources and statuses, in our values.
SOURCE_ALIASES = {
    "web": "web-form", "website": "web-form", "web site": "web-form", "web download": "web-form",
    "web research": "web-form", "online store": "web-form", "direct traffic": "web-form", "direct_traffic": "web-form",
    "phone inquiry": "phone-inquiry", "inbound call": "phone-inquiry",
    "partner referral": "partner", "seminar - partner": "seminar", "seminar partner": "seminar",
    "seminar - internal": "seminar", "internal seminar": "seminar", "webinar": "seminar",
    "employee referral": "referral", "external referral": "referral", "word of mouth": "referral",
    "referrals": "referral", "employee": "referral",
    "purchased list": "purchased-list", "trade show": "trade-show", "tradeshow": "trade-show", "conference": "trade-show",
    "advertisement": "advertisement", "paid search": "advertisement", "paid_search": "advertisement",
    "online ads": "advertisement", "cold call": "cold-call", "self generated": "cold-call",
    "social media": "social-media", "social_media": "social-media", "paid social": "social-media",
    "paid_social": "social-media", "facebook": "social-media", "twitter": "social-media", "linkedin": "social-media",
    "email": "campaign", "email marketing": "campaign", "email_marketing": "campaign", "direct mail": "campaign",
    "other campaigns": "campaign", "other_campaigns": "campaign", "existing customer": "existing-customer",
    "organic search": "other", "organic_search": "other", "offline": "other", "offline sources": "other",
    "chat": "other", "public relations": "other",
}
STATUS_ALIASES = {
    "open - not contacted": "not-contacted", "new": "not-contacted", "open": "not-contacted",
    "working - contacted": "contacted", "in progress": "contacted", "in_progress": "contacted",
    "connected": "contacted", "closed - converted": "qualified", "open deal": "qualified", "open_deal": "qualified",
    "closed - not converted": "not-interested", "unqualified": "not-interested", "not qualified": "not-interested",
    "attempted_to_contact": "attempted-to-contact", "bad timing": "contact-in-future",
    "bad_timing": "contact-in-future", "pre qualified": "pre-qualified", "prequalified": "pre-qualified",
    # SuiteCRM and SugarCRM
    "assigned": "not-contacted", "in process": "contacted", "converted": "qualified", "recycled": "contact-in-future",
    "dead": "lost-lead",
}


def _import_defaults() -> dict:
    from crm.customization.models import PicklistValue
    from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST

    status = PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_default=True).first()
    source = PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, value="import").first()
    return {"status_id": getattr(status, "pk", None), "source_id": getattr(source, "pk", None)}


def _import_assign(job, values: dict):
    from leads.assignment import owner_by_rules
    from leads.models import Lead

    owner = owner_by_rules(Lead(**{k: v for k, v in values.items() if k != "id"}))
    return owner.pk if owner is not None else None


def _after_import(*, job, actor, created, updated, assigned):
    """Each new lead's first lifecycle step, and one notification per owner the assignment rules chose."""
    from django.utils import timezone

    from crm.core.bulk import insert_each
    from leads.assignment import notify_assigned
    from leads.models import LifecycleStage, LifecycleTransition

    insert_each(LifecycleTransition, "lead", created, to_stage=LifecycleStage.NEW, actor=actor, created_at=timezone.now())
    notify_assigned(assigned, actor)


def import_spec():
    from django.utils.translation import gettext_lazy

    from crm.core.vocabularies import INDUSTRY_ALIASES
    from crm.imports.spec import ImportSpec

    return ImportSpec(
        fields=IMPORT_FIELDS,
        concepts={"first_name": "first_name", "last_name": "last_name", "company": "company", "title": "title",
                  "email": "email", "phone": "phone", "mobile": "mobile", "website": "website", "street": "street",
                  "city": "city", "state": "state", "postal_code": "postal_code", "country": "country",
                  "description": "description", "owner": "owner", "lead_source": "source", "lead_status": "status",
                  "industry": "industry", "employees": "employees", "annual_revenue": "annual_revenue",
                  "rating": "rating", "currency": "currency"},
        required_any=("last_name",),
        defaults=_import_defaults,
        value_aliases={"source": SOURCE_ALIASES, "status": STATUS_ALIASES, "industry": INDUSTRY_ALIASES},
        assign=_import_assign,
        after_import=_after_import,
        supports_campaign=True,
        vcard=True,
        title=gettext_lazy("Import leads"),
        records_label=gettext_lazy("Back to leads"),
    )
