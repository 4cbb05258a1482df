"""The outbox holds under a worker killed with kill -9 in the middle of delivering: a new worker and the sweep
deliver everything, and every event is handled exactly once in effect."""
import signal
import time

import pytest
from django.db import transaction

from conftest import start_worker, stop_worker, wait_for
from crm.core.events import emit
from crm.core.models import Event
from crm.core.tests import probe

EVENTS = 1000


@pytest.mark.worker
def test_kill_minus_nine_mid_delivery_loses_nothing_and_repeats_nothing(transactional_db, django_db_serialized_rollback):
    from crm.celery import app
    from crm.core.tasks import events_sweep_task
    from leads.models import Lead

    probe.create_table()
    app.control.purge()
    lead = Lead.objects.create(last_name="Crash")
    env = {"EVENT_SUBSCRIBER_MODULES": "crm.core.tests.probe"}
    first = start_worker(**env)
    try:
        for _ in range(EVENTS // 50):
            with transaction.atomic():
                for _ in range(50):
                    emit("probe.tick", lead)
        wait_for(lambda: probe.rows()[0] >= 150, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    written_before = probe.rows()[0]
    assert written_before < EVENTS  # it really died mid-way

    second = start_worker(**env)
    try:
        deadline = time.monotonic() + 120
        while Event.objects.filter(name="probe.tick", delivered_at__isnull=True).exists():
            assert time.monotonic() < deadline, "events still undelivered"
            # The batch the dead worker held stays unacknowledged until Redis's visibility timeout: the sweep
            # (beat's job, sent here at once) delivers it.
            events_sweep_task.delay(grace_seconds=0)
            time.sleep(2)
    finally:
        stop_worker(second)
    assert probe.rows() == (EVENTS, EVENTS)
