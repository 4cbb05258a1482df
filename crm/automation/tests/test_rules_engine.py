"""The workflow-rule engine: every trigger, criteria through the one condition vocabulary (operators, AND/OR,
changed to), versions, loop protection, time-based runs (moved, cancelled, past due times, apply to existing)
and idempotency of a redelivered event."""
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.activities.models import Activity
from crm.automation import engine, rule_services
from crm.automation.models_rules import ActionRun, RuleRun, ScheduledRun
from crm.automation.tests.rule_helpers import HOT_TASK, deliver_events, hot, make_rule, run_actions, settle
from crm.core import events
from crm.core.models import Event
from leads.models import Lead
from leads.services import lead_create, lead_snapshot, lead_update

pytestmark = pytest.mark.django_db


def new_lead(owner, **fields):
    return lead_create(actor=owner, lead=Lead(last_name=fields.pop("last_name", "Laine"), owner=owner, **fields))


def change(lead, actor, **fields):
    before = lead_snapshot(lead)
    for name, value in fields.items():
        setattr(lead, name, value)
    return lead_update(actor=actor, lead=lead, before=before)


def tasks(lead):
    return list(Activity.objects.filter(kind="task", object_id=lead.pk, content_type__model="lead"))


# --- triggers -----------------------------------------------------------------------------------------------------

def test_on_create_a_hot_lead_gets_a_task_for_its_owner_and_a_cold_one_none(reps):
    rep, _other, _manager = reps
    make_rule(name="Hot leads", criteria=hot())
    hot_lead = new_lead(rep, first_name="Aino", rating="hot")
    cold_lead = new_lead(rep, first_name="Eero", rating="cold", last_name="Virtanen")
    settle()
    [task] = tasks(hot_lead)
    assert task.assigned_to == rep and task.subject == "Call Aino today" and task.status == "open"
    assert tasks(cold_lead) == []
    run = RuleRun.objects.get()
    assert run.outcome == "succeeded" and run.object_id == hot_lead.pk and run.trigger == "created"
    assert run.criteria_outcome == [{"field": "rating", "label": "Rating", "op": "equals", "op_label": "equals",
                                     "value": "hot", "actual": "hot", "result": True}]
    assert run.action_runs.get().status == "succeeded"


def test_a_created_only_rule_does_not_fire_on_updates_but_created_or_updated_does(reps):
    rep, _, _ = reps
    lead = new_lead(rep, rating="cold")
    deliver_events()
    make_rule(name="Created", criteria=hot())
    make_rule(name="Created or updated", trigger="created_or_updated", criteria=hot())
    change(lead, rep, rating="hot")
    settle()
    assert list(RuleRun.objects.values_list("rule__name", flat=True)) == ["Created or updated"]


def test_criteria_became_true_fires_on_the_change_that_makes_them_true_not_on_every_save_while_true(reps):
    rep, _, _ = reps
    make_rule(name="Became hot", trigger="criteria_became_true", criteria=hot())
    lead = new_lead(rep, rating="cold")
    settle()
    assert not RuleRun.objects.exists()
    change(lead, rep, rating="hot")
    settle()
    change(lead, rep, title="CTO")  # still hot: not again
    settle()
    assert RuleRun.objects.count() == 1 and len(tasks(lead)) == 1
    change(lead, rep, rating="warm")
    change(lead, rep, rating="hot")  # false, then true again: fires again
    settle()
    assert RuleRun.objects.count() == 2


def test_criteria_became_true_on_create_counts_as_becoming_true(reps):
    rep, _, _ = reps
    make_rule(trigger="criteria_became_true", criteria=hot())
    new_lead(rep, rating="hot")
    settle()
    assert RuleRun.objects.count() == 1


def test_a_field_changed_rule_fires_only_when_that_field_changes(reps):
    rep, _, _ = reps
    make_rule(name="Title watch", trigger="field_changed", trigger_field="title")
    lead = new_lead(rep, title="Engineer")
    settle()
    change(lead, rep, city="Oulu")
    settle()
    assert not RuleRun.objects.exists()
    change(lead, rep, title="CTO")
    settle()
    assert RuleRun.objects.count() == 1


