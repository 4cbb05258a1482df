"""System checks for what every Record must keep."""
from __future__ import annotations

from django.apps import apps
from django.contrib.postgres.indexes import GinIndex
from django.core import checks


def record_custom_index(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every Record keeps the GIN index on `custom` that custom-field filters and rules use. A subclass that
    declares its own Meta.indexes without the inherited one loses it silently (Opportunity and Campaign did)."""
    from crm.core.models import Record

    errors = []
    for model in apps.get_models():
        if not issubclass(model, Record) or model._meta.abstract or model._meta.proxy:
            continue
        if not any(isinstance(index, GinIndex) and list(index.fields) == ["custom"] for index in model._meta.indexes):
            errors.append(checks.Error(
                f"{model._meta.label} has no GIN index on 'custom'.",
                hint="Inherit Record.Meta (class Meta(Record.Meta): ...) or add "
                     "GinIndex(fields=['custom'], name='<app>_<model>_custom') to Meta.indexes.",
                obj=model, id="crm.E001"))
    return errors
