"""Merge fields in e-mail templates, rendered safely. A template is text with placeholders, nothing more:

    Hello {{ lead.first_name|default:"there" }}, … {{ lead.cf_region }} … {{ sender.full_name }}

A placeholder names one field of the template's record type (its alias is the model's name, or `record`) or of
the sending user (`sender`). Only the fields the record type exposes in the registry and its active custom
fields exist; a field the reader's profile hides renders empty. There is no attribute walking (a placeholder
is looked up in a flat table of values, never resolved on an object), no filters but `default`, and no tags:
`{% … %}` is refused when a template is saved, so nothing can load, include or run anything. Values are
escaped in HTML bodies, and the result is sanitized once more."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CURLY = re.compile(r"\{\{(.*?)\}\}", re.S)
PLACEHOLDER = re.compile(
    r"^\s*(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*"
    r"(?:\|\s*default\s*:\s*(?P<quote>[\"'])(?P<default>[^\"'{}<>]*)(?P=quote)\s*)?$")
FORBIDDEN = re.compile(r"\{%|%\}|\{#|#\}")
SENDER_FIELDS = {
    "first_name": gettext_lazy("first name"), "last_name": gettext_lazy("last name"),
    "full_name": gettext_lazy("full name"), "email": gettext_lazy("email"), "title": gettext_lazy("title"),
    "phone": gettext_lazy("phone"),
}


@dataclass(frozen=True)
class MergeField:
    token: str  # "lead.first_name"
    label: str

    @property
    def placeholder(self) -> str:
        return "{{ " + self.token + " }}"


@dataclass(frozen=True)
class Placeholder:
    source: str  # the text as written, "{{ lead.first_name }}"
    namespace: str  # "record", "sender"
    field: str  # "first_name"; "" for the record itself
    default: str


def record_alias(record_type_key: str) -> str:
    return record_type_key.split(".", 1)[-1]


def exposed_fields(record_type_key: str) -> list[str]:
    """The record type's fields a template may name: those its registration exposes, and its custom fields."""
    from crm.core import records
    from crm.customization.fields import definitions

    try:
        rt = records.get(record_type_key)
    except KeyError:
        return []
    names = [f for f in rt.fields if _concrete(rt.model, f)]
    return names + [cf.key for cf in definitions(record_type_key)]


def _concrete(model, name: str) -> bool:
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return not (field.many_to_many or field.one_to_many)


def available(record_type_key: str, reader=None) -> list[MergeField]:
    """The merge fields offered for a record type, as the reader may use them (hidden fields left out)."""
    from crm.core import records
    from crm.core.display import field_label

    try:
        rt = records.get(record_type_key)
    except KeyError:
        return []
    hidden = _hidden(reader, record_type_key)
    alias = record_alias(record_type_key)
    result = [MergeField(alias, capfirst(str(rt.label)))]
    result += [MergeField(f"{alias}.{name}", field_label(rt.model, name))
               for name in exposed_fields(record_type_key) if name not in hidden]
    result += [MergeField(f"sender.{name}", f"{_('Sender')}: {label}") for name, label in SENDER_FIELDS.items()]
    return result


def _hidden(reader, record_type_key: str) -> set[str]:
    if reader is None:
        return set()
    from crm.access.fls import hidden_fields

    return hidden_fields(reader, record_type_key)


def placeholders(text: str, record_type_key: str, *, html: bool = False) -> tuple[list[Placeholder], list[str]]:
    """The placeholders of `text` and the errors that make it unusable (tags, unknown fields). In HTML the
    placeholder's text is read as the browser would (`&amp;` is `&`)."""
    errors: list[str] = []
    found: list[Placeholder] = []
    if FORBIDDEN.search(text or ""):
        errors.append(_("Template tags such as {%% … %%} are not allowed; use merge fields like {{ %(example)s }}.")
                      % {"example": f"{record_alias(record_type_key)}.first_name"})
    alias = record_alias(record_type_key)
    fields = set(exposed_fields(record_type_key))
    for match in CURLY.finditer(text or ""):
        parsed = PLACEHOLDER.match(unescape(match.group(1)) if html else match.group(1))
        if parsed is None:
            errors.append(_("%(text)s is not a merge field.") % {"text": match.group(0)[:80]})
            continue
        namespace, _dot, field = parsed.group("path").partition(".")
        if namespace in (alias, "record") and (not field or field in fields):
            found.append(Placeholder(match.group(0), "record", field, parsed.group("default") or ""))
        elif namespace == "sender" and field in SENDER_FIELDS:
            found.append(Placeholder(match.group(0), "sender", field, parsed.group("default") or ""))
        else:
            errors.append(_("%(text)s is not a field of this record type.") % {"text": match.group(0)[:80]})
    return found, errors


def errors(text: str, record_type_key: str, *, html: bool = False) -> list[str]:
    return placeholders(text, record_type_key, html=html)[1]


def values(found: list[Placeholder], *, record, reader, sender) -> tuple[dict[str, str], list[str]]:
    """Each placeholder's text (raw, unescaped), and the fields left empty because the reader may not see
    them. A placeholder that is not a field renders empty: it was refused on saving, and is never resolved."""
    from crm.core import records
    from crm.core.display import field_value

    key = records.key_of(record) if record is not None else ""
    allowed = set(exposed_fields(key)) if key else set()
    hidden = _hidden(reader, key) if key else set()
    result: dict[str, str] = {}
    withheld: list[str] = []
    for p in found:
        text = ""
        if p.namespace == "record" and record is not None:
            if not p.field:
                text = str(record)
            elif p.field in hidden:
                withheld.append(p.field)
            elif p.field in allowed:
                text = field_value(record, p.field)
        elif p.namespace == "sender" and sender is not None:
            text = _sender_value(sender, p.field)
        result[p.source] = text or p.default
    return result, withheld


def _sender_value(user, field: str) -> str:
    if field == "full_name":
        return user.get_full_name() or user.email
    return str(getattr(user, field, "") or "") if field in SENDER_FIELDS else ""


def render(text: str, table: dict[str, str], *, html: bool) -> str:
    """Put the values in. In HTML every value is escaped; anything that is not a known placeholder becomes
    empty (a template saved before a field was removed)."""
    def replace(match):
        value = table.get(match.group(0), "")
        return escape(value) if html else value

    text = FORBIDDEN.sub("", text or "")
    return CURLY.sub(replace, text)


def sample_values(found: list[Placeholder], record_type_key: str) -> dict[str, str]:
    """Stand-ins for a preview without a record: each field's label in brackets."""
    from crm.core import records
    from crm.core.display import field_label

    try:
        model = records.get(record_type_key).model
    except KeyError:
        model = None
    table = {}
    for p in found:
        if p.namespace == "sender":
            label = SENDER_FIELDS[p.field]
        elif not p.field or model is None:
            label = record_alias(record_type_key)
        else:
            label = field_label(model, p.field)
        table[p.source] = f"[{capfirst(str(label))}]"
    return table
