"""The crash test of the workflow-rule engine: 1,000 pending actions (500 leads, a rule that e-mails each one's
owner from a template and creates a task), a real Celery worker killed with SIGKILL mid-run, a new worker
started; every action ran exactly once, counted from the database and from the e-mails the workers wrote
(a file-based backend, because a locmem outbox dies with the process). No e-mail leaves twice. The one honest
exception to "exactly once": an e-mail the killed worker had claimed and was handing to the mail server is
failed as interrupted, on Failed runs for an admin, never silently resent (it may have left)."""
import os
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.utils import timezone

from conftest import _database_url
from crm.activities.models import Activity
from crm.automation import engine
from crm.automation.models_rules import ActionRun, RuleRun
from crm.automation.tests.rule_helpers import deliver_events, make_rule
from leads.models import Lead

LEADS = 500


class CrashMailBackend(FileBackend):
    """Django's file backend writing where the test says (EMAIL_FILE_PATH is not read from the environment)."""

    def __init__(self, *args, **kwargs):
        kwargs["file_path"] = os.environ["CRASH_MAIL_DIR"]
        super().__init__(*args, **kwargs)


def sent_keys(directory: Path) -> list[str]:
    return [key for f in directory.iterdir() for key in re.findall(r"^X-CRM-Automation: (\S+)$",
                                                                    f.read_text(), flags=re.M)]


def _kill(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _worker(mail_dir):
    """conftest's worker command, in its own process group (so killpg takes the whole worker)."""
    import subprocess
    import sys

    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "EMAIL_BACKEND": f"{__name__}.CrashMailBackend", "CRASH_MAIL_DIR": str(mail_dir)}
    queue = os.environ["CELERY_QUEUE"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo", "-Q", queue, "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}-crash-{time.time()}@%h"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_run_leaves_every_action_run_exactly_once(reps, tmp_path, monkeypatch):
    from crm.automation.tests.test_rules_actions import email_template
    from crm.celery import app
    from leads.services import lead_create

    rep, _, _ = reps
    app.control.purge()
    template = email_template()
    make_rule(actions=[{"kind": "send_email", "template": template.pk, "to": "owner"},
                       {"kind": "create_task", "subject": "Call {{ lead.last_name }}", "assignee": "owner", "due_days": 0}])
    for n in range(LEADS):
        lead_create(actor=rep, lead=Lead(last_name=f"Crash {n}", owner=rep))
    deliver_events()  # the runs and their 1,000 action runs; each run's first action queued in Redis
    assert ActionRun.objects.filter(status="pending").count() == 2 * LEADS

    first = _worker(tmp_path)
    try:
        deadline = time.monotonic() + 40
        while ActionRun.objects.exclude(status="pending").count() < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        _kill(first)
    done_at_kill = ActionRun.objects.exclude(status="pending").count()
    assert 0 < done_at_kill < 2 * LEADS, done_at_kill

    second = _worker(tmp_path)
    try:
        # The new worker drains the queue; the action the killed one held (its transaction rolled back, its
        # message unacknowledged in Redis for the visibility timeout) waits as a pending row, which beat's
        # tick queues again once its safety net has passed: that tick is called here, two minutes on. Its message
        # joins the queue behind the event deliveries the finished actions caused, so the drain is given time.
        last, still, requeued, started = -1, time.monotonic(), 0, time.monotonic()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            pending = ActionRun.objects.filter(status="pending").count()
            if pending == 0:
                break
            if pending != last:
                last, still = pending, time.monotonic()
            elif time.monotonic() - still > 3:
                requeued += engine.requeue_waiting(now=timezone.now() + engine.SAFETY_NET + timedelta(seconds=1))
                still = time.monotonic()
            time.sleep(0.1)
    finally:
        _kill(second)

    # An e-mail the killed worker had claimed but not recorded as sent stays "sending" (it may have left); beat
    # fails it as interrupted once STUCK_AFTER has passed, for an admin to decide on. Never sent again by itself.
    engine.fail_interrupted(now=timezone.now() + engine.STUCK_AFTER + timedelta(seconds=1))
    interrupted = list(ActionRun.objects.filter(status="failed", result__interrupted=True))
    assert len(interrupted) <= 1 and all(a.kind == "send_email" for a in interrupted), interrupted
    assert ActionRun.objects.filter(status="succeeded").count() == 2 * LEADS - len(interrupted), list(
        ActionRun.objects.exclude(status="succeeded").values_list("pk", "index", "status", "attempts", "last_error"))
    assert ActionRun.objects.filter(attempts__gt=1).count() == 0  # a rolled-back attempt leaves no trace
    assert RuleRun.objects.filter(outcome="succeeded").count() == LEADS - len(interrupted)
    tasks = Activity.objects.filter(kind="task", subject__startswith="Call Crash")
    assert tasks.count() == LEADS and tasks.values("object_id").distinct().count() == LEADS
    emails = Activity.objects.filter(kind="email")
    assert emails.count() == LEADS - len(interrupted) and emails.values("object_id").distinct().count() == emails.count()

    keys = sent_keys(tmp_path)
    assert len(keys) == len(set(keys))  # no e-mail sent twice
    succeeded = set(ActionRun.objects.filter(kind="send_email", status="succeeded").values_list("key", flat=True))
    assert succeeded <= set(keys)  # every e-mail recorded as sent left
    assert set(keys) - succeeded <= {a.key for a in interrupted}  # and none left unaccounted for
