from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from crm.core.schedule import periodic

        # Reminders are rows claimed with SKIP LOCKED: a minute's granularity, never twice.
        periodic("activity-reminders", "crm.activities.tasks.reminders_send_task", every=60)

        from crm.core.demo import register_demo

        register_demo("activities", "crm.activities.demo.seed", after=("access", "leads", "accounts", "opportunities"))
