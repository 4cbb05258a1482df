from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "crm.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self):
        from django.core import checks

        from crm.core.demo import register_demo

        from .actions import check_allowed_networks

        checks.register(check_allowed_networks)
        from crm.core.settings_sections import register_section

        # Business-hours calendars: what escalations and SLA policies count their hours on.
        register_section("business_hours", _("Business hours and holidays"), "calendar-week",
                         "automation:calendar_list", right="manage_customization", order=320)
        register_demo("automation", "crm.automation.demo.seed", after=("access",))
        self._ready_approvals()

    @staticmethod
    def _ready_approvals():
        """Approval processes: the lock while a request waits, the apps' submit/withdraw events, the panel on
        every record page, reminders and escalation on beat, and Settings → Approval processes."""
        from crm.core.events import subscribe
        from crm.core.locks import register_locked_filter, register_lock
        from crm.core.panels import register_panel
        from crm.core.schedule import periodic
        from crm.core.settings_sections import register_section

        from . import approvals, tasks_approvals  # noqa: F401  (not tasks.py: Celery's autodiscovery would miss it)
        from .views_approvals import panel_context

        from django.db.models.signals import post_delete, post_save

        from .models_approvals import ApprovalProcess

        post_save.connect(approvals.processes_changed, sender=ApprovalProcess, dispatch_uid="approval-process-saved")
        post_delete.connect(approvals.processes_changed, sender=ApprovalProcess, dispatch_uid="approval-process-deleted")
        register_lock(approvals.lock_check)
        register_locked_filter(approvals.locked_filter)
        subscribe("*.approval_requested", approvals.on_app_event, name="automation.approvals.requested")
        subscribe("*.withdrawn", approvals.on_app_event, name="automation.approvals.withdrawn")
        register_panel("*", "approvals", "automation/approvals/_panel.html", panel_context, order=5)
        periodic("approvals-remind", "crm.automation.tasks_approvals.approvals_remind_task", every=300)
        from crm.core.demo import register_demo

        register_demo("approvals", "crm.automation.demo_approvals.seed", after=("access", "opportunities"))
        register_section("approvals", _("Approval processes"), "check2-square", "approvals:process_list",
                         right="manage_customization", order=330)

        from .actions_approval import register as register_approval_action

        register_approval_action()

        # Workflow rules: the engine's event subscription, beat entries, settings sections, panel and demo.
        from crm.automation.rule_setup import ready as rules_ready

        rules_ready()

        # Auto-responders: their outbox subscription, beat entry, settings section and demo.
        from crm.automation.autoresponders import register as autoresponders_ready

        autoresponders_ready()

        # Escalation rules: their outbox subscriptions, beat entry, settings section, record panel and demo.
        from crm.automation.escalations import register as escalations_ready

        escalations_ready()
