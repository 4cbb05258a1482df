"""Escalation rules: a watched record gets one row per level and clock start, due in business time on the
rule's calendar; the rows move when the clock's date changes and are cancelled when the criteria stop holding,
the stop condition holds or someone logs an activity. Beat's tick fires each due row once (twice called, two at
once, after a long downtime), running the workflow-rule actions. Events are delivered the way the events worker
does (crm.core.events.deliver). The settings pages are for admins only, within a query budget."""
import datetime
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.access.tests.factories import AdminFactory, TeamFactory
from crm.activities.models import Activity
from crm.activities.services import activity_create
from crm.automation import escalations
from crm.automation.escalations import escalation_rule_save, fire_next, tick
from crm.automation.models_escalations import EscalationDue, EscalationRule
from crm.automation.tests.rule_helpers import deliver_events
from crm.core.models import Event
from crm.customization.models import PicklistValue
from crm.notifications.models import Notification
from leads.models import Lead
from leads.services import lead_create, lead_snapshot, lead_update

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
NOT_CONTACTED = {"all": [{"field": "status", "op": "equals", "value": "not-contacted"}]}
NOTIFY_OWNER = {"kind": "notify", "to": "owner", "message": "{{ lead.first_name }} waits for a call"}
NOTIFY_MANAGER = {"kind": "notify", "to": "owner_manager", "message": "{{ lead.first_name }} untouched for 8 hours"}


def rule(*, levels=None, criteria=NOT_CONTACTED, **kw):
    kw.setdefault("name", "Lead untouched")
    return escalation_rule_save(actor=None, record_type="leads.lead", criteria=criteria,
                                levels=levels or [{"after_minutes": 60, "actions": [NOTIFY_OWNER]},
                                                  {"after_minutes": 120, "actions": [NOTIFY_MANAGER]}], **kw)


def new_lead(owner, **fields):
    return lead_create(actor=owner, lead=Lead(last_name=fields.pop("last_name", "Laine"), owner=owner, **fields))


def dues(record, **filters):
    return list(EscalationDue.objects.filter(content_type=ContentType.objects.get_for_model(record),
                                             object_id=record.pk, **filters).order_by("level__number", "pk"))


def status(value):
    return PicklistValue.objects.get(picklist="leads.status", value=value)


def change(lead, actor, **values):
    lead = Lead.objects.get(pk=lead.pk)
    before = lead_snapshot(lead)
    for name, value in values.items():
        setattr(lead, name, value)
    return lead_update(actor=actor, lead=lead, before=before)


def later(hours):
    return timezone.now() + timedelta(hours=hours)


def test_a_new_lead_is_planned_once_per_level(reps):
    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    rows = dues(lead)
    assert [(r.level.number, r.state) for r in rows] == [(1, "pending"), (2, "pending")]
    assert rows[0].clock_start == lead.created_at
    assert rows[0].due_at == lead.created_at + timedelta(hours=1)
    assert rows[1].due_at == lead.created_at + timedelta(hours=2)
    # The same event delivered again, and another save, plan nothing new.
    escalations.handle_events(list(Event.objects.filter(name="lead.created", object_id=lead.pk)))
    change(lead, rep, title="CTO")
    deliver_events()
    assert len(dues(lead)) == 2
    # A lead the criteria do not watch gets nothing.
    other = new_lead(rep, first_name="Ville", status=status("contacted"))
    deliver_events()
    assert dues(other) == []


