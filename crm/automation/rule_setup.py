"""Wiring of the workflow-rule engine, called from the automation app's ready(): the event subscription, the
beat entries, the settings sections and the demo."""
from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from crm.core.demo import register_demo
    from crm.core.events import subscribe
    from crm.core.schedule import periodic
    from crm.core.settings_sections import register_section

    from crm.automation import actions, rule_tasks  # noqa: F401 - the built-in actions and the tasks register
    from crm.automation.engine import handle_event, subscriber_name

    # One subscriber per business-record model ("lead.*", "opportunity.*"…), each under a stable name: deliveries
    # are recorded under it, so renaming one would hand its events over again. Other events (tests' "test.*",
    # "segment.*" of models that are no records) never reach the engine.
    from django.apps import apps

    from crm.core.models import Record

    for model in apps.get_models():
        if issubclass(model, Record):
            name = model._meta.model_name
            subscribe(f"{name}.*", handle_event, name=subscriber_name(name))
    periodic("automation-tick", "crm.automation.rule_tasks.automation_tick_task", every=60)
    periodic("automation-cleanup", "crm.automation.rule_tasks.automation_cleanup_task", every=24 * 3600)
    register_section("workflow_rules", _("Workflow rules"), "lightning-charge", "automation:rule_list",
                     right="manage_customization", order=300)
    register_section("automation_health", _("Automation log and health"), "activity", "automation:health",
                     right="manage_customization", order=305)
    from crm.core.panels import register_panel

    for record_type in ("leads.lead", "accounts.account", "accounts.contact", "opportunities.opportunity"):
        register_panel(record_type, "workflow_rules", "automation/rules/_record_panel.html", _record_panel, order=90)
    register_demo("automation_rules", "crm.automation.rule_demo.seed",
                  after=("automation", "access", "leads", "opportunities", "mail", "activities"))


def _record_panel(request, record):
    from crm.automation.rule_views import record_panel

    return record_panel(request, record)
