"""Reads of leads, always from visibility."""
from django.db.models import Q

from leads.models import Lead

SORTS = {"created": "created_at", "name": "last_name", "company": "company", "score": "score", "status": "status__order"}


def lead_list(*, user, query: str = "", sort: str = "-created"):
    qs = Lead.objects.visible_to(user).select_related("owner", "status", "source")
    query = query.strip()
    if query:
        qs = qs.filter(Q(last_name__icontains=query) | Q(first_name__icontains=query) | Q(company__icontains=query)
                       | Q(email__icontains=query))
    field = SORTS.get(sort.lstrip("-"), "created_at")
    direction = "-" if sort.startswith("-") else ""
    return qs.order_by(f"{direction}{field}", f"{direction}id")