def test_the_clock_runs_in_business_hours_over_a_weekend_and_a_holiday(reps):
    from crm.automation.services import calendar_save, holiday_add

    rep, _, _ = reps
    calendar = calendar_save(actor=None, name="Office", time_zone="Europe/Helsinki", is_default=True,
                             hours=[(day, datetime.time(8), datetime.time(16)) for day in range(5)])
    holiday_add(actor=None, calendar=calendar, date=datetime.date(2027, 2, 8), name="A Monday off")
    rule(calendar=calendar, levels=[{"after_minutes": 240, "actions": [NOTIFY_OWNER]},
                                    {"after_minutes": 480, "actions": [NOTIFY_MANAGER]}])
    friday = datetime.datetime(2027, 2, 5, 15, 0, tzinfo=HELSINKI)  # one working hour left that week
    lead = new_lead(rep, first_name="Aino", created_at=friday)
    deliver_events()
    first, second = dues(lead)
    # 1 hour on Friday; Saturday, Sunday and the Monday holiday skipped; 3 (and 7) hours on Tuesday.
    assert first.due_at == datetime.datetime(2027, 2, 9, 11, 0, tzinfo=HELSINKI)
    assert second.due_at == datetime.datetime(2027, 2, 9, 15, 0, tzinfo=HELSINKI)
    # Across the night the clocks go forward (Sunday 28 March 2027): Monday's 08:00 is still 08:00.
    spring = new_lead(rep, first_name="Kevät", created_at=datetime.datetime(2027, 3, 26, 14, 0, tzinfo=HELSINKI))
    deliver_events()
    assert dues(spring)[0].due_at == datetime.datetime(2027, 3, 29, 10, 0, tzinfo=HELSINKI)
    assert dues(spring)[0].due_at.astimezone(datetime.timezone.utc).hour == 7  # UTC+3 in summer time


def test_a_changed_clock_date_moves_the_dues(reps):
    rep, _, _ = reps
    rule(clock_field="updated_at", levels=[{"after_minutes": 30, "actions": [NOTIFY_OWNER]}])
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    (old,) = dues(lead)
    lead = change(lead, rep, title="CTO")  # a save moves updated_at: the clock starts again
    deliver_events()
    cancelled, pending = dues(lead, state="cancelled"), dues(lead, state="pending")
    assert [r.pk for r in cancelled] == [old.pk] and cancelled[0].reason == "clock"
    assert len(pending) == 1 and pending[0].clock_start == Lead.objects.get(pk=lead.pk).updated_at
    assert pending[0].due_at == pending[0].clock_start + timedelta(minutes=30)


def test_saves_do_not_rewrite_waiting_rows_and_the_nightly_cleanup_keeps_what_prevents_a_second_firing(reps):
    rep, _, _ = reps
    rule(clock_field="updated_at", levels=[{"after_minutes": 30, "actions": [NOTIFY_OWNER]}])
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    (row,) = dues(lead)
    escalations.handle_events(list(Event.objects.filter(object_id=lead.pk, name="lead.created")))
    assert EscalationDue.objects.get(pk=row.pk).updated_at == row.updated_at  # redelivered: untouched
    change(lead, rep, title="CTO")  # the clock restarts: the old row is cancelled
    deliver_events()
    tick(now=later(1))
    assert sorted(r.state for r in dues(lead)) == ["cancelled", "fired"]
    assert escalations.cleanup(now=later(24 * 40)) == 1
    assert [r.state for r in dues(lead)] == ["fired"]


def test_criteria_that_stop_holding_cancel_and_holding_again_waits_again(reps):
    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    change(lead, rep, status=status("contacted"))
    deliver_events()
    assert {(r.state, r.reason) for r in dues(lead)} == {("cancelled", "criteria")}
    change(lead, rep, status=status("not-contacted"))
    deliver_events()
    assert {r.state for r in dues(lead)} == {"pending"} and len(dues(lead)) == 2


def test_the_stop_condition_cancels_for_good(reps):
    rep, _, _ = reps
    rule(criteria={}, stop_criteria={"all": [{"field": "status", "op": "changed"}]})
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    change(lead, rep, status=status("contacted"))
    deliver_events()
    assert {(r.state, r.reason) for r in dues(lead)} == {("cancelled", "stopped")}
    change(lead, rep, title="CTO")  # a later save does not start it again for the same clock
    deliver_events()
    assert {r.state for r in dues(lead)} == {"cancelled"}
    assert tick(now=later(5))["fired"] == 0


