"""The record-type registry: how automation, search, import, reports and the
navigation learn which business records exist without importing each app."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse

if TYPE_CHECKING:
    from django.db import models


@dataclass(frozen=True)
class RecordType:
    key: str  # "leads.lead": app_label.model_name
    model: type[models.Model]
    label: str  # translatable, singular
    label_plural: str
    list_url_name: str
    detail_url_name: str
    icon: str = "card-list"
    search_fields: tuple[str, ...] = ()
    # Fields that rules, filters, reports and field-level security may use.
    fields: tuple[str, ...] = ()
    nav_order: int = 100
    in_navigation: bool = True
    extra: dict = field(default_factory=dict)

    def list_url(self) -> str:
        return reverse(self.list_url_name)

    def detail_url(self, pk) -> str:
        return reverse(self.detail_url_name, args=[pk])

    def model_field(self, name: str):
        return self.model._meta.get_field(name)


_registry: dict[str, RecordType] = {}


def register(model, **options) -> RecordType:
    key = f"{model._meta.app_label}.{model._meta.model_name}"
    options.setdefault("label", model._meta.verbose_name)
    options.setdefault("label_plural", model._meta.verbose_name_plural)
    record_type = RecordType(key=key, model=model, **options)
    _registry[key] = record_type
    return record_type


def get(key: str) -> RecordType:
    return _registry[key]


def for_model(model_or_instance) -> RecordType:
    meta = model_or_instance._meta
    return _registry[f"{meta.app_label}.{meta.model_name}"]


def all_types() -> list[RecordType]:
    return sorted(_registry.values(), key=lambda rt: (rt.nav_order, rt.key))


def choices() -> list[tuple[str, str]]:
    return [(rt.key, rt.label_plural) for rt in all_types()]
