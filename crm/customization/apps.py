from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.customization"
    label = "customization"
    verbose_name = _("Customization")

    def ready(self):
        from crm.core.settings_sections import register_section
        from crm.customization.fields import definitions_changed

        register_section("custom_fields", _("Custom fields"), "ui-checks", "customization:fields",
                         right="manage_customization", order=100)
        register_section("picklists", _("Picklists"), "list-ul", "customization:picklists",
                         right="manage_customization", order=110)
        from crm.customization import picklists
        from crm.customization.models import CustomField, PicklistValue

        # Cache invalidation only (no business rule): every process re-reads the definitions.
        def invalidate(sender, instance, **kwargs):
            definitions_changed(instance.record_type)

        post_save.connect(invalidate, sender=CustomField, dispatch_uid="customfield-cache-save", weak=False)
        post_delete.connect(invalidate, sender=CustomField, dispatch_uid="customfield-cache-delete", weak=False)

        def picklist_changed(sender, **kwargs):
            picklists.changed()

        post_save.connect(picklist_changed, sender=PicklistValue, dispatch_uid="picklist-cache-save", weak=False)
        post_delete.connect(picklist_changed, sender=PicklistValue, dispatch_uid="picklist-cache-delete", weak=False)