def test_an_activity_a_person_logs_stops_it_but_automations_tasks_do_not(reps):
    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    other = new_lead(rep, first_name="Ville")
    deliver_events()
    activity_create(target=other, actor=None, kind=Activity.Kind.TASK, subject="Call (automation)",
                    assigned_to=rep, data={"automation": {"rule": 1, "key": "x"}})
    deliver_events()
    assert {r.state for r in dues(other)} == {"pending"}
    activity_create(target=lead, actor=rep, kind=Activity.Kind.CALL, subject="Called Aino")
    deliver_events()
    assert {(r.state, r.reason) for r in dues(lead)} == {("cancelled", "activity")}
    change(lead, rep, title="CTO")
    deliver_events()
    assert {r.state for r in dues(lead)} == {"cancelled"}


def test_a_deleted_record_cancels(reps):
    from leads.services import lead_delete

    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    lead_delete(actor=rep, lead=Lead.objects.get(pk=lead.pk))
    deliver_events()
    assert {(r.state, r.reason) for r in EscalationDue.objects.all()} == {("cancelled", "deleted")}


def test_tick_fires_each_due_level_once_and_runs_its_actions(reps):
    rep, other, manager = reps
    team = TeamFactory(name="Inbound")
    team.members.add(other)
    rule(levels=[{"after_minutes": 60, "actions": [NOTIFY_OWNER]},
                 {"after_minutes": 120, "actions": [NOTIFY_MANAGER, {"kind": "assign_owner",
                                                                     "round_robin_team": team.pk}]}])
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    assert tick()["fired"] == 0  # nothing is due yet
    assert tick(now=later(1.5))["fired"] == 1
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1
    assert tick(now=later(1.5))["fired"] == 0  # called again: nothing twice
    assert tick(now=later(3))["fired"] == 1
    first, second = dues(lead)
    assert first.state == second.state == "fired" and second.fired_at is not None
    assert [r["status"] for r in second.results] == ["succeeded", "succeeded"]
    assert Notification.objects.filter(recipient=manager, verb="automation.notify").count() == 1
    assert Lead.objects.get(pk=lead.pk).owner == other  # reassigned round robin
    assert Notification.objects.filter(recipient=other, verb="automation.assigned").count() == 1
    assert tick(now=later(10))["fired"] == 0
    assert Notification.objects.filter(verb="automation.notify").count() == 2
    # The reassignment's own event planned nothing new (the levels fired for this clock start).
    deliver_events()
    assert [r.state for r in dues(lead)] == ["fired", "fired"]


def test_an_e_mail_the_level_sends_as_the_owner_does_not_stop_the_next_level(reps, mailoutbox):
    from crm.mail.services import template_save

    rep, _, _ = reps
    template = template_save(actor=None, name="Sorry", record_type="leads.lead",
                             variants={"en": ("Sorry {{ lead.first_name }}", "<p>We will call you soon.</p>")})
    rule(levels=[{"after_minutes": 60, "actions": [{"kind": "send_email", "template": template.pk, "to": "record"}]},
                 {"after_minutes": 120, "actions": [NOTIFY_OWNER]}])
    lead = new_lead(rep, first_name="Aino", email="aino@example.com")
    deliver_events()
    assert tick(now=later(1.5))["fired"] == 1
    assert [m.subject for m in mailoutbox] == ["Sorry Aino"]
    deliver_events()  # the e-mail's activity.created: automation's, not a person's
    assert [r.state for r in dues(lead)] == ["fired", "pending"]
    assert tick(now=later(3))["fired"] == 1
    assert len(mailoutbox) == 1  # sent once; on the lead's timeline once
    first = dues(lead)[0]
    assert first.results[0]["status"] == "succeeded" and "prepared" not in first.results[0]
    assert Activity.objects.filter(kind="email", object_id=lead.pk).count() == 1
    assert mailoutbox[0].extra_headers["X-CRM-Automation"] == f"esc:{first.pk}:0"


