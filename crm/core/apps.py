from django.apps import AppConfig
from django.core import checks


class Config(AppConfig):
    name = "crm.core"
    label = "core"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from crm.core import events, schedule
        from crm.core.checks import record_custom_index
        from crm.core.settings_sections import register_section

        register_section("events", _("Event deliveries"), "broadcast", "core:events", right="view_audit_log", order=890)
        schedule.periodic("events-sweep", "crm.core.tasks.events_sweep_task", every=60)
        events._import_extra_subscribers()
        checks.register(record_custom_index, checks.Tags.models)
