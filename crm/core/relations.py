"""Every row that points at a record, found by introspection rather than a
hand-kept list: foreign keys and one-to-ones from any model, many-to-many links,
and generic relations (content type + object id: activities, touches, recent views,
notifications' targets, events). Merge re-points them; delete removes the generic
ones the database cannot cascade."""
from __future__ import annotations

import functools
import logging

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction

logger = logging.getLogger(__name__)


@functools.cache
def generic_relations() -> tuple[tuple[type[models.Model], str, str], ...]:
    """(model, content type field, object id field) of every GenericForeignKey in the project."""
    found = []
    for model in apps.get_models():
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                found.append((model, field.ct_field, field.fk_field))
    return tuple(found)


def _is_history(model) -> bool:
    return getattr(model, "instance_type", None) is not None and model.__name__.startswith("Historical")


def reverse_foreign_keys(model) -> list[models.ForeignObjectRel]:
    """Relations whose rows point at `model` by a concrete foreign key (history tables excluded: their
    references are copies of past values, not links)."""
    return [rel for rel in model._meta.get_fields(include_hidden=True)
            if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
            and not _is_history(rel.related_model)]


def many_to_many(model) -> list:
    return [f for f in model._meta.get_fields(include_hidden=True) if f.many_to_many and not f.auto_created]


def count_related(record) -> dict[str, int]:
    """How many rows of each kind point at `record` (merge tests count them before and after)."""
    counts = {}
    for rel in reverse_foreign_keys(type(record)):
        counts[f"{rel.related_model._meta.label}.{rel.field.name}"] = rel.related_model._base_manager.filter(
            **{rel.field.name: record.pk}).count()
    ct = ContentType.objects.get_for_model(record)
    for model, ct_field, fk_field in generic_relations():
        counts[f"{model._meta.label}.{fk_field}"] = model._base_manager.filter(
            **{ct_field: ct, fk_field: record.pk}).count()
    return counts


def repoint(*, source, target) -> dict[str, int]:
    """Move every row pointing at `source` onto `target` (same model). A row that would then break a unique
    constraint (the same contact role twice, two recent-view rows) is dropped: the survivor already has it."""
    model = type(source)
    moved: dict[str, int] = {}
    for rel in reverse_foreign_keys(model):
        qs = rel.related_model._base_manager.filter(**{rel.field.name: source.pk})
        if rel.related_model is model:  # a self-reference (parent account): the survivor must not point at itself
            qs.filter(pk=target.pk).update(**{rel.field.name: None})
        moved[f"{rel.related_model._meta.label}.{rel.field.name}"] = _update(qs, {rel.field.name: target.pk})
    for field in many_to_many(model):
        through = field.remote_field.through
        source_column = field.m2m_field_name()
        qs = through._base_manager.filter(**{source_column: source.pk})
        moved[f"{through._meta.label}.{source_column}"] = _update(qs, {source_column: target.pk})
    ct = ContentType.objects.get_for_model(model)
    for related, ct_field, fk_field in generic_relations():
        qs = related._base_manager.filter(**{ct_field: ct, fk_field: source.pk})
        moved[f"{related._meta.label}.{fk_field}"] = _update(qs, {fk_field: target.pk})
    return {k: v for k, v in moved.items() if v}


def _update(qs, values: dict) -> int:
    try:
        with transaction.atomic():
            return qs.update(**values)
    except IntegrityError:
        pass
    count = 0
    for obj in qs:
        try:
            with transaction.atomic():
                type(obj)._base_manager.filter(pk=obj.pk).update(**values)
                count += 1
        except IntegrityError:
            type(obj)._base_manager.filter(pk=obj.pk).delete()
    return count


def delete_generic(record) -> None:
    """Remove the rows generic relations hold for `record` (its activities, touches, recent views), which no
    database foreign key cascades. Logs (`keep_after_target_deleted = True`, such as the event outbox) stay."""
    ct = ContentType.objects.get_for_model(record)
    for model, ct_field, fk_field in generic_relations():
        if getattr(model, "keep_after_target_deleted", False):
            continue
        model._base_manager.filter(**{ct_field: ct, fk_field: record.pk}).delete()