def _sorry_rule():
    from crm.mail.services import template_save

    template = template_save(actor=None, name="Sorry", record_type="leads.lead",
                             variants={"en": ("Sorry {{ lead.first_name }}", "<p>We will call you soon.</p>")})
    return rule(levels=[{"after_minutes": 60, "actions": [
        {"kind": "send_email", "template": template.pk, "to": "record"}, NOTIFY_OWNER]}])


def test_an_e_mail_claimed_by_a_worker_that_died_is_never_sent_again_on_its_own(reps, mailoutbox,
                                                                                 django_capture_on_commit_callbacks):
    rep, _, _ = reps
    admin = AdminFactory()
    _sorry_rule()
    lead = new_lead(rep, first_name="Aino", email="aino@example.com")
    deliver_events()
    # A worker takes the row, claims the e-mail and commits, then dies before delivering it.
    with transaction.atomic():
        row = EscalationDue.objects.select_for_update().select_related("rule", "level").get()
        row.deliveries = []
        escalations.fire(row, now=later(2))
    row.refresh_from_db()
    assert row.state == "pending" and row.results[0]["status"] == "sending" and mailoutbox == []
    assert row.results[1]["status"] == "succeeded"
    assert tick(now=later(2.05))["fired"] == 0  # not taken again while the delivery may be under way
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(now=later(2.5))["fired"] == 1
    row.refresh_from_db()
    assert row.state == "failed" and "Interrupted" in row.error and mailoutbox == []
    assert Notification.objects.filter(recipient=admin, verb="automation.escalation_failed").exists()
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1
    # Retry (the admin checked it did not arrive): sent once, the notification not repeated.
    escalations.escalation_retry(actor=admin, due=row)
    tick(now=later(3))
    assert [m.subject for m in mailoutbox] == ["Sorry Aino"]
    assert dues(lead)[0].state == "fired"
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1


from django.core.mail.backends.locmem import EmailBackend as _Locmem  # noqa: E402


class DownBackend(_Locmem):
    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_a_mail_server_error_is_retried_and_the_mail_sent_once(reps, mailoutbox, settings):
    rep, _, _ = reps
    _sorry_rule()
    lead = new_lead(rep, first_name="Aino", email="aino@example.com")
    deliver_events()
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    tick(now=later(2))
    (row,) = dues(lead)
    assert row.state == "pending" and row.results[0]["status"] == "retry" and "mail server down" in row.error
    assert row.next_attempt_at is not None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tick(now=later(2))["fired"] == 0  # its backoff
    assert tick(now=later(3))["fired"] == 1
    row.refresh_from_db()
    assert row.state == "fired" and [m.subject for m in mailoutbox] == ["Sorry Aino"]
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1


def test_the_record_is_checked_again_at_the_due_time(reps):
    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    # The status changes, but its event is not delivered yet: the tick finds out itself.
    Lead.objects.filter(pk=lead.pk).update(status=status("contacted"))
    assert tick(now=later(5))["fired"] == 2  # taken, and cancelled
    assert {(r.state, r.reason) for r in dues(lead)} == {("cancelled", "criteria")}
    assert not Notification.objects.filter(verb="automation.notify").exists()


def test_after_downtime_every_overdue_row_fires_once_on_the_next_tick(reps):
    rep, _, _ = reps
    rule()
    leads = [new_lead(rep, first_name=f"Lead{i}") for i in range(5)]
    deliver_events()
    assert EscalationDue.objects.filter(state="pending").count() == 10
    # No tick for ten hours (beat and workers down); the due times were stored, so none drifts.
    assert tick(now=later(10))["fired"] == 10
    assert EscalationDue.objects.filter(state="fired").count() == 10
    assert Notification.objects.filter(verb="automation.notify").count() == 10
    assert tick(now=later(11))["fired"] == 0
    assert all(len(dues(lead, state="fired")) == 2 for lead in leads)