def test_a_custom_field_triggers_field_changed_and_criteria_became_true(reps):
    from crm.customization.models import FieldType
    from crm.customization.tests.factories import CustomFieldFactory

    rep, _, _ = reps
    CustomFieldFactory(record_type="leads.lead", name="budget_eur", label="Budget (EUR)", field_type=FieldType.NUMBER)
    CustomFieldFactory(record_type="leads.lead", name="segment", label="Segment")
    make_rule(name="Segment watch", trigger="field_changed", trigger_field="cf_segment")
    make_rule(name="Big budget", trigger="criteria_became_true",
              criteria={"all": [{"field": "cf_budget_eur", "op": "gt", "value": "10000"}]})
    lead = new_lead(rep, custom={"segment": "smb", "budget_eur": "5000"})
    settle()
    assert not RuleRun.objects.exists()
    change(lead, rep, custom={**lead.custom, "budget_eur": "20000"})
    settle()
    change(lead, rep, custom={**lead.custom, "budget_eur": "30000"})  # still above: not again
    settle()
    assert list(RuleRun.objects.values_list("rule__name", flat=True)) == ["Big budget"]
    change(lead, rep, custom={**lead.custom, "segment": "enterprise"})
    settle()
    assert sorted(RuleRun.objects.values_list("rule__name", flat=True)) == ["Big budget", "Segment watch"]
    event = Event.objects.filter(name="lead.updated").order_by("pk").last()
    assert event.changes == {"cf_segment": ["smb", "enterprise"]}


def test_the_rule_index_finds_exactly_the_rules_a_full_scan_would(reps):
    """Rules whose criteria require a value are looked up under it; the answers are those of every rule's
    criteria checked one by one, in the rules' order."""
    from crm.core import conditions

    rep, _, _ = reps
    specs = [("Finns", {"all": [{"field": "country", "op": "equals", "value": "fi"},
                                {"field": "title", "op": "contains", "value": "cto"}]}),
             ("Nordics", {"field": "country", "op": "in", "value": "SE, NO, FI"}),
             ("Hot", {"all": [{"field": "status", "op": "equals", "value": "hot"}]}),
             ("Either", {"any": [{"field": "country", "op": "equals", "value": "DE"},
                                 {"field": "rating", "op": "equals", "value": "hot"}]}),
             ("Everyone", {})]
    for n, (name, criteria) in enumerate(specs):
        make_rule(name=name, criteria=criteria, order=n, actions=[HOT_TASK])
    make_rule(name="Country moved", trigger="field_changed", trigger_field="country", order=9, actions=[HOT_TASK])
    leads = [new_lead(rep, last_name="A", country="FI", title="CTO"), new_lead(rep, last_name="B", country="no"),
             new_lead(rep, last_name="C", country="", rating="hot"), new_lead(rep, last_name="D")]
    settle()
    fields = conditions.fields_for("leads.lead")
    for lead in leads:
        lead = Lead.objects.get(pk=lead.pk)
        expected = [name for name, criteria in specs if conditions.evaluate(criteria, lead, fields=fields)]
        fired = list(RuleRun.objects.filter(object_id=lead.pk).order_by("pk").values_list("rule__name", flat=True))
        assert fired == expected, lead.last_name
    assert {"Finns", "Nordics", "Everyone"} <= set(RuleRun.objects.filter(object_id=leads[0].pk)
                                                   .values_list("rule__name", flat=True))
    change(leads[3], rep, country="DE")
    settle()
    assert sorted(RuleRun.objects.filter(object_id=leads[3].pk).values_list("rule__name", flat=True)) == [
        "Country moved", "Everyone"]


def test_owner_changes_are_seen_as_the_owner_field(reps):
    rep, other, _ = reps
    make_rule(trigger="field_changed", trigger_field="owner",
              criteria={"all": [{"field": "owner", "op": "equals", "value": str(other.pk)}]})
    lead = new_lead(rep)
    settle()
    change(lead, rep, owner=other)
    settle()
    [task] = tasks(lead)
    assert task.assigned_to == other


# --- criteria --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, fires", [
    ({"rating": "hot", "title": "CTO", "employees": 10}, True),
    ({"rating": "hot", "title": "Engineer", "employees": 80}, True),
    ({"rating": "hot", "title": "Engineer", "employees": 20}, False),
    ({"rating": "warm", "title": "CTO", "employees": 80}, False),
    ({"rating": "hot", "title": "", "employees": None}, False),
])
def test_criteria_combine_operators_with_and_or_groups(reps, fields, fires):
    rep, _, _ = reps
    make_rule(criteria={"all": [{"field": "rating", "op": "in", "value": "hot, warmish"},
                                {"any": [{"field": "title", "op": "contains", "value": "cto"},
                                         {"field": "employees", "op": "gt", "value": "50"}]},
                                {"field": "company", "op": "not_equals", "value": "Competitor Oy"}]})
    new_lead(rep, **fields)
    settle()
    assert RuleRun.objects.exists() is fires


