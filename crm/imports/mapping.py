"""Which column of a file fills which field: guessed from the headers of the exports people bring
(crm.imports.headers knows Vtiger, SuiteCRM, Salesforce, HubSpot, Zoho, Pipedrive, MailChimp, Google and
Outlook, in English, Finnish and Persian), the field's own name and its label in each of our languages, and
the custom fields; offered only among the fields the user may write."""
from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm.access.fls import field_access
from crm.customization.fields import definitions
from crm.imports import headers as known_headers


def writable_fields(record_type, user) -> list[str]:
    """The type's importable fields and custom-field keys the user may write (hidden and read-only ones are
    neither offered nor written)."""
    blocked = set(field_access(user, record_type.key))
    names = [n for n in record_type.imports.fields if n not in blocked]
    return names + [cf.key for cf in definitions(record_type.key) if cf.key not in blocked]


def target_choices(record_type, user) -> list[tuple[str, str]]:
    model = record_type.model
    customs = {cf.key: cf for cf in definitions(record_type.key)}
    choices = [("", _("— do not import —"))]
    for name in writable_fields(record_type, user):
        label = customs[name].display_label if name in customs else capfirst(model._meta.get_field(name).verbose_name)
        choices.append((name, str(label)))
    return choices


def guess_mapping(record_type, user, headers: list[str]) -> dict[str, str]:
    """{header: field or ""}: the known export spellings, then the field names, labels and custom fields."""
    allowed = set(writable_fields(record_type, user))
    spec, model = record_type.imports, record_type.model
    targets = {concept: name for concept, name in spec.concepts.items() if name in allowed}
    extra = {}
    for name in allowed:
        if name.startswith("cf_"):
            continue
        field = model._meta.get_field(name)
        extra[name] = name
        for lang, _label in settings.LANGUAGES:
            with translation.override(lang):
                extra.setdefault(str(field.verbose_name), name)
    for cf in definitions(record_type.key):
        if cf.key in allowed:
            extra[cf.key] = cf.key
            extra[cf.name] = cf.key
            extra.setdefault(cf.label, cf.key)
            for label in (cf.label_translations or {}).values():
                extra.setdefault(label, cf.key)
    return known_headers.guess(headers, targets, extra)