def test_a_failing_action_is_retried_then_failed_and_admins_told(reps, django_capture_on_commit_callbacks):
    rep, _, _ = reps
    admin = AdminFactory()
    rule(levels=[{"after_minutes": 60, "actions": [NOTIFY_OWNER, {"kind": "webhook", "url": "https://example.com/x",
                                                                  "secret": "s"}]}])
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    from crm.automation import actions

    real = actions.get_action("webhook")
    actions.register_action("webhook", real.label, run=lambda ctx, config: 1 / 0, form=real.form,
                            describe=real.describe, order=real.order)
    try:
        now = later(2)
        for attempt in range(escalations.MAX_ATTEMPTS):
            with django_capture_on_commit_callbacks(execute=True):
                tick(now=now)
            now += timedelta(hours=2)
    finally:
        actions.register_action("webhook", real.label, run=real.run, form=real.form, describe=real.describe,
                                order=real.order)
    (row,) = dues(lead)
    assert row.state == "failed" and row.attempts == escalations.MAX_ATTEMPTS and "ZeroDivisionError" in row.error
    assert [r["status"] for r in row.results] == ["succeeded", "retry"]
    # The notification ran once although the row was tried six times.
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1
    assert Notification.objects.filter(recipient=admin, verb="automation.escalation_failed").exists()
    # Retry: only the failed action runs again.
    assert escalations.escalation_retry(actor=admin, due=row)
    actions.register_action("webhook", real.label, run=lambda ctx, config: {"ok": ctx.key},
                            form=real.form, describe=real.describe, order=real.order)
    try:
        assert tick(now=later(30))["fired"] == 1
    finally:
        actions.register_action("webhook", real.label, run=real.run, form=real.form, describe=real.describe,
                                order=real.order)
    row.refresh_from_db()
    assert row.state == "fired" and row.results[1]["result"] == {"ok": f"esc:{row.pk}:1"}
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1


def test_a_new_rule_leaves_past_due_levels_alone_unless_applied(reps):
    rep, _, _ = reps
    old = new_lead(rep, first_name="Old", created_at=timezone.now() - timedelta(minutes=90))
    deliver_events()
    r = rule()
    escalations.plan_existing(rule_id=r.pk)
    # Level 1 (1 hour) was due before the rule existed: not planned. Level 2 is ahead: planned.
    assert [(row.level.number, row.state) for row in dues(old)] == [(2, "pending")]
    assert escalations.past_due_count(r) == 1
    escalations.plan_existing(rule_id=r.pk, include_past=True)
    assert [(row.level.number, row.state) for row in dues(old)] == [(1, "pending"), (2, "pending")]
    assert escalations.past_due_count(r) == 0
    assert tick()["fired"] == 1


def test_switching_a_rule_off_cancels_and_on_plans_again(reps):
    rep, _, _ = reps
    r = rule()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    escalations.escalation_rule_set_active(actor=None, rule=r, active=False)
    assert {(row.state, row.reason) for row in dues(lead)} == {("cancelled", "rule")}
    escalations.escalation_rule_set_active(actor=None, rule=EscalationRule.objects.get(pk=r.pk), active=True)
    escalations.plan_existing(rule_id=r.pk)
    assert {row.state for row in dues(lead)} == {"pending"}


def test_bad_rules_are_refused(reps):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        rule(levels=[{"after_minutes": 60, "actions": [NOTIFY_OWNER]}, {"after_minutes": 30, "actions": [NOTIFY_OWNER]}],
             clock_field="nope", criteria={"all": [{"field": "status", "op": "changed"}]})
    assert set(exc.value.message_dict) == {"levels", "clock_field", "criteria"}
    with pytest.raises(ValidationError):
        rule(levels=[{"after_minutes": 60, "actions": [{"kind": "notify", "to": "user"}]}])


