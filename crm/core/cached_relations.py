"""Foreign keys to users and picklist values filled from their process-wide caches (the user directory,
the picklist cache) instead of joins: a user row is wide, and every join costs planning and decoding
time on every page that shows who owns a record or what status it has."""
from __future__ import annotations

from django.conf import settings


def attach(records, *names: str) -> None:
    """Give each record its `names` (foreign keys to users or picklist values) from the caches."""
    from crm.access.directory import people
    from crm.customization import picklists

    records = [records] if not isinstance(records, (list, tuple)) else records
    if not records:
        return
    meta = records[0]._meta
    for name in names:
        field = meta.get_field(name)
        ids = {getattr(r, field.attname) for r in records} - {None}
        label = field.related_model._meta.label
        if label == settings.AUTH_USER_MODEL:
            found = people(ids)
        elif label == "customization.PicklistValue":
            found = {pk: picklists.get(pk) for pk in ids}
        else:
            raise ValueError(f"{name} is neither a user nor a picklist value")
        for record in records:
            field.set_cached_value(record, found.get(getattr(record, field.attname)))
