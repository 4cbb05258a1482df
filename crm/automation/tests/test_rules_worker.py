"""Workflow rules on a real Celery worker and real Redis: a committed save's event is delivered by the worker,
the engine's run is written, and the action task (queued after commit) creates the task; beat's tick runs on the
worker too, firing a due time-based run and writing the heartbeat."""
from datetime import timedelta

from django.utils import timezone

from conftest import wait_for
from crm.activities.models import Activity
from crm.automation.models_rules import ActionRun, Heartbeat, RuleRun, ScheduledRun
from crm.automation.tests.rule_helpers import hot, make_rule
from leads.models import Lead
from leads.services import lead_create


def test_a_committed_lead_fires_its_rule_on_the_worker(celery_worker, reps):
    rep, _, _ = reps
    make_rule(criteria=hot())
    lead = lead_create(actor=rep, lead=Lead(first_name="Aino", last_name="Laine", owner=rep, rating="hot"))
    task = wait_for(lambda: Activity.objects.filter(kind="task", object_id=lead.pk).first(), timeout=60)
    assert task.assigned_to == rep and task.subject == "Call Aino today"
    run = wait_for(lambda: RuleRun.objects.filter(outcome="succeeded").first())
    assert run.object_id == lead.pk and ActionRun.objects.get().status == "succeeded"


def test_beat_tick_on_the_worker_fires_a_due_time_based_run(celery_worker, reps):
    from crm.automation.rule_tasks import automation_tick_task
    from opportunities.services import opportunity_create
    from opportunities.tests.factories import stage

    rep, _, _ = reps
    make_rule(record_type="opportunities.opportunity", trigger="time_based", trigger_field="stage_entered_at",
              offset_amount=0, offset_unit="minutes")
    opp = opportunity_create(actor=rep, name="Due now", stage=stage("Proposal / price quote"), owner=rep, amount=5)
    row = wait_for(lambda: ScheduledRun.objects.filter(object_id=opp.pk, status="pending").first(), timeout=60)
    assert row.due_at <= timezone.now()
    automation_tick_task.delay()
    wait_for(lambda: Activity.objects.filter(kind="task", object_id=opp.pk).exists(), timeout=60)
    assert ScheduledRun.objects.get(pk=row.pk).status == "done"
    assert timezone.now() - Heartbeat.objects.get(name="automation-tick").at < timedelta(minutes=1)