# --- concurrency: two beats at once ----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_ticks_at_once_never_fire_a_row_twice(reps):
    rep, _, _ = reps
    rule()
    for i in range(6):
        new_lead(rep, first_name=f"Lead{i}")
    deliver_events()
    assert EscalationDue.objects.filter(state="pending").count() == 12
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(tick(now=later(5))["fired"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and sum(results) == 12
    assert EscalationDue.objects.filter(state="fired").count() == 12
    assert Notification.objects.filter(verb="automation.notify").count() == 12


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_row_another_beat_holds_is_skipped_not_waited_for(reps):
    rep, _, _ = reps
    rule(levels=[{"after_minutes": 60, "actions": [NOTIFY_OWNER]}])
    first, second = new_lead(rep, first_name="Held"), new_lead(rep, first_name="Free")
    deliver_events()
    held = dues(first)[0]
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                EscalationDue.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        taken = fire_next(now=later(5))
        assert taken == dues(second)[0].pk  # the held row was skipped, not waited for
        assert fire_next(now=later(5)) is None
    finally:
        release.set()
        holder.join(timeout=30)
    assert fire_next(now=later(5)) == held.pk
    assert EscalationDue.objects.filter(state="fired").count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tick_killed_mid_fire_leaves_the_row_waiting_with_its_writes_undone(reps):
    from crm.automation import actions

    rep, _, _ = reps
    rule(levels=[{"after_minutes": 60, "actions": [NOTIFY_OWNER, {"kind": "webhook", "url": "https://example.com/x",
                                                                  "secret": "s"}]}])
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    inside, release, pids = threading.Event(), threading.Event(), []

    def stuck(ctx, config):  # the worker is killed while this action runs
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])
        inside.set()
        release.wait(timeout=30)
        return {}

    def run():
        try:
            tick(now=later(2))
        except Exception:  # noqa: BLE001 - its connection was killed
            pass
        finally:
            connection.close()

    real = actions.get_action("webhook")
    actions.register_action("webhook", real.label, run=stuck, form=real.form, describe=real.describe, order=real.order)
    try:
        worker = threading.Thread(target=run)
        worker.start()
        assert inside.wait(timeout=20)
        # The notification was written inside the row's transaction, which is not committed: nothing shows.
        assert not Notification.objects.filter(verb="automation.notify").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pids[0]])
        release.set()
        worker.join(timeout=30)
        (row,) = dues(lead)
        assert row.state == "pending" and row.attempts == 0 and row.results == []
        assert not Notification.objects.filter(verb="automation.notify").exists()
        actions.register_action("webhook", real.label, run=lambda ctx, config: {"ok": True}, form=real.form,
                                describe=real.describe, order=real.order)
        assert tick(now=later(2))["fired"] == 1  # the next tick fires it, once
    finally:
        actions.register_action("webhook", real.label, run=real.run, form=real.form, describe=real.describe,
                                order=real.order)
    assert dues(lead)[0].state == "fired"
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1


# --- the settings pages ----------------------------------------------------------------------------------------

def _post(name="Untouched leads", amount="4", **extra):
    import json

    data = {"record_type": "leads.lead", "name": name, "order": "100", "is_active": "on", "calendar": "",
            "clock_field": "created_at", "criteria": json.dumps(NOT_CONTACTED), "stop_criteria": "",
            "stop_on_activity": "on", "levels-count": "1", "l0-present": "1", "l0-after_amount": amount,
            "l0-after_unit": "hours", "l0-actions-count": "1", "l0-a0-kind": "notify", "l0-a0-to": "owner",
            "l0-a0-message": "Call {{ lead.first_name }}", "save": "1"}
    data.update(extra)
    return data


