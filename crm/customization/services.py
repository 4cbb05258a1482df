"""Writes to what admins configure: custom field definitions and picklist values.
Each write leaves a CUSTOMIZATION_CHANGED audit row with the acting admin and IP."""
from __future__ import annotations

from django.db import transaction


from crm.access.models import AuditLog
from crm.access.services import audit
from crm.customization import picklists
from crm.customization.models import CustomField, PicklistValue

CUSTOM_FIELD_FIELDS = ("label", "label_translations", "field_type", "required", "default", "help_text",
                       "choices", "section", "order", "show_in_list", "is_active")


def _snapshot(obj, names) -> dict:
    return {n: getattr(obj, n) for n in names}


@transaction.atomic
def custom_field_create(*, actor, record_type: str, name: str, ip=None, **fields) -> CustomField:
    field = CustomField.objects.create(record_type=record_type, name=name, **fields)
    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=field, ip=ip,
          data={"created": True, "record_type": record_type, "name": name, "after": _snapshot(field, fields)})
    return field


@transaction.atomic
def custom_field_update(*, actor, field: CustomField, ip=None, **fields) -> CustomField:
    # The API name is the key of stored values (Record.custom) and of field-level security: never renamed.
    fields.pop("name", None)
    fields.pop("record_type", None)
    if "field_type" in fields and fields["field_type"] != field.field_type and _has_values(field):
        # Stored values were validated for the old type; changing it would make them unreadable.
        raise ValueError("the type of a custom field with stored values cannot change")
    before = _snapshot(field, fields)
    for key, value in fields.items():
        setattr(field, key, value)
    field.save()
    after = _snapshot(field, fields)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=field, ip=ip,
              data={"record_type": field.record_type, "name": field.name, "changes": changes})
    return field


def _has_values(field: CustomField) -> bool:
    from crm.core import records

    try:
        model = records.get(field.record_type).model
    except KeyError:
        return False
    return model.objects.filter(custom__has_key=field.name).exists()


def custom_field_set_active(*, actor, field: CustomField, active: bool, ip=None) -> CustomField:
    """Fields are deactivated, never deleted: records keep their stored values."""
    return custom_field_update(actor=actor, field=field, ip=ip, is_active=active)


def picklist_names() -> list[str]:
    return list(PicklistValue.objects.order_by("picklist").values_list("picklist", flat=True).distinct())


def picklist_title(name: str) -> str:
    """A human title for "leads.source": "Lead: Source", from the model's verbose names."""
    from crm.core import records

    app_label, _, field_name = name.partition(".")
    for rt in records.all_types():
        if rt.key.split(".")[0] != app_label:
            continue
        try:
            field = rt.model._meta.get_field(field_name)
        except Exception:  # noqa: BLE001 - not a field of this model; try the next type
            continue
        return f"{str(rt.label).capitalize()}: {str(getattr(field, 'verbose_name', field_name)).capitalize()}"
    return name.replace(".", ": ").replace("_", " ").capitalize()


@transaction.atomic
def picklist_value_create(*, actor, picklist: str, value: str, label: str, label_translations: dict | None = None,
                          ip=None) -> PicklistValue:
    last = PicklistValue.objects.filter(picklist=picklist).order_by("-order").values_list("order", flat=True).first()
    row = PicklistValue.objects.create(picklist=picklist, value=value, label=label,
                                       label_translations=label_translations or {}, order=(last or 0) + 10)
    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=row, ip=ip,
          data={"picklist": picklist, "created": True, "value": value, "label": label})
    return row


@transaction.atomic
def picklist_values_update(*, actor, picklist: str, rows: list[dict], ip=None) -> None:
    """Bulk edit of one picklist: each row {"id", "label", "label_translations", "order", "is_active",
    "is_default"}. At most one value is the default (the rest are cleared)."""
    defaults = [r for r in rows if r.get("is_default")]
    if len(defaults) > 1:
        raise ValueError("only one default")
    values = {v.pk: v for v in PicklistValue.objects.select_for_update().filter(picklist=picklist)}
    changes = {}
    for row in rows:
        value = values[row["id"]]
        before = _snapshot(value, ("label", "label_translations", "order", "is_active", "is_default"))
        for key in before:
            if key in row:
                setattr(value, key, row[key])
        after = _snapshot(value, before.keys())
        diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if diff:
            value.save()
            changes[value.value] = diff
    if defaults:
        # Clear any other default, including values not in this edit.
        PicklistValue.objects.filter(picklist=picklist, is_default=True).exclude(pk=defaults[0]["id"]).update(is_default=False)
        picklists.changed()
    if changes:
        audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target_type="customization.picklist", ip=ip,
              data={"picklist": picklist, "changes": changes})


@transaction.atomic
def picklist_default_set(*, actor, picklist: str, value: PicklistValue | None, ip=None) -> None:
    PicklistValue.objects.filter(picklist=picklist, is_default=True).update(is_default=False)
    if value is not None:
        PicklistValue.objects.filter(pk=value.pk).update(is_default=True)
    picklists.changed()
    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target_type="customization.picklist", ip=ip,
          data={"picklist": picklist, "default": getattr(value, "value", None)})