def test_changed_to_and_is_empty_answer_the_saved_change(reps):
    rep, _, _ = reps
    make_rule(trigger="created_or_updated", criteria={"all": [
        {"field": "rating", "op": "changed_to", "value": "hot"}, {"field": "website", "op": "is_empty"}]})
    lead = new_lead(rep, rating="hot")  # created: no change to answer "changed to"
    settle()
    assert not RuleRun.objects.exists()
    change(lead, rep, rating="warm")
    change(lead, rep, rating="hot")
    settle()
    assert RuleRun.objects.count() == 1
    change(lead, rep, rating="warm", website="https://x.example")
    change(lead, rep, rating="hot")
    settle()
    assert RuleRun.objects.count() == 1


def test_a_rule_of_another_record_type_or_an_inactive_rule_does_nothing(reps):
    rep, _, _ = reps
    make_rule(record_type="accounts.account", actions=[{"kind": "notify", "to": "owner", "message": "x"}])
    make_rule(name="Off", criteria=hot())
    rule = make_rule(name="Off", criteria=hot())
    rule_services.rule_set_active(actor=None, rule=rule, active=False)
    rule_services.rule_set_active(actor=None, rule=make_rule(name="Off too"), active=False)
    new_lead(rep, rating="hot")
    settle()
    assert RuleRun.objects.filter(rule__name="Off").count() == 1  # the one left active


# --- versions ---------------------------------------------------------------------------------------------------------

def test_editing_what_a_rule_does_makes_a_new_version_and_runs_keep_theirs(reps):
    rep, _, _ = reps
    rule = make_rule(criteria=hot())
    new_lead(rep, rating="hot")
    settle()
    spec = {"trigger": "created", "criteria": hot(), "actions": [{**HOT_TASK, "subject": "Second version"}]}
    rule = rule_services.rule_update(actor=None, rule=rule, spec=spec)
    assert rule.current_version.number == 2
    second = new_lead(rep, rating="hot", last_name="Toinen")
    settle()
    first_run, second_run = RuleRun.objects.order_by("pk")
    assert (first_run.version.number, second_run.version.number) == (1, 2)
    assert tasks(second)[0].subject == "Second version"
    rule = rule_services.rule_update(actor=None, rule=rule, spec=spec, name="Renamed", order=5)
    assert rule.current_version.number == 2 and rule.versions.count() == 2


def test_invalid_criteria_and_actions_are_refused(reps):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        make_rule(criteria={"all": [{"field": "nope", "op": "equals", "value": "x"}]})
    assert "criteria" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        make_rule(actions=[{"kind": "create_task", "assignee": "owner"}])
    assert "actions" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        make_rule(trigger="time_based", trigger_field="close_date",
                  criteria={"all": [{"field": "rating", "op": "changed"}]})
    assert set(exc.value.error_dict) == {"trigger_field", "criteria"}  # leads have no close date; no "changed"


# --- loops ----------------------------------------------------------------------------------------------------------------

def test_a_rule_is_not_triggered_again_by_its_own_update(reps):
    rep, _, _ = reps
    make_rule(trigger="created_or_updated",
              actions=[{"kind": "update_field", "field": "description", "value": "Touched by automation"}])
    lead = new_lead(rep)
    for _round in range(3):
        settle()
    lead.refresh_from_db()
    assert lead.description == "Touched by automation"
    assert RuleRun.objects.count() == 1
    update = Event.objects.filter(name="lead.updated").get()
    assert update.data["automation"]["depth"] == 1 and update.data["automation"]["rules"] == [RuleRun.objects.get().rule_id]


def test_two_rules_that_feed_each_other_stop_at_the_end_of_the_chain(reps):
    rep, _, _ = reps
    a = make_rule(name="A", trigger="field_changed", trigger_field="title",
                  actions=[{"kind": "update_field", "field": "city", "value": "Oulu"}])
    b = make_rule(name="B", trigger="field_changed", trigger_field="city",
                  actions=[{"kind": "update_field", "field": "title", "value": "Chief"}])
    lead = new_lead(rep, title="Engineer", city="Turku")
    settle()
    change(lead, rep, title="CTO")
    for _round in range(4):
        settle()
    assert sorted(RuleRun.objects.values_list("rule__name", "depth")) == [("A", 1), ("B", 2)]
    lead.refresh_from_db()
    assert (lead.title, lead.city) == ("Chief", "Oulu")
    assert RuleRun.objects.get(rule=b).chain == [a.pk]