def test_the_pages_render_for_admins_and_are_404_for_reps(reps):
    rep, _, _ = reps
    r = rule()
    new_lead(rep, first_name="Aino")
    deliver_events()
    admin = Client()
    admin.force_login(AdminFactory())
    for url in (reverse("automation:escalation_list"), reverse("automation:escalation_create"),
                reverse("automation:escalation_create") + "?record_type=leads.lead",
                reverse("automation:escalation_edit", args=[r.pk]), reverse("automation:escalation_log"),
                reverse("automation:escalation_log") + "?state=pending&record=Laine",
                reverse("automation:escalation_apply", args=[r.pk])):
        response = admin.get(url)
        assert response.status_code == 200, url
    page = admin.get(reverse("automation:escalation_list")).content.decode()
    assert "Lead untouched" in page and 'data-pending="2"' in page and "after 1 business hour:" in page
    log = admin.get(reverse("automation:escalation_log")).content.decode()
    assert log.count("data-due=") == 2
    client = Client()
    client.force_login(rep)
    for url in (reverse("automation:escalation_list"), reverse("automation:escalation_edit", args=[r.pk]),
                reverse("automation:escalation_log")):
        assert client.get(url).status_code == 404
    assert client.post(reverse("automation:escalation_toggle", args=[r.pk])).status_code == 404
    assert client.post(reverse("automation:escalation_delete", args=[r.pk])).status_code == 404
    assert EscalationRule.objects.get(pk=r.pk).is_active


def test_an_admin_builds_a_rule_in_the_editor_and_bad_input_keeps_its_values(reps, django_capture_on_commit_callbacks):
    rep, _, _ = reps
    client = Client()
    client.force_login(AdminFactory())
    url = reverse("automation:escalation_create")
    response = client.post(url, _post(amount="0", name="Keep my name"))
    assert response.status_code == 200 and not EscalationRule.objects.exists()
    page = response.content.decode()
    assert 'value="Keep my name"' in page and "is-invalid" in page
    # A bad level (a second one earlier than the first) is refused with the service's words.
    response = client.post(url, _post(**{"levels-count": "2", "l1-present": "1", "l1-after_amount": "30",
                                         "l1-after_unit": "minutes", "l1-actions-count": "1", "l1-a0-kind": "notify",
                                         "l1-a0-to": "owner", "l1-a0-message": "x"}))
    assert response.status_code == 200 and "must come later" in response.content.decode()
    # "Add a level" shows one more and saves nothing.
    response = client.post(url, _post(add_level="1"))
    assert response.status_code == 200 and 'name="l1-present"' in response.content.decode()
    assert not EscalationRule.objects.exists()
    lead = new_lead(rep, first_name="Aino")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _post())
    saved = EscalationRule.objects.get()
    assert response.status_code == 302 and response.url == reverse("automation:escalation_edit", args=[saved.pk])
    level = saved.levels.get()
    assert level.after_minutes == 240 and level.actions == [{"kind": "notify", "to": "owner",
                                                              "message": "Call {{ lead.first_name }}"}]
    # The lead that already existed is planned by the task queued on commit (run here as the worker would).
    escalations.plan_existing(rule_id=saved.pk)
    assert [r.state for r in dues(lead)] == ["pending"]
    edit = client.get(reverse("automation:escalation_edit", args=[saved.pk])).content.decode()
    assert 'name="l0-after_amount"' in edit and 'value="4"' in edit
    client.post(reverse("automation:escalation_toggle", args=[saved.pk]))
    assert not EscalationRule.objects.get().is_active and [r.state for r in dues(lead)] == ["cancelled"]
    client.post(reverse("automation:escalation_delete", args=[saved.pk]))
    assert not EscalationRule.objects.exists()


