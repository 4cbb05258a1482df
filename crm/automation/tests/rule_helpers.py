"""Helpers of the workflow-rule tests: make a rule through the service, deliver the events waiting in the
outbox the way the events worker does (crm.core.events.deliver), and run the actions the engine queued."""
from __future__ import annotations

from crm.automation import rule_services
from crm.automation.engine import execute_action_run
from crm.automation.models_rules import ActionRun
from crm.core.events import deliver
from crm.core.models import Event

HOT_TASK = {"kind": "create_task", "subject": "Call {{ lead.first_name }} today", "assignee": "owner", "due_days": 0}


def make_rule(*, actor=None, record_type="leads.lead", name="Rule", trigger="created", criteria=None, actions=None,
              **spec):
    return rule_services.rule_create(actor=actor, record_type=record_type, name=name, spec={
        "trigger": trigger, "criteria": criteria or {}, **spec,
        "actions": actions or [HOT_TASK if record_type == "leads.lead" else {**HOT_TASK, "subject": "Follow up"}]})


def deliver_events() -> int:
    """Deliver every undelivered event to every subscriber, as the after-commit task would."""
    ids = list(Event.objects.filter(delivered_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    return deliver(ids) if ids else 0


def run_actions() -> list[str]:
    """Run the queued actions (each as the action task would, following on to a run's next ones)."""
    statuses = []
    for pk in ActionRun.objects.filter(status="pending", attempts=0, index=0).order_by("pk").values_list("pk", flat=True):
        statuses.append(execute_action_run(pk))
    return statuses


def settle() -> None:
    deliver_events()
    run_actions()


def hot(value="hot"):
    return {"all": [{"field": "rating", "op": "equals", "value": value}]}
