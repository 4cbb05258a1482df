"""Reminders through a real Celery worker killed with kill -9 while it sends them: a new worker and beat's next
runs send every reminder, each notification exactly once, and at most the one e-mail that was in flight when
the worker died goes out twice, with the same Message-ID (a mail server took it before the commit that would
have recorded it: no program can know)."""
import re
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import start_worker, stop_worker, wait_for
from crm.access.tests.factories import UserFactory
from crm.activities.models import Activity, Reminder
from crm.notifications.models import Notification

REMINDERS = 60


@pytest.mark.worker
def test_kill_minus_nine_mid_sending_loses_no_reminder_and_repeats_none(transactional_db, django_db_serialized_rollback,
                                                                           tmp_path):
    from crm.activities.tasks import reminders_send_task
    from crm.celery import app
    from leads.models import Lead

    app.control.purge()
    users = [UserFactory() for _ in range(3)]
    lead = Lead.objects.create(last_name="Remind", owner=users[0])
    due = timezone.now() - timedelta(minutes=1)
    for i in range(REMINDERS):
        task = Activity.objects.create(kind=Activity.Kind.TASK, subject=f"T{i}", content_type_id=_ct(lead),
                                       object_id=lead.pk, status=Activity.Status.OPEN, assigned_to=users[i % 3],
                                       due_at=due, remind_minutes=0)
        Reminder.objects.create(activity=task, user=users[i % 3], remind_at=due, next_attempt_at=due)
    env = {"EMAIL_BACKEND": "crm.activities.tests.slow_mail.EmailBackend", "SLOW_MAIL_DIR": str(tmp_path),
           "SLOW_MAIL_DELAY": "0.05"}

    first = start_worker(**env)
    try:
        reminders_send_task.delay()
        try:
            wait_for(lambda: Reminder.objects.filter(sent_at__isnull=False).count() >= 15, timeout=120)
        except AssertionError:
            first.kill()
            raise AssertionError(first.stderr.read().decode()[-3000:])
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert Reminder.objects.filter(sent_at__isnull=True).exists()  # it really died mid-way

    second = start_worker(**env)
    try:
        deadline = time.monotonic() + 120
        while Reminder.objects.filter(sent_at__isnull=True).exists():
            assert time.monotonic() < deadline, "reminders still unsent"
            reminders_send_task.delay()  # beat's next runs
            time.sleep(1)
        reminders_send_task.delay()  # and one more after everything is sent: nothing happens
        time.sleep(2)
    finally:
        stop_worker(second)

    assert Reminder.objects.filter(outcome=Reminder.Outcome.SENT).count() == REMINDERS
    per_task = Counter(Notification.objects.filter(verb="activity.reminder").values_list("object_id", "message"))
    assert len(per_task) == REMINDERS and set(per_task.values()) == {1}
    ids = Counter(re.search(rb"^Message-ID: (.+?)\r?$", f.read_bytes(), re.M | re.I).group(1)
                  for f in tmp_path.glob("*.eml"))
    assert len(ids) == REMINDERS  # every reminder's e-mail left
    assert sum(ids.values()) - REMINDERS <= 1  # at most the one in flight, under its own Message-ID


def _ct(model_instance) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model_instance).pk
