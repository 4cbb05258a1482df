"""Reads of leads, always from visibility."""
from django.db.models import Value
from django.db.models.functions import Upper

from leads.models import Lead, search_text

SORTS = {"created": "created_at", "name": "last_name", "company": "company", "score": "score", "status": "status__order"}


def lead_list(*, user, query: str = "", sort: str = "-created"):
    """Visible leads, searched and sorted, without joins: joined to owners and picklists, the query of a
    page makes PostgreSQL sort every match before it takes 50 (see `with_related`)."""
    qs = Lead.objects.visible_to(user)
    query = query.strip()
    if query:
        # Both sides upper-cased by PostgreSQL, so "mäkinen" finds "Mäkinen" whatever the database's locale.
        qs = qs.annotate(search=search_text()).filter(search__contains=Upper(Value(query)))
    field = SORTS.get(sort.lstrip("-"), "created_at")
    direction = "-" if sort.startswith("-") else ""
    return qs.order_by(f"{direction}{field}", f"{direction}id")


def with_related(leads: list[Lead]) -> list[Lead]:
    """Give a page of leads their owners, statuses and sources: two small queries for the whole page."""
    from crm.access.models import User
    from crm.customization.models import PicklistValue

    users = User.objects.in_bulk({lead.owner_id for lead in leads} - {None})
    values = PicklistValue.objects.in_bulk(({lead.status_id for lead in leads} | {lead.source_id for lead in leads}) - {None})
    for lead in leads:
        for name, related in (("owner", users), ("status", values), ("source", values)):
            field = Lead._meta.get_field(name)
            field.set_cached_value(lead, related.get(getattr(lead, field.attname)))
    return leads
