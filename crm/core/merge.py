"""Merging two records of a type into one, for every type that registers a MergeSpec: the user picks, field
by field, which value the kept record has; everything that pointed at the other record (foreign keys from any
model, many-to-many links, generic relations such as activities, touches and events) is re-pointed to the
kept one, found by introspection (crm.core.relations), and its field history joins the kept record's as a
thread of its own. Then the other record is deleted. One transaction: any failure leaves both as they were."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from crm.activities.services import activity_log
from crm.core.events import emit
from crm.core.relations import repoint
from crm.core.services import event_name, record_changes, record_delete


class MergeRefused(Exception):
    """The two records cannot be merged; the message says why."""


@dataclass(frozen=True)
class MergeSpec:
    fields: tuple[str, ...]  # fields the user picks from either record (custom fields come with them)
    # (survivor, other) → str or None: why these two cannot be merged (converted leads).
    refuse: Callable | None = None
    # (survivor, other) before the re-pointing: what the type derives from both (a lead's best score).
    before: Callable | None = None
    # (survivor) after the re-pointing: what the type derives from what moved (first- and last-touch campaign).
    after: Callable | None = None


def mergeable_fields(record_type, user) -> list[str]:
    """The fields a merge shows `user`: the spec's and the custom fields, minus those they may not write."""
    from crm.access.fls import field_access
    from crm.customization.fields import definitions

    blocked = set(field_access(user, record_type.key))
    names = [n for n in record_type.merge.fields if n not in blocked]
    return names + [cf.key for cf in definitions(record_type.key) if cf.key not in blocked]


def self_references(model) -> list:
    """The model's foreign keys to itself (an account's parent, a contact's reports-to)."""
    return [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is model]


def _break_loops(survivor, other) -> None:
    """Once merged, the two records are one: a self-reference of the survivor that leads back to either (its own
    parent picked from the other's child, say) would make it its own ancestor, so the survivor gives it up."""
    model = type(survivor)
    merged = {survivor.pk, other.pk}
    for field in self_references(model):
        current, seen = getattr(survivor, field.attname), set()
        while current is not None and current not in merged and current not in seen:
            seen.add(current)
            current = model._base_manager.filter(pk=current).values_list(field.attname, flat=True).first()
        if current in merged:
            setattr(survivor, field.attname, None)


def _snapshot(record) -> dict:
    data = {f.attname: getattr(record, f.attname) for f in type(record)._meta.concrete_fields if f.attname != "updated_at"}
    data["custom"] = dict(record.custom or {})
    return data


@transaction.atomic
def record_merge(*, actor, survivor, other, take_from_other: set[str]):
    """Merge `other` into `survivor`. `take_from_other` names the fields (model names or cf_<name>) whose value
    comes from `other`; the rest keep the survivor's."""
    from crm.core import records

    model = type(survivor)
    rt = records.for_model(model)
    spec = rt.merge
    if spec is None:
        raise MergeRefused(_("Records of this type cannot be merged."))
    if survivor.pk == other.pk:
        raise MergeRefused(_("Pick two different records."))
    # Both rows locked in one statement, in id order: two people merging the same pair either way round wait
    # for each other instead of deadlocking, and the one who waited finds a record gone.
    rows = model._base_manager.select_for_update().filter(pk__in=[survivor.pk, other.pk]).order_by("pk")
    locked = {r.pk: r for r in rows}
    if len(locked) < 2:
        raise MergeRefused(_("One of the records no longer exists."))
    survivor, other = locked[survivor.pk], locked[other.pk]
    if spec.refuse:
        reason = spec.refuse(survivor, other)
        if reason:
            raise MergeRefused(reason)
    allowed = set(mergeable_fields(rt, actor))
    before = _snapshot(survivor)
    for name in take_from_other & allowed:
        if name.startswith("cf_"):
            key, custom = name[3:], dict(survivor.custom or {})
            if key in (other.custom or {}):
                custom[key] = other.custom[key]
            else:
                custom.pop(key, None)
            survivor.custom = custom
        else:
            field = model._meta.get_field(name)
            setattr(survivor, field.attname, getattr(other, field.attname))
    if spec.before:
        spec.before(survivor, other)
    _break_loops(survivor, other)
    if rt.duplicates is not None:
        rt.duplicates.set_keys(survivor)
    survivor._history_user = actor
    survivor.save()
    moved = repoint(source=other, target=survivor)
    # The other record's history stays its own thread on the survivor: two records' values are never diffed.
    # Threads it took in from earlier merges keep their own names.
    other_history = model.history.model.objects.filter(id=other.pk)
    other_history.exclude(history_change_reason__startswith="merged:").update(
        history_change_reason=f"merged:{other.pk}")
    other_history.update(id=survivor.pk)
    if spec.after:
        spec.after(survivor)
    changes = record_changes(before, _snapshot(survivor))
    activity_log(target=survivor, verb="merged", actor=actor,
                 subject=_("Merged with %(name)s (#%(id)s)") % {"name": other, "id": other.pk},
                 data={"merged": other.pk, "fields": sorted(take_from_other & allowed), "moved": moved})
    emit(event_name(model, "merged"), survivor, actor=actor, changes=changes, data={"merged": other.pk, "moved": moved})
    other.refresh_from_db()
    record_delete(actor=actor, record=other)
    return survivor
