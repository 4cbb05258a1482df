"""Reads of leads, always from visibility."""
from django.db.models import Value
from django.db.models.functions import Upper

from leads.models import Lead, search_text

SORTS = {"created": "created_at", "name": "last_name", "company": "company", "score": "score", "status": "status__order"}


def lead_list(*, user, query: str = "", sort: str = "-created"):
    qs = Lead.objects.visible_to(user).select_related("owner", "status", "source")
    query = query.strip()
    if query:
        # Both sides upper-cased by PostgreSQL, so "mäkinen" finds "Mäkinen" whatever the database's locale.
        qs = qs.annotate(search=search_text()).filter(search__contains=Upper(Value(query)))
    field = SORTS.get(sort.lstrip("-"), "created_at")
    direction = "-" if sort.startswith("-") else ""
    return qs.order_by(f"{direction}{field}", f"{direction}id")
