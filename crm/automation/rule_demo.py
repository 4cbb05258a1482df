"""Demo workflow rules, and a week of their runs in the execution log, so an admin sees what automation does on the
first visit:

- a social-media lead from the web form goes round robin to the Inbound team; it is answered, in the lead's
  language, from the "Thanks for your interest" template by the demo auto-responder (crm.automation.
  autoresponder_demo), not by this rule, so it gets one answer;
- an opportunity in "Proposal / price quote" that has stood there 48 hours gets a follow-up task for its owner.
  Opportunities keep no "last activity" date, so the rule counts from "in stage since" (stage_entered_at) with
  the criteria stage = Proposal, re-checked at the due time.

Idempotent: rules and templates are found by name, log rows by their keys. The demo's own records are not re-run
through the new rules: a rule ignores events from before it existed."""
from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

LEAD_RULE = "Social-media leads: round robin to Inbound, answered in their language"
OPPORTUNITY_RULE = "Proposal without activity for 48 hours: follow-up task"
TEMPLATE = "Thanks for your interest"
VARIANTS = {
    "en": ("Thanks for your interest, {{ lead.first_name }}",
           "<p>Hello {{ lead.first_name|default:\"there\" }},</p><p>thank you for reaching out. "
           "{{ sender.full_name }} will contact you within one working day.</p>"),
    "fi": ("Kiitos yhteydenotostasi, {{ lead.first_name }}",
           "<p>Hei {{ lead.first_name|default:\"\" }},</p><p>kiitos yhteydenotostasi. "
           "{{ sender.full_name }} ottaa sinuun yhteyttä yhden työpäivän kuluessa.</p>"),
    "fa": ("از توجه شما سپاسگزاریم، {{ lead.first_name }}",
           "<p>سلام {{ lead.first_name|default:\"\" }}،</p><p>از پیام شما سپاسگزاریم. "
           "{{ sender.full_name }} ظرف یک روز کاری با شما تماس می‌گیرد.</p>"),
}


def seed(context: dict) -> None:
    from crm.access.models import Team
    from crm.automation import rule_services
    from crm.automation.models_rules import WorkflowRule
    from crm.mail.models import EmailTemplate
    from crm.mail.services import template_save
    from opportunities.models import Pipeline

    users = context.get("users") or {}
    admin = users.get("admin")
    team = Team.objects.filter(name="Inbound team").first()
    template = EmailTemplate.objects.filter(record_type="leads.lead", name=TEMPLATE).first() or template_save(
        actor=admin, name=TEMPLATE, record_type="leads.lead", variants=VARIANTS,
        description="Automatic answer to a new lead")
    lead_rule = WorkflowRule.objects.filter(name=LEAD_RULE).first()
    if lead_rule is None and team is not None:
        lead_rule = rule_services.rule_create(
            actor=admin, record_type="leads.lead", name=LEAD_RULE, order=10,
            description="Web-form leads whose source is social media",
            spec={"trigger": "created",
                  "criteria": {"all": [{"field": "source", "op": "equals", "value": "social-media"}]},
                  "actions": [{"kind": "assign_owner", "round_robin_team": team.pk}]})
    default = Pipeline.objects.filter(is_default=True).first()
    proposal = default.stages.filter(name__startswith="Proposal").first() if default else None
    opp_rule = WorkflowRule.objects.filter(name=OPPORTUNITY_RULE).first()
    if opp_rule is None and proposal is not None:
        opp_rule = rule_services.rule_create(
            actor=admin, record_type="opportunities.opportunity", name=OPPORTUNITY_RULE, order=10,
            description="Counted from “in stage since”: opportunities keep no last-activity date",
            spec={"trigger": "time_based", "trigger_field": "stage_entered_at", "offset_amount": 48,
                  "offset_unit": "hours", "offset_direction": "after",
                  "criteria": {"all": [{"field": "stage", "op": "equals", "value": str(proposal.pk)}]},
                  "actions": [{"kind": "create_task", "subject": "Follow up on {{ opportunity.name }}",
                               "assignee": "owner", "due_days": 1}]})
    if lead_rule is not None:
        _lead_history(lead_rule, team)
    if opp_rule is not None:
        _opportunity_history(opp_rule)


