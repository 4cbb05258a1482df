"""The demo escalation rule "Lead untouched": a lead still "Not contacted" is watched from its creation, on the
Helsinki office hours when the demo has them. After 4 business hours its owner is reminded; after 8 the owner's
manager hears of it and the lead goes round robin to the Inbound team. It stops when the status changes or
someone logs an activity on the lead.

With it, the log of its past firings (the most recent demo leads, levels fired at their due times, some
stopped by a call) and two leads that came in this morning, still waiting, so an admin sees what escalation
does on the first visit. Idempotent: the rule is found by name, and its log is written only when the rule is."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

RULE = "Lead untouched"
CRITERIA = {"all": [{"field": "status", "op": "equals", "value": "not-contacted"}]}
STOP = {"all": [{"field": "status", "op": "changed"}]}
REMIND = {"kind": "notify", "to": "owner",
          "message": "{{ lead.first_name }} {{ lead.last_name }} has waited 4 business hours for a first contact"}
TELL_MANAGER = {"kind": "notify", "to": "owner_manager",
                "message": "{{ lead.first_name }} {{ lead.last_name }} untouched for 8 business hours: reassigned"}


def seed(context: dict) -> None:
    from crm.access.models import Team
    from crm.automation import escalations
    from crm.automation.demo import HELSINKI
    from crm.automation.models import BusinessCalendar
    from crm.automation.models_escalations import EscalationRule

    if EscalationRule.objects.filter(name=RULE).exists():
        return
    admin = (context.get("users") or {}).get("admin")
    team = Team.objects.filter(name="Inbound team").first()
    calendar = BusinessCalendar.objects.filter(name=HELSINKI).first()
    second = [TELL_MANAGER] + ([{"kind": "assign_owner", "round_robin_team": team.pk}] if team else [])
    rule = escalations.escalation_rule_save(
        actor=admin, record_type="leads.lead", name=RULE, criteria=CRITERIA, stop_criteria=STOP,
        clock_field="created_at", calendar=calendar, stop_on_activity=True, order=10,
        levels=[{"after_minutes": 240, "actions": [REMIND]}, {"after_minutes": 480, "actions": second}])
    _history(rule)
    _this_morning(rule)
    escalations.plan_existing(rule_id=rule.pk)


def _history(rule) -> None:
    """Past firings on the most recent demo leads (as they would have happened): level 1 on each, level 2 on
    every other one, the rest stopped by a call or a status change before their second level."""
    from crm.automation.escalations import compile_rule, due_time
    from crm.automation.models_escalations import EscalationDue
    from leads.models import Lead

    compiled = compile_rule(rule)
    first, second = sorted(rule.levels.all(), key=lambda lv: lv.number)
    content_type = ContentType.objects.get_for_model(Lead)
    now, rows = timezone.now(), []
    leads = list(Lead.objects.select_related("owner").order_by("-created_at")[:10])
    for i, lead in enumerate(leads):
        start = lead.created_at
        due1, due2 = due_time(compiled, start, compiled.levels[0].after), due_time(compiled, start,
                                                                                 compiled.levels[1].after)
        if due2 > now:
            continue
        owner = [lead.owner_id] if lead.owner_id else []
        base = {"rule": rule, "content_type": content_type, "object_id": lead.pk, "record_repr": str(lead)[:255],
                "clock_start": start, "attempts": 1, "created_at": start, "updated_at": now}
        rows.append(EscalationDue(level=first, due_at=due1, state="fired", fired_at=due1, **base, results=[
            {"kind": "notify", "status": "succeeded", "result": {"notified": owner, "demo": True}}]))
        if i % 2 == 0:
            rows.append(EscalationDue(level=second, due_at=due2, state="fired", fired_at=due2, **base, results=[
                {"kind": kind, "status": "succeeded", "result": {"demo": True}}
                for kind in [a["kind"] for a in second.actions]]))
        else:
            reason = EscalationDue.Reason.ACTIVITY if i % 4 == 1 else EscalationDue.Reason.STOPPED
            rows.append(EscalationDue(level=second, due_at=due2, state="cancelled", reason=reason,
                                      note=str(reason.label), **base))
    EscalationDue.objects.bulk_create(rows, ignore_conflicts=True)


def _this_morning(rule) -> None:
    """Two not-contacted leads came in this morning (an hour and two ago): their levels wait."""
    from leads.models import Lead

    now = timezone.now()
    leads = list(Lead.objects.filter(status__value="not-contacted").order_by("-created_at")[:2])
    for hours, lead in zip((1, 2), leads):
        if now - lead.created_at > timedelta(hours=hours):
            Lead.objects.filter(pk=lead.pk).update(created_at=now - timedelta(hours=hours))
