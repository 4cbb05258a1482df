"""Field-level security in one place: forms, detail pages, lists, exports and
imports ask here which fields a user may see and change."""
from __future__ import annotations

from crm.access.models import FieldAccess
from crm.access.visibility import field_access


def hidden_fields(user, record_type: str) -> set[str]:
    return {f for f, a in field_access(user, record_type).items() if a == FieldAccess.HIDDEN}


def readonly_fields(user, record_type: str) -> set[str]:
    return {f for f, a in field_access(user, record_type).items() if a == FieldAccess.READ_ONLY}


def apply_to_form(form, user, record_type: str) -> None:
    """Drop hidden fields; disable read-only ones (Django ignores posted values of disabled fields)."""
    access = field_access(user, record_type)
    for name, level in access.items():
        if name not in form.fields:
            continue
        if level == FieldAccess.HIDDEN:
            del form.fields[name]
        else:
            form.fields[name].disabled = True


def visible(user, record_type: str, names: list[str]) -> list[str]:
    hidden = hidden_fields(user, record_type)
    return [n for n in names if n not in hidden]


def check_writable(user, record_type: str, names) -> set[str]:
    """The names among `names` this user may not write."""
    access = field_access(user, record_type)
    return {n for n in names if n in access}