def test_apply_to_existing_records_and_retry_from_the_pages(reps, django_capture_on_commit_callbacks):
    rep, _, _ = reps
    old = new_lead(rep, first_name="Old", created_at=timezone.now() - timedelta(minutes=90))
    deliver_events()
    r = rule()
    escalations.plan_existing(rule_id=r.pk)
    client = Client()
    client.force_login(AdminFactory())
    url = reverse("automation:escalation_apply", args=[r.pk])
    assert 'id="apply-count">1 ' in client.get(url).content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(url).status_code == 302
    assert callbacks  # the planning task is queued after commit; run here as the worker would
    escalations.plan_existing(rule_id=r.pk, include_past=True)
    assert [row.level.number for row in dues(old)] == [1, 2]
    row = dues(old)[0]
    EscalationDue.objects.filter(pk=row.pk).update(state="failed", error="boom", results=[
        {"kind": "notify", "status": "failed", "error": "boom"}])
    assert "boom" in client.get(reverse("automation:escalation_log") + "?state=failed").content.decode()
    assert client.post(reverse("automation:escalation_retry", args=[row.pk])).status_code == 302
    row.refresh_from_db()
    assert row.state == "pending" and row.results == [{}] and row.error == ""
    assert tick()["fired"] == 1
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1


def test_list_and_log_stay_within_a_query_budget(reps, django_assert_max_num_queries):
    rep, _, _ = reps
    for i in range(5):
        rule(name=f"Rule {i}")
    for i in range(10):
        new_lead(rep, first_name=f"Lead{i}")
    deliver_events()
    tick(now=later(1.5))
    assert EscalationDue.objects.count() == 100
    client = Client()
    client.force_login(AdminFactory())
    client.get(reverse("automation:escalation_list"))  # warm the per-process caches
    with django_assert_max_num_queries(14):
        assert client.get(reverse("automation:escalation_list")).status_code == 200
    client.get(reverse("automation:escalation_log"))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("automation:escalation_log") + "?state=fired").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("automation:escalation_log") + "?page=2").status_code == 200


def test_the_record_page_shows_its_escalations_to_admins(reps):
    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    admin = Client()
    admin.force_login(AdminFactory())
    page = admin.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="escalations"' in page and "Lead untouched" in page
    client = Client()
    client.force_login(rep)
    assert 'id="escalations"' not in client.get(reverse("leads:detail", args=[lead.pk])).content.decode()


def test_the_demo_rule_with_its_log_once(client):
    from django.core.management import call_command

    from crm.access.models import User
    from crm.automation.escalation_demo import RULE

    call_command("seed_demo", verbosity=0)
    rows = EscalationDue.objects.count()
    call_command("seed_demo", verbosity=0)
    assert EscalationDue.objects.count() == rows
    demo = EscalationRule.objects.get(name=RULE)
    assert demo.calendar is not None and [lv.after_minutes for lv in demo.levels.order_by("number")] == [240, 480]
    assert EscalationDue.objects.filter(state="fired").exists()
    assert EscalationDue.objects.filter(state="pending").exists()
    deliver_events()  # the seed's own events: nothing stops or fires because of them
    assert EscalationDue.objects.filter(state="pending").exists()
    assert tick()["fired"] == 0
    client.force_login(User.objects.get(email="admin@demo.local"))
    assert RULE in client.get(reverse("automation:escalation_list")).content.decode()
    assert client.get(reverse("automation:escalation_log")).content.decode().count("data-due=") > 3


# --- a real worker ---------------------------------------------------------------------------------------------

@pytest.mark.worker
def test_a_real_worker_plans_on_the_event_and_fires_on_the_tick(celery_worker, reps):
    from conftest import wait_for
    from crm.automation.escalation_tasks import escalations_tick_task

    rep, _, _ = reps
    rule()
    lead = new_lead(rep, first_name="Aino")
    wait_for(lambda: len(dues(lead, state="pending")) == 2, timeout=60)
    wait_for(lambda: not Event.objects.filter(delivered_at__isnull=True).exists(), timeout=60)
    # Level 1 is made due now (as if an hour had passed); the tick on the worker fires it.
    EscalationDue.objects.filter(level__number=1).update(due_at=timezone.now() - timedelta(minutes=1))
    escalations_tick_task.delay()
    wait_for(lambda: dues(lead, state="fired"), timeout=60)
    assert Notification.objects.filter(recipient=rep, verb="automation.notify").count() == 1
    assert [r.state for r in dues(lead)] == ["fired", "pending"]
