"""Reads for the home page and the global search, always through visibility."""
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from crm.core import records
from crm.core.models import RecentView


def recent_records(*, user, limit: int = 10) -> list:
    """The user's recently viewed records that they may still see: one query per record type."""
    views = list(RecentView.objects.filter(user=user).order_by("-viewed_at")[: limit * 2])
    by_type = defaultdict(list)
    for view in views:
        by_type[view.content_type_id].append(view.object_id)
    found = {}
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or not hasattr(model.objects, "visible_to"):
            continue
        for obj in model.objects.visible_to(user).filter(pk__in=ids):
            found[(ct_id, obj.pk)] = obj
    result = []
    for view in views:
        obj = found.get((view.content_type_id, view.object_id))
        if obj is not None:
            result.append({"record": obj, "type": records.for_model(obj), "viewed_at": view.viewed_at})
    return result[:limit]


def global_search(*, user, query: str, per_type: int = 10) -> list[dict]:
    """Records of every registered type matching `query` in their search fields, through visibility, and only
    in the fields the user may see (a match in a hidden field would reveal its value). A query PostgreSQL
    cannot take (a NUL byte) matches nothing."""
    from crm.access.fls import hidden_fields

    query = query.strip()[:200]
    if len(query) < 2 or "\x00" in query:
        return []
    groups = []
    for rt in records.all_types():
        if not rt.search_fields or not user.can(rt.key, "view"):
            continue
        hidden = hidden_fields(user, rt.key)
        fields = [f for f in rt.search_fields if f.split("__", 1)[0] not in hidden]
        if not fields:
            continue
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": query})
        hits = list(rt.model.objects.visible_to(user).filter(condition)[:per_type])
        if hits:
            groups.append({"type": rt, "records": hits})
    return groups
