"""A record page's table of related records (an account's contacts and opportunities): the list engine's
columns and cells, so field-level security and formatting are the lists' own, for at most `limit` rows and
with a link to the whole filtered list."""
from __future__ import annotations

from django.utils.safestring import mark_safe

from crm.access.fls import hidden_fields
from crm.core import records
from crm.lists.columns import columns_for, prefetch_related

RELATED_LIMIT = 20


def related_table(*, user, record_type: str, queryset, columns: list[str], list_query: str = "",
                  limit: int = RELATED_LIMIT) -> dict | None:
    """{"headers", "rows", "count", "all_url"} of the records of `queryset` the user may see (through
    visibility), or None when the user may not view that type at all."""
    rt = records.get(record_type)
    if not user.can(rt.key, "view"):
        return None
    available = columns_for(rt, frozenset(hidden_fields(user, rt.key)))
    shown = [available[c] for c in columns if c in available]
    qs = queryset.visible_to(user) if hasattr(queryset, "visible_to") else queryset
    count = qs.count()
    rows_records = list(qs[:limit])
    prefetch_related(rows_records, shown)
    renderers = [c.renderer() for c in shown]
    rows = []
    for record in rows_records:
        cells = [f'<td><a href="{rt.detail_url(record.pk)}">{renderers[0](record) or "—"}</a></td>'] if renderers else []
        cells += [f"<td>{render(record)}</td>" for render in renderers[1:]]
        rows.append((record, mark_safe("".join(cells))))
    return {"rt": rt, "headers": [c.label for c in shown], "rows": rows, "count": count,
            "all_url": f"{rt.list_url()}?{list_query}" if list_query else rt.list_url(), "more": count > len(rows)}
