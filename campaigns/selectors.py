"""Reads of campaigns other apps use: the campaigns a user may pick, a record's touches, and touch counts for
scoring, without importing campaigns' models; and segments: their members, counts and membership."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from campaigns.models import SEGMENT_TYPES, Campaign, Segment, Touch
from crm.core import conditions


def open_campaigns(*, user):
    """Campaigns `user` may see that still take members (not completed or aborted), by name."""
    return (Campaign.objects.visible_to(user).exclude(status__in=[Campaign.Status.COMPLETED, Campaign.Status.ABORTED])
            .order_by("name"))


def touches_for(record, *, limit: int = 20):
    return (Touch.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
            .select_related("campaign").order_by("-touched_at", "-id")[:limit])


def touch_counts(*, model, ids, channel: str | None = None, since=None) -> dict[int, int]:
    """{record id: touches} for the records `ids`, one grouped query."""
    qs = Touch.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    if channel:
        qs = qs.filter(channel=channel)
    if since is not None:
        qs = qs.filter(touched_at__gte=since)
    return dict(qs.order_by().values("object_id").annotate(n=Count("id")).values_list("object_id", "n"))


def last_touches(*, model, ids) -> dict[int, object]:
    """{record id: time of its newest touch}."""
    qs = Touch.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    return dict(qs.order_by().values("object_id").annotate(at=Max("touched_at")).values_list("object_id", "at"))


def first_and_last(*, records) -> tuple:
    """The oldest and the newest touch among the touches of `records` (a merge keeps the earlier first touch
    and the later last touch)."""
    qs = Touch.objects.none()
    for record in records:
        qs = qs | Touch.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
    ordered = qs.order_by("touched_at", "id")
    return ordered.first(), ordered.last()


# --- segments -------------------------------------------------------------------------------------------------
# A segment's members are worked out when used: its conditions as SQL (conditions.to_q) over the records the
# reader may see. These are the reads campaigns (dynamic lists), automation and the pages use.


class SegmentNotUsable(ValueError):
    """The segment cannot be evaluated for this reader; the message says why, in their language."""


@dataclass(frozen=True)
class SegmentCount:
    count: int
    capped: bool  # more than `count` (LIST_COUNT_LIMIT) match


def segment_types(*, user=None) -> list:
    """The record types segments may be built over (registered, with a list), those `user` may view."""
    from crm.core import records

    types = []
    for key in SEGMENT_TYPES:
        try:
            rt = records.get(key)
        except KeyError:
            continue
        if rt.list is not None and (user is None or user.can(key, "view")):
            types.append(rt)
    return types


def segment_type(key: str):
    """The registry's record type of a segment's `record_type`, or None when segments cannot use it."""
    return next((rt for rt in segment_types() if rt.key == key), None)


def segment_field_names(record_type: str) -> tuple[str, ...]:
    """The model fields a segment over `record_type` may test: every field the type shows its users (what
    conditions use, the list's columns and what it exports), in that order. Relations to other records are
    left out: the builder could only ask for their ids. Custom fields are added by crm.core.conditions."""
    from django.conf import settings
    from django.core.exceptions import FieldDoesNotExist

    from crm.core import records

    rt = records.get(record_type)
    spec = rt.list
    candidates = [*rt.fields, *(spec.columns if spec else ()), *(spec.optional_columns if spec else ()),
                  *(spec.export_fields if spec else ())]
    names = []
    for name in dict.fromkeys(candidates):
        try:
            field = rt.model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.concrete or field.many_to_many:
            continue
        if field.many_to_one and field.related_model._meta.label not in (settings.AUTH_USER_MODEL,
                                                                         "customization.PicklistValue"):
            continue
        names.append(name)
    return tuple(names)


def segment_fields(record_type: str, *, user=None, with_choices: bool = False) -> dict:
    """What a segment over `record_type` may test (crm.core.conditions.fields_for over segment_field_names,
    and every custom field), without the fields hidden from `user` when one is given."""
    fields = conditions.fields_for(record_type, segment_field_names(record_type), with_choices=with_choices)
    if user is None:
        return fields
    from crm.access.fls import hidden_fields

    hidden = hidden_fields(user, record_type)
    return {name: field for name, field in fields.items() if name not in hidden}


def hidden_in(condition, record_type: str, *, user) -> list[str]:
    """The labels of the fields `condition` tests that are hidden from `user`."""
    from crm.access.fls import hidden_fields

    hidden = hidden_fields(user, record_type)
    if not hidden:
        return []
    every = segment_fields(record_type)
    names = dict.fromkeys(leaf.get("field", "") for leaf in conditions.leaves(conditions.normalize(condition))
                          if isinstance(leaf, dict))
    return [every[n].label if n in every else n for n in names if n in hidden]


def segment_conditions_check(*, user, record_type: str, condition) -> dict:
    """`condition` as a tree a segment over `record_type` can keep, or SegmentNotUsable naming the first
    problem: a record type segments cannot use or the user may not view, a field hidden from the user, an
    unknown field, an operator or value that does not fit, or an operator SQL cannot answer (changed…)."""
    rt = segment_type(record_type)
    if rt is None or not user.can(record_type, "view"):
        raise SegmentNotUsable(_("Segments cannot be built over this record type."))
    if not isinstance(condition, (dict, list)) and condition not in (None, ""):
        raise SegmentNotUsable(_("The conditions could not be read."))
    try:
        hidden = hidden_in(condition, record_type, user=user)
        if hidden:
            raise SegmentNotUsable(_("“%(field)s” is hidden from you: a segment cannot test it.") % {
                "field": hidden[0]})
        return conditions.validate(condition, record_type, sql=True, fields=segment_fields(record_type, user=user))
    except conditions.InvalidCondition as exc:
        raise SegmentNotUsable(str(exc)) from None
    except (AttributeError, TypeError, KeyError, RecursionError):  # a tree of the wrong shape (numbers, a string…)
        raise SegmentNotUsable(_("The conditions could not be read.")) from None


def segment_problem(*, segment: Segment, user) -> str:
    """Why `segment` cannot be evaluated for `user` ("" when it can): fields hidden from them, a record type
    they may not view, or conditions that no longer fit (a custom field was removed)."""
    if segment_type(segment.record_type) is None or not user.can(segment.record_type, "view"):
        return _("Segments over this record type are not available to you.")
    hidden = hidden_in(segment.conditions, segment.record_type, user=user)
    if hidden:
        return _("This segment tests fields hidden from you (%(fields)s), so it is not evaluated for you.") % {
            "fields": ", ".join(hidden)}
    try:
        conditions.validate(segment.conditions, segment.record_type, sql=True,
                            fields=segment_fields(segment.record_type))
    except conditions.InvalidCondition as exc:
        return _("This segment's conditions no longer work: %(problem)s") % {"problem": exc}
    return ""


def _records_matching(*, record_type: str, condition, user) -> QuerySet:
    rt = segment_type(record_type)
    fields = segment_fields(record_type)
    return rt.model.objects.visible_to(user).filter(conditions.to_q(condition, rt.model, fields=fields))


def segment_q(*, segment: Segment, user) -> Q:
    """The segment's conditions as a Q over its record type, for a queryset already limited to what `user`
    may see (the list engine's); SegmentNotUsable when it cannot be evaluated for them."""
    problem = segment_problem(segment=segment, user=user)
    if problem:
        raise SegmentNotUsable(problem)
    return conditions.to_q(segment.conditions, segment_type(segment.record_type).model,
                           fields=segment_fields(segment.record_type))


def segment_members(*, segment: Segment, user) -> QuerySet:
    """The records of the segment that `user` may see (not ordered); SegmentNotUsable when the segment
    cannot be evaluated for them (fields hidden from them...). What a dynamic marketing list sends to."""
    problem = segment_problem(segment=segment, user=user)
    if problem:
        raise SegmentNotUsable(problem)
    return _records_matching(record_type=segment.record_type, condition=segment.conditions, user=user)


def capped_count(qs: QuerySet) -> SegmentCount:
    """How many rows `qs` has, counted as the lists count: up to LIST_COUNT_LIMIT."""
    from crm.core.pagination import CappedPaginator

    paginator = CappedPaginator(qs, 50)
    return SegmentCount(paginator.count, paginator.capped)


def segment_count(*, segment: Segment, user) -> SegmentCount:
    """How many of the segment's records `user` may see, counted up to LIST_COUNT_LIMIT."""
    return capped_count(segment_members(segment=segment, user=user))


def conditions_members(*, user, record_type: str, condition) -> QuerySet:
    """The records `user` may see that meet `condition` (checked first: SegmentNotUsable with the reason
    when it cannot be used): what the builder counts before the segment is saved."""
    tree = segment_conditions_check(user=user, record_type=record_type, condition=condition)
    return _records_matching(record_type=record_type, condition=tree, user=user)


def conditions_count(*, user, record_type: str, condition) -> SegmentCount:
    """The live count of the builder (conditions_members, counted up to LIST_COUNT_LIMIT)."""
    return capped_count(conditions_members(user=user, record_type=record_type, condition=condition))


def sample_members(members: QuerySet, *, user, record_type: str, limit: int = 5) -> list:
    """A few of `members`, the newest first, as (name, url) for the builder to show who matches; none when
    a field their names are made of is hidden from `user`."""
    from crm.access.fls import hidden_fields

    rt = segment_type(record_type)
    load = tuple(rt.list.load) if rt.list.load else ()
    if set(load) & set(hidden_fields(user, record_type)):
        return []
    rows = members.order_by("-pk")
    if load:
        rows = rows.only("pk", *load)
    return [(str(record), rt.detail_url(record.pk)) for record in rows[:limit]]


def segment_contains(*, segment: Segment, record) -> bool:
    """Whether `record` meets the segment's conditions, in Python (crm.core.conditions.evaluate: the same
    answer as the SQL of segment_members). Visibility is the caller's: automation asks about a record in hand.
    A segment whose conditions no longer fit its type contains nothing."""
    if segment_type(segment.record_type) is None:
        return False
    from crm.core import records

    if records.key_of(record) != segment.record_type:
        return False
    fields = segment_fields(segment.record_type)
    try:
        conditions.validate(segment.conditions, segment.record_type, sql=True, fields=fields)
    except conditions.InvalidCondition:
        return False
    return conditions.evaluate(segment.conditions, record, fields=fields)


def segment_description(*, segment: Segment, user) -> str:
    """The conditions in words; the values tested on fields hidden from `user` are not shown."""
    from crm.access.fls import hidden_fields

    hidden = hidden_fields(user, segment.record_type)
    tree = conditions.normalize(segment.conditions)
    if hidden:
        tree = _masked(tree, hidden)
    return conditions.describe(tree, segment.record_type,
                               fields=segment_fields(segment.record_type, with_choices=True))


def _masked(node, hidden) -> dict:
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        return {key: [_masked(child, hidden) for child in node[key]]}
    if node.get("field") in hidden and node.get("op") not in conditions.NO_VALUE:
        return {**node, "value": "•••"}
    return node


def segment_list(*, user, query: str = "", record_type: str = "", mine: bool = False,
                 sort: str = "name") -> QuerySet:
    """The segments `user` may use, searched by name and description (every word), of one record type or
    all, theirs only or all, in the order asked for ("name", "-updated_at", "owner"...)."""
    qs = Segment.objects.visible_to(user)
    for word in query.split()[:10]:
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word))
    if record_type:
        qs = qs.filter(record_type=record_type)
    if mine:
        qs = qs.filter(owner=user)
    return qs.order_by(*SEGMENT_SORTS.get(sort.removeprefix("-"), SEGMENT_SORTS["name"])(sort.startswith("-")))


def _by(*names):
    def order(descending: bool) -> list:
        return [f"-{n}" if descending else n for n in names] + (["-id"] if descending else ["id"])
    return order


SEGMENT_SORTS = {
    "name": _by("name"),
    "record_type": _by("record_type", "name"),
    "owner": _by("owner__first_name", "owner__last_name"),
    "shared": _by("shared", "name"),
    "updated_at": _by("updated_at"),
}
