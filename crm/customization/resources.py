"""Custom fields in django-import-export resources: one `cf_<name>` column per
active custom field, validated on import by the same rules as the forms and
rendered on export as the detail page shows it."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export.fields import Field

from crm.customization.fields import definitions, display, validate_values


class CustomFieldsResourceMixin:
    record_type: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        meta = self._meta.model._meta
        self.record_type = self.record_type or f"{meta.app_label}.{meta.model_name}"
        self.custom_fields = definitions(self.record_type)
        for cf in self.custom_fields:
            self.fields[cf.key] = Field(attribute=None, column_name=cf.key, readonly=False)

    def get_export_order(self):
        order = list(super().get_export_order())
        return order + [cf.key for cf in self.custom_fields if cf.key not in order]

    def export_field(self, field, instance, **kwargs):
        if field.column_name.startswith("cf_"):
            cf = next((c for c in self.custom_fields if c.key == field.column_name), None)
            return display(cf, (instance.custom or {}).get(cf.name)) if cf else ""
        return super().export_field(field, instance, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        present = {key: value for key, value in row.items() if key.startswith("cf_")}
        values, cf_errors = validate_values(self.record_type, present, self.custom_fields)
        custom = dict(instance.custom or {})
        for name, value in values.items():
            if value is None:
                custom.pop(name, None)
            else:
                custom[name] = value
        if instance.pk is None:
            for cf in self.custom_fields:
                if cf.required and cf.name not in custom and cf.key not in cf_errors:
                    cf_errors[cf.key] = [_("%(field)s: this field is required.") % {"field": cf.display_label}]
        instance.custom = custom
        for key, messages in cf_errors.items():
            errors[key] = messages
        if errors:
            raise ValidationError(errors)