def test_the_depth_limit_stops_rules_and_says_so_in_the_log(reps):
    rep, _, _ = reps
    make_rule(trigger="created_or_updated")
    lead = new_lead(rep)
    Event.objects.all().delete()
    events.emit("lead.updated", lead, changes={"title": ["a", "b"]},
                data={"automation": {"depth": engine.MAX_DEPTH, "rules": [999]}})
    settle()
    run = RuleRun.objects.get()
    assert run.outcome == "skipped" and "Depth limit" in run.note and run.depth == engine.MAX_DEPTH + 1
    assert not ActionRun.objects.exists() and tasks(lead) == []


# --- time-based ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def proposal():
    from opportunities.tests.factories import stage

    return stage("Proposal / price quote")


def opportunity(owner, stage, **fields):
    from opportunities.services import opportunity_create

    return opportunity_create(actor=owner, name=fields.pop("name", "Fleet deal"), stage=stage, owner=owner,
                              amount=1000, **fields)


def move(opp, actor, **fields):
    from opportunities.services import opportunity_update, snapshot

    before = snapshot(opp)
    for name, value in fields.items():
        setattr(opp, name, value)
    return opportunity_update(actor=actor, opportunity=opp, before=before)


def follow_up_rule(proposal, **spec):
    return make_rule(record_type="opportunities.opportunity", name="Proposal follow-up", trigger="time_based",
                     trigger_field=spec.pop("field", "stage_entered_at"), offset_amount=spec.pop("amount", 48),
                     offset_unit=spec.pop("unit", "hours"), offset_direction=spec.pop("direction", "after"),
                     criteria={"all": [{"field": "stage", "op": "equals", "value": str(proposal.pk)}]},
                     actions=[{"kind": "create_task", "subject": "Follow up {{ opportunity.name }}",
                               "assignee": "owner", "due_days": 1}])


def test_a_time_based_run_waits_in_the_table_and_fires_once_at_its_due_time(reps, proposal):
    rep, _, _ = reps
    rule = follow_up_rule(proposal)
    opp = opportunity(rep, proposal)
    settle()
    row = ScheduledRun.objects.get()
    assert row.status == "pending" and row.due_at == opp.stage_entered_at + timedelta(hours=48)
    assert engine.fire_due(now=row.due_at - timedelta(minutes=1)) == 0
    assert engine.fire_due(now=row.due_at + timedelta(minutes=1)) == 1
    assert engine.fire_due(now=row.due_at + timedelta(minutes=2)) == 0
    run_actions()
    row.refresh_from_db()
    run = RuleRun.objects.get()
    assert row.status == "done" and row.run == run and run.due_at == row.due_at and run.rule == rule
    [task] = Activity.objects.filter(kind="task", object_id=opp.pk)
    assert task.subject == "Follow up Fleet deal" and task.assigned_to == rep


def test_a_changed_date_moves_the_pending_run(reps, proposal):
    rep, _, _ = reps
    make_rule(record_type="opportunities.opportunity", trigger="time_based", trigger_field="close_date",
              offset_amount=3, offset_unit="days", offset_direction="before")
    today = timezone.localdate()
    opp = opportunity(rep, proposal, close_date=today + timedelta(days=30))
    settle()
    move(opp, rep, close_date=today + timedelta(days=40))
    settle()
    rows = list(ScheduledRun.objects.order_by("pk").values_list("status", "due_at"))
    assert [s for s, _d in rows] == ["cancelled", "pending"]
    assert timezone.localtime(rows[1][1]).date() == today + timedelta(days=37)
    move(opp, rep, close_date=None)
    settle()
    assert not ScheduledRun.objects.filter(status="pending").exists()


def test_criteria_that_stop_holding_cancel_the_pending_run_and_the_due_time_checks_again(reps, proposal):
    from opportunities.tests.factories import stage

    rep, _, _ = reps
    follow_up_rule(proposal)
    opp = opportunity(rep, proposal)
    settle()
    move(opp, rep, stage=stage("Negotiation / review") if _has_stage("Negotiation / review") else _other_stage(proposal))
    settle()
    row = ScheduledRun.objects.get()
    assert row.status == "cancelled" and row.note == "The criteria no longer hold."
    assert engine.fire_due(now=timezone.now() + timedelta(days=5)) == 0


def _has_stage(name):
    from opportunities.models import Stage

    return Stage.objects.filter(name=name).exists()


def _other_stage(proposal):
    return proposal.pipeline.stages.exclude(pk=proposal.pk).filter(outcome="open").first()


