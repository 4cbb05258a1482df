"""Picklist values as lists, cells and filters read them: every value of every picklist, loaded once per
process and configuration change (a few hundred rows at most), not queried on each page.

The values handed out are shared between requests: read them, never change or save them. Saving or
deleting a value (or the services' bulk updates) marks the cache changed."""
from __future__ import annotations

from crm.core.config_cache import ConfigCache
from crm.customization.models import PicklistValue

picklist_config = ConfigCache("picklists", size=8)


def _load() -> tuple[dict[int, PicklistValue], dict[str, tuple[PicklistValue, ...]]]:
    by_id: dict[int, PicklistValue] = {}
    by_list: dict[str, list[PicklistValue]] = {}
    for value in PicklistValue.objects.order_by("picklist", "order", "id"):
        by_id[value.pk] = value
        by_list.setdefault(value.picklist, []).append(value)
    return by_id, {name: tuple(values) for name, values in by_list.items()}


def _all():
    return picklist_config.get("all", _load)


def values(picklist: str, *, active_only: bool = True) -> tuple[PicklistValue, ...]:
    found = _all()[1].get(picklist, ())
    return tuple(v for v in found if v.is_active) if active_only else found


def get(pk) -> PicklistValue | None:
    try:
        return _all()[0].get(int(pk))
    except (TypeError, ValueError):
        return None


def choices(picklist: str, *, active_only: bool = True) -> list[tuple[int, str]]:
    """(id, label in the current language) pairs, in the admin's order."""
    return [(v.pk, v.display_label) for v in values(picklist, active_only=active_only)]


def default(picklist: str) -> PicklistValue | None:
    return next((v for v in values(picklist) if v.is_default), None)


def changed() -> None:
    picklist_config.changed()
