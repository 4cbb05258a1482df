"""The "History" tab: who changed which field from what to what, and when,
read from django-simple-history rows (custom fields expanded key by key)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


from crm.core import display

# Columns no record type shows on its History tab; each type adds its own (RecordType.history_exclude).
NOISE = {"updated_at", "custom", "history_id", "history_date", "history_change_reason", "history_type",
         "history_user", "id"}


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    who: object
    kind: str  # created / changed / deleted
    changes: list[Change] = field(default_factory=list)
    merged_from: str = ""  # a merged-in record's id: its rows keep their own sequence


def _value(model, row, name: str) -> str:
    """Display value of a field on a historical row. A related record named by an old row may be gone since
    (deleted, merged into another): it shows as its id."""
    f = model._meta.get_field(name)
    if f.is_relation:
        raw = getattr(row, f.attname)
        if raw is None:
            return ""
        try:
            return str(getattr(row, name) or raw)
        except f.related_model.DoesNotExist:
            return f"#{raw}"
    if f.choices:
        return str(dict(f.flatchoices).get(getattr(row, name), getattr(row, name)) or "")
    return display.format_value(getattr(row, name))


def field_history(record, user, limit: int = 100) -> list[HistoryEntry]:
    from crm.access.fls import hidden_fields
    from crm.customization.fields import by_key, display as cf_display

    model = type(record)
    rt = f"{model._meta.app_label}.{model._meta.model_name}"
    hidden = hidden_fields(user, rt)
    customs = {cf.name: cf for cf in by_key(rt).values()}
    from crm.core import records

    noise = NOISE | records.for_model(model).history_exclude
    tracked = [f.name for f in model._meta.concrete_fields if f.name not in noise and f.name not in hidden]
    rows = list(record.history.select_related("history_user").order_by("history_date", "history_id")[: limit + 1])
    entries = []
    previous_by_stream = {}
    for row in rows:
        kind = {"+": "created", "~": "changed", "-": "deleted"}[row.history_type]
        reason = row.history_change_reason or ""
        stream = reason.removeprefix("merged:") if reason.startswith("merged:") else ""
        previous = previous_by_stream.get(stream)
        entry = HistoryEntry(when=row.history_date, who=row.history_user, kind=kind, merged_from=stream)
        if previous is not None:
            for name in tracked:
                f = model._meta.get_field(name)
                key = f.attname
                if getattr(previous, key) != getattr(row, key):
                    entry.changes.append(Change(name, display.field_label(model, name),
                                                _value(model, previous, name), _value(model, row, name)))
            old_custom, new_custom = previous.custom or {}, row.custom or {}
            for name in sorted(set(old_custom) | set(new_custom)):
                if old_custom.get(name) == new_custom.get(name) or f"cf_{name}" in hidden:
                    continue
                cf = customs.get(name)
                label = cf.display_label if cf else name
                render = (lambda v: cf_display(cf, v)) if cf else (lambda v: "" if v is None else str(v))
                entry.changes.append(Change(f"cf_{name}", label, render(old_custom.get(name)), render(new_custom.get(name))))
        if kind != "changed" or entry.changes:
            entries.append(entry)
        previous_by_stream[stream] = row
    entries.reverse()
    return entries[:limit]
