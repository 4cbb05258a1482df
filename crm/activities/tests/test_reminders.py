"""Reminders: one row per person to remind, kept in step with the task or meeting, and sent exactly once by
the beat task: an in-app notification and an e-mail, in the reader's language, never for what is done."""
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from crm.access.tests.factories import UserFactory
from crm.activities import services
from crm.activities.models import Activity, Reminder
from crm.notifications.models import Notification
from leads.tests.factories import LeadFactory


def _task(*, actor, due, remind=15, **extra):
    return services.activity_create(target=LeadFactory(owner=actor), actor=actor, kind=Activity.Kind.TASK,
                                    subject="Call back", due_at=due, remind_minutes=remind, **extra)


@pytest.mark.django_db
def test_a_task_reminds_its_assignee_once_at_the_time():
    rep = UserFactory(language="fi")
    due = timezone.now() + timedelta(minutes=10)
    task = _task(actor=rep, due=due, remind=15)  # due in 10, remind 15 before: already due
    reminder = Reminder.objects.get(activity=task)
    assert reminder.remind_at == due - timedelta(minutes=15)

    assert services.reminders_send_due() == 1
    assert services.reminders_send_due() == 0  # never twice

    reminder.refresh_from_db()
    assert reminder.sent_at is not None and reminder.outcome == Reminder.Outcome.SENT
    note = Notification.objects.get(recipient=rep)
    assert "Call back" in note.message and note.verb == "activity.reminder"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [rep.email]
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<reminder-{reminder.pk}-")


@pytest.mark.django_db
def test_nothing_is_sent_before_its_time():
    rep = UserFactory()
    _task(actor=rep, due=timezone.now() + timedelta(hours=2), remind=15)

    assert services.reminders_send_due() == 0
    assert services.reminders_send_due(now=timezone.now() + timedelta(hours=2)) == 1


@pytest.mark.django_db
def test_a_done_task_is_not_reminded():
    rep = UserFactory()
    task = _task(actor=rep, due=timezone.now(), remind=0)
    services.activity_complete(activity=task, actor=rep)

    assert not Reminder.objects.exists()
    assert services.reminders_send_due() == 0 and not mail.outbox


@pytest.mark.django_db
def test_a_task_done_behind_the_reminders_back_is_skipped():
    rep = UserFactory()
    task = _task(actor=rep, due=timezone.now(), remind=0)
    Activity.objects.filter(pk=task.pk).update(status=Activity.Status.DONE)  # e.g. an import

    assert services.reminders_send_due() == 1
    assert Reminder.objects.get().outcome == Reminder.Outcome.SKIPPED
    assert not mail.outbox and not Notification.objects.exists()


@pytest.mark.django_db
def test_moving_a_meeting_reminds_again_at_the_new_time_and_attendees_too():
    rep, colleague = UserFactory(), UserFactory()
    start = timezone.now() + timedelta(minutes=5)
    meeting = services.activity_create(target=LeadFactory(owner=rep), actor=rep, kind=Activity.Kind.MEETING,
                                       subject="Demo", due_at=start, remind_minutes=10, attendees=[colleague])
    assert services.reminders_send_due() == 2
    assert len(mail.outbox) == 2

    services.meeting_move(activity=meeting, start=start + timedelta(days=1), actor=rep)

    assert set(Reminder.objects.filter(sent_at__isnull=True).values_list("user_id", flat=True)) == {rep.pk, colleague.pk}
    assert services.reminders_send_due() == 0
    assert services.reminders_send_due(now=start + timedelta(days=1)) == 2


@pytest.mark.django_db
def test_a_reassigned_task_reminds_the_new_assignee_only():
    rep, other = UserFactory(), UserFactory()
    task = _task(actor=rep, due=timezone.now() + timedelta(hours=1), remind=15)

    services.activity_update(activity=task, actor=rep, assigned_to=other)

    assert list(Reminder.objects.values_list("user_id", flat=True)) == [other.pk]


@pytest.mark.django_db
def test_a_refusing_mail_server_is_retried_with_backoff_and_notifies_once(settings, monkeypatch):
    rep = UserFactory()
    _task(actor=rep, due=timezone.now(), remind=0)
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise OSError("connection refused")

    monkeypatch.setattr("crm.mail.services.mail_send", refuse)
    assert services.reminders_send_due() == 1
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None and reminder.attempts == 1 and reminder.next_attempt_at > timezone.now()
    for attempt in range(2, services.REMINDER_RETRIES + 1):
        services.reminders_send_due(now=timezone.now() + timedelta(days=attempt))

    reminder.refresh_from_db()
    assert reminder.outcome == Reminder.Outcome.NOTIFIED_ONLY and len(calls) == services.REMINDER_RETRIES
    assert Notification.objects.filter(recipient=rep).count() == 1  # the bell rang once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_workers_never_send_the_same_reminder_twice():
    reps = [UserFactory() for _ in range(3)]
    for i in range(30):
        _task(actor=reps[i % 3], due=timezone.now(), remind=0)
    errors = []

    def work():
        try:
            services.reminders_send_due()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert Notification.objects.count() == 30 and len(mail.outbox) == 30
    assert not Reminder.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_broken_reminder_does_not_hold_up_the_others(monkeypatch):
    rep = UserFactory()
    first = _task(actor=rep, due=timezone.now() - timedelta(minutes=5), remind=0)
    _task(actor=rep, due=timezone.now(), remind=0)
    real = services._reminder_text

    def broken(activity, user, target):
        if activity.pk == first.pk:
            raise RuntimeError("boom")
        return real(activity, user, target)

    monkeypatch.setattr(services, "_reminder_text", broken)
    assert services.reminders_send_due() == 2

    row = Reminder.objects.get(activity=first)
    assert row.sent_at is None and row.attempts == 1 and "boom" in row.error and row.next_attempt_at > timezone.now()
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1  # the other one went out
    for attempt in range(2, services.REMINDER_RETRIES + 1):
        services.reminders_send_due(now=timezone.now() + timedelta(days=attempt))
    row.refresh_from_db()
    assert row.outcome == Reminder.Outcome.FAILED and row.sent_at is not None

    monkeypatch.setattr(services, "_reminder_text", real)
    services.activity_update(activity=first, actor=rep, due_at=timezone.now() + timedelta(minutes=1))  # re-armed
    assert services.reminders_send_due(now=timezone.now() + timedelta(minutes=2)) == 1
    assert Notification.objects.count() == 2
