"""The record-type registry: how lists, imports, duplicates, merge, automation,
search, reports and the navigation learn which business records exist and how
each behaves, without importing each app.

An app registers each record type once, in its AppConfig.ready():

    records.register(Lead, slug="leads", list_url_name="leads:list", detail_url_name="leads:detail",
                     list=ListSpec(...), imports=ImportSpec(...), duplicates=DuplicateSpec(...))

and from then on gets the shared machinery (crm.lists, crm.imports, crm.core.duplicates,
crm.core.merge) by that registration alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse

if TYPE_CHECKING:
    from django.db import models

_PK_PLACEHOLDER = 987654321987


@dataclass(frozen=True)
class RecordType:
    key: str  # "leads.lead": app_label.model_name
    model: type[models.Model]
    label: str  # translatable, singular
    label_plural: str
    list_url_name: str
    detail_url_name: str
    slug: str = ""  # in shared URLs: /import/<slug>/, /lists/<slug>/...
    create_url_name: str = ""
    icon: str = "card-list"
    search_fields: tuple[str, ...] = ()
    # Fields that rules, filters, reports and field-level security may use.
    fields: tuple[str, ...] = ()
    nav_order: int = 100
    in_navigation: bool = True
    # The shared machinery each type takes part in (None: not offered for this type).
    list: Any = None  # crm.lists.spec.ListSpec
    imports: Any = None  # crm.imports.spec.ImportSpec
    duplicates: Any = None  # crm.core.duplicates.DuplicateSpec
    merge: Any = None  # crm.core.merge.MergeSpec
    # () → Q of records no edit may change (a converted lead; later, one pending approval): imports skip them,
    # bulk actions leave them alone.
    locked: Any = None
    # Columns the History tab does not show (derived keys, scores written by workers...).
    history_exclude: frozenset[str] = frozenset()
    extra: dict = field(default_factory=dict)

    def list_url(self) -> str:
        # Reversed once per type, like detail_url: a list page writes it into every view button and form.
        url = _url_templates.get(f"{self.list_url_name}#list")
        if url is None:
            url = _url_templates[f"{self.list_url_name}#list"] = reverse(self.list_url_name)
        return url

    def detail_url(self, pk) -> str:
        # Reversed once per type: a list page links 50 rows, and reverse() costs more than the rest of a cell.
        template = _url_templates.get(self.detail_url_name)
        if template is None:
            template = _url_templates[self.detail_url_name] = reverse(self.detail_url_name, args=[_PK_PLACEHOLDER])
        return template.replace(str(_PK_PLACEHOLDER), str(int(pk)))

    def create_url(self) -> str:
        try:
            return reverse(self.create_url_name) if self.create_url_name else ""
        except NoReverseMatch:
            return ""

    def url(self, name: str, *args) -> str:
        """A URL of this type's app namespace ("import", "bulk", ...), or "" when the app has none."""
        namespace = self.list_url_name.split(":", 1)[0]
        try:
            return reverse(f"{namespace}:{name}", args=args)
        except NoReverseMatch:
            return ""

    def model_field(self, name: str):
        return self.model._meta.get_field(name)


_registry: dict[str, RecordType] = {}
_url_templates: dict[str, str] = {}


def register(model, **options) -> RecordType:
    key = f"{model._meta.app_label}.{model._meta.model_name}"
    options.setdefault("label", model._meta.verbose_name)
    options.setdefault("label_plural", model._meta.verbose_name_plural)
    options.setdefault("slug", model._meta.model_name)
    record_type = RecordType(key=key, model=model, **options)
    _registry[key] = record_type
    return record_type


def get(key: str) -> RecordType:
    return _registry[key]


def find(key: str) -> RecordType | None:
    return _registry.get(key)


def by_slug(slug: str) -> RecordType | None:
    return next((rt for rt in _registry.values() if rt.slug == slug), None)


def for_model(model_or_instance) -> RecordType:
    meta = model_or_instance._meta
    return _registry[f"{meta.app_label}.{meta.model_name}"]


def key_of(model_or_instance) -> str:
    meta = model_or_instance._meta
    return f"{meta.app_label}.{meta.model_name}"


def detail_url_of(content_type_id: int, object_id: int) -> str:
    """The page of the record a (content type, id) pair names, or "" when its type has no page."""
    from django.contrib.contenttypes.models import ContentType

    try:
        return for_model(ContentType.objects.get_for_id(content_type_id).model_class()).detail_url(object_id)
    except (KeyError, AttributeError):
        return ""


def all_types() -> list[RecordType]:
    return sorted(_registry.values(), key=lambda rt: (rt.nav_order, rt.key))


def choices() -> list[tuple[str, str]]:
    return [(rt.key, rt.label_plural) for rt in all_types()]