def _week_stamp(rng, now, when=None):
    """`when` if it falls in the last seven days, else a working-hours moment of the week."""
    if when is not None and now - timedelta(days=7) <= when <= now:
        return when
    return now - timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 8), minutes=rng.randint(0, 59))


def _log(rule, record, when, *, key_suffix, actions: list[tuple[str, str, dict]], due_at=None, outcome="succeeded",
         criteria=None):
    """One demo run with its action runs (kind, status, result), at `when`; nothing if already there."""
    from crm.automation.engine import explain, run_key
    from crm.automation.models_rules import ActionRun, RuleRun

    content_type = ContentType.objects.get_for_model(record)
    key = run_key(rule.pk, rule.current_version_id, content_type.pk, record.pk, key_suffix)
    if RuleRun.objects.filter(key=key).exists():
        return None
    finished = when + timedelta(milliseconds=180 + record.pk % 500)
    run = RuleRun.objects.create(
        rule=rule, version=rule.current_version, content_type=content_type, object_id=record.pk,
        record_repr=str(record)[:255], trigger=rule.current_version.trigger, due_at=due_at,
        criteria_outcome=criteria if criteria is not None else explain(rule.current_version.criteria, record),
        outcome=outcome, key=key, created_at=when, finished_at=finished,
        duration_ms=int((finished - when).total_seconds() * 1000))
    ActionRun.objects.bulk_create([
        ActionRun(run=run, index=i, kind=kind, key=f"{key}:{i}", status=status, attempts=1, result=result,
                  created_at=when, finished_at=finished) for i, (kind, status, result) in enumerate(actions)])
    return run


def _lead_history(rule, team) -> None:
    """The social-media leads of the demo as the rule would have handled them this week: assigned (the answer is
    the auto-responder's)."""
    from leads.models import Lead

    rng, now = random.Random(11), timezone.now()
    leads = list(Lead.objects.filter(source__value="social-media").select_related("owner").order_by("pk")[:12])
    if not leads:
        leads = list(Lead.objects.select_related("owner").order_by("pk")[:6])
    for lead in leads:
        when = _week_stamp(rng, now, lead.created_at)
        _log(rule, lead, when, key_suffix="demo", actions=[
            ("assign_owner", "succeeded", {"owner": lead.owner_id, "changed": True})])


def _language(lead) -> str:
    from crm.mail.services import recipient_language

    return recipient_language(lead) or "en"


def _opportunity_history(rule) -> None:
    """The deals that have stood in Proposal for 48 hours: their follow-up tasks, and the runs that made them
    (their due times marked done, so the rule never fires on them twice)."""
    from crm.activities.models import Activity
    from crm.activities.services import activity_create
    from crm.automation.engine import compile_version, due_time
    from crm.automation.models_rules import ScheduledRun
    from crm.core import conditions
    from opportunities.models import Opportunity

    rng, now = random.Random(12), timezone.now()
    compiled = compile_version(rule, rule.current_version)
    content_type = ContentType.objects.get_for_model(Opportunity)
    deals = [o for o in Opportunity.objects.filter(conditions.to_q(compiled.criteria, Opportunity))
             .select_related("owner").order_by("pk")[:10] if (due_time(compiled, o) or now) <= now]
    for deal in deals:
        due = due_time(compiled, deal)
        when = _week_stamp(rng, now, due)
        if ScheduledRun.objects.filter(rule=rule, content_type=content_type, object_id=deal.pk, due_at=due).exists():
            continue
        task = activity_create(target=deal, actor=None, kind=Activity.Kind.TASK, subject=f"Follow up on {deal.name}",
                               assigned_to=deal.owner, due_at=when + timedelta(days=1),
                               data={"automation": {"rule": rule.pk, "demo": True}})
        run = _log(rule, deal, when, key_suffix=f"t{due.isoformat()}", due_at=due, actions=[
            ("create_task", "succeeded", {"task": task.pk, "assigned_to": deal.owner_id,
                                          "subject": task.subject})])
        ScheduledRun.objects.create(rule=rule, version=rule.current_version, content_type=content_type,
                                    object_id=deal.pk, due_at=due, status=ScheduledRun.Status.DONE, run=run,
                                    created_at=when, updated_at=when)