def test_a_record_that_no_longer_meets_the_criteria_at_its_due_time_is_not_fired_on(reps, proposal):
    rep, _, _ = reps
    follow_up_rule(proposal)
    opp = opportunity(rep, proposal)
    settle()
    # Changed behind the engine's back (no event): the due-time check catches it.
    type(opp).objects.filter(pk=opp.pk).update(stage=_other_stage(proposal))
    assert engine.fire_due(now=timezone.now() + timedelta(days=3)) == 1
    assert ScheduledRun.objects.get().status == "cancelled" and not RuleRun.objects.exists()


def test_a_new_rule_leaves_past_due_times_alone_until_applied_to_existing_records(reps, proposal):
    rep, _, _ = reps
    old = opportunity(rep, proposal, name="Old deal")
    type(old).objects.filter(pk=old.pk).update(stage_entered_at=timezone.now() - timedelta(days=5))
    recent = opportunity(rep, proposal, name="Recent deal")
    settle()
    rule = follow_up_rule(proposal)
    assert engine.schedule_existing(rule_id=rule.pk) == 1  # the worker's job on activation: future due times
    assert list(ScheduledRun.objects.values_list("object_id", flat=True)) == [recent.pk]
    old.refresh_from_db()
    move(old, rep, description="edited")  # an edit does not fire a due time from before the rule existed
    settle()
    assert ScheduledRun.objects.count() == 1
    assert engine.past_due_count(rule) == 1
    assert engine.schedule_existing(rule_id=rule.pk, include_past=True) == 1
    assert engine.past_due_count(rule) == 0
    assert engine.fire_due() == 1
    run_actions()
    assert list(RuleRun.objects.values_list("object_id", flat=True)) == [old.pk]
    assert engine.schedule_existing(rule_id=rule.pk, include_past=True) == 0  # fired once per due time


def test_deactivating_a_time_based_rule_cancels_its_pending_runs(reps, proposal):
    rep, _, _ = reps
    rule = follow_up_rule(proposal)
    opportunity(rep, proposal)
    settle()
    rule_services.rule_set_active(actor=None, rule=rule, active=False)
    assert ScheduledRun.objects.get().status == "cancelled"


def test_a_deleted_record_cancels_its_pending_runs(reps, proposal):
    from crm.core.services import record_delete

    rep, _, _ = reps
    follow_up_rule(proposal)
    opp = opportunity(rep, proposal)
    settle()
    record_delete(actor=rep, record=opp)
    settle()
    assert ScheduledRun.objects.get().status == "cancelled"


# --- idempotency -----------------------------------------------------------------------------------------------------------

def test_the_same_event_delivered_twice_makes_one_run_one_task_and_one_email(reps, mailoutbox):
    from crm.mail.services import template_save

    rep, _, _ = reps
    template = template_save(actor=None, name="Welcome", record_type="leads.lead",
                             variants={"en": ("Hello {{ lead.first_name }}", "<p>Welcome</p>")})
    make_rule(criteria=hot(), actions=[HOT_TASK, {"kind": "send_email", "template": template.pk, "to": "record"}])
    lead = new_lead(rep, first_name="Aino", rating="hot", email="aino@example.com")
    settle()
    since = timezone.now() - timedelta(hours=1)
    events.replay(subscriber=engine.subscriber_name("lead"), since=since, until=timezone.now() + timedelta(minutes=1))
    deliver_events()
    for action_run in ActionRun.objects.all():
        assert engine.execute_action_run(action_run.pk) is None  # a redelivered task: nothing to do
    assert RuleRun.objects.count() == 1 and len(tasks(lead)) == 1 and len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Hello Aino"
    keys = list(ActionRun.objects.order_by("index").values_list("key", flat=True))
    run = RuleRun.objects.get()
    assert keys == [f"{run.rule_id}:{run.version_id}:{run.content_type_id}.{lead.pk}:e{run.event_id}:{i}" for i in (0, 1)]


def test_a_failure_in_matching_is_retried_by_the_outbox_and_the_save_still_succeeds(reps, monkeypatch):
    rep, _, _ = reps
    make_rule(criteria=hot())

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(engine, "explain", broken)
    lead = new_lead(rep, rating="hot")  # the user's save is not affected
    deliver_events()
    from crm.core.models import EventDelivery

    assert EventDelivery.objects.get(subscriber=engine.subscriber_name("lead")).status == "failed"
    monkeypatch.undo()
    EventDelivery.objects.filter(subscriber=engine.subscriber_name("lead")).update(next_attempt_at=timezone.now())
    events.retry_failed()
    run_actions()
    assert len(tasks(lead)) == 1
