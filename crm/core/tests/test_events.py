"""Events are an outbox: written in the transaction, delivered after commit, each subscriber's handling recorded
with what it did, so redelivery repeats nothing; failures are kept, retried with backoff and finally surfaced."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.core import events
from crm.core.models import Event, EventDelivery
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    seen = []

    def handler(event):
        seen.append((event.name, event.pk))

    events.subscribe("test.*", handler, name="test.received")
    yield seen
    events.unsubscribe("test.received")


@pytest.fixture
def lead():
    return Lead.objects.create(last_name="Virtanen")


def test_events_are_written_in_the_transaction_and_sent_in_one_task_after_commit(lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = events.emit("test.created", lead, changes={"status": [None, "new"]})
        second = events.emit("test.updated", lead)
        events.emit_many("test.touched", Lead, [lead.pk, lead.pk])
    assert len(callbacks) == 1  # the whole transaction's events go in one message
    assert len(callbacks[0].crm_event_ids) == 4 and callbacks[0].crm_event_ids[:2] == [first.pk, second.pk]
    event = Event.objects.get(pk=first.pk)
    assert (event.object_id, event.changes, event.delivered_at) == (lead.pk, {"status": [None, "new"]}, None)


def test_a_rolled_back_transaction_leaves_no_event_and_sends_nothing(lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                events.emit("test.created", lead)
                raise RuntimeError
        except RuntimeError:
            pass
        events.emit("test.after", lead)
    assert not Event.objects.filter(name="test.created").exists()
    assert [len(c.crm_event_ids) for c in callbacks] == [1]


def test_delivery_runs_each_subscriber_once_however_often_it_is_delivered(received, lead):
    event = events.emit("test.created", lead)
    other = events.emit("other.created", lead)
    assert events.deliver([event.pk, other.pk]) == 1
    assert events.deliver([event.pk, other.pk]) == 0
    Event.objects.filter(pk=event.pk).update(delivered_at=None)  # as if a crash came before the mark
    assert events.deliver([event.pk]) == 0
    assert received == [("test.created", event.pk)]
    delivery = EventDelivery.objects.get()
    assert (delivery.event_id, delivery.subscriber, delivery.status) == (event.pk, "test.received", "done")
    assert Event.objects.filter(delivered_at__isnull=False).count() == 2  # no subscriber wants "other.*": done too


def test_a_failing_subscriber_is_rolled_back_alone_kept_and_retried_with_backoff(received, lead):
    calls = []

    def broken(event):
        calls.append(event.pk)
        Lead.objects.filter(pk=lead.pk).update(title="written before the failure")
        if len(calls) < 3:
            raise RuntimeError("boom")

    events.subscribe("test.*", broken, name="test.broken")
    try:
        event = events.emit("test.created", lead)
        events.deliver([event.pk])
        assert received == [("test.created", event.pk)]  # the other subscriber is unaffected
        lead.refresh_from_db()
        assert lead.title == ""  # what the failing handler wrote was rolled back with it
        failed = EventDelivery.objects.get(subscriber="test.broken")
        assert failed.status == "failed" and "RuntimeError: boom" in failed.error and failed.attempts == 1
        assert failed.next_attempt_at > timezone.now() + timedelta(seconds=20)
        assert Event.objects.get(pk=event.pk).delivered_at is None  # not every subscriber has it yet

        assert events.retry_failed() == 0  # not due yet
        EventDelivery.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now())
        events.retry_failed()  # fails a second time: backoff doubles
        failed.refresh_from_db()
        assert failed.attempts == 2 and failed.next_attempt_at > timezone.now() + timedelta(seconds=50)
        EventDelivery.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now())
        assert events.retry_failed() == 1
        failed.refresh_from_db()
        assert (failed.status, failed.attempts) == ("done", 3) and Event.objects.get(pk=event.pk).delivered_at
        assert received == [("test.created", event.pk)]  # retrying one subscriber never re-runs the others
    finally:
        events.unsubscribe("test.broken")


def test_retries_end_dead_and_tell_the_admins(lead, django_capture_on_commit_callbacks):
    from crm.access.tests.factories import AdminFactory
    from crm.notifications.models import Notification

    admin = AdminFactory()

    def always_broken(event):
        raise ValueError("still broken")

    events.subscribe("test.*", always_broken, name="test.dead")
    try:
        event = events.emit("test.created", lead)
        with django_capture_on_commit_callbacks(execute=True):
            events.deliver([event.pk])
            for _ in range(events.MAX_ATTEMPTS):
                EventDelivery.objects.filter(status="failed").update(next_attempt_at=timezone.now())
                events.retry_failed()
        delivery = EventDelivery.objects.get()
        assert delivery.status == "dead" and delivery.attempts == events.MAX_ATTEMPTS
        assert Event.objects.get(pk=event.pk).delivered_at is not None  # given up: no longer waiting
        assert Notification.objects.filter(recipient=admin, verb="events.dead").exists()
        assert events.health()["dead"] == 1
    finally:
        events.unsubscribe("test.dead")


def test_the_sweep_delivers_what_a_dead_web_process_never_sent(received, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # committed, but the task is never sent
        event = events.emit("test.created", lead)
    assert events.sweep() == 0  # younger than the grace period: its own task may still come
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert events.sweep() == 1
    assert received == [("test.created", event.pk)] and Event.objects.get(pk=event.pk).delivered_at


def test_batch_subscribers_get_an_import_in_one_call(lead):
    batches = []

    def one(event):
        raise AssertionError("the batch form is used")

    one.many = lambda evts: batches.append(sorted(e.object_id for e in evts))
    events.subscribe("test.*", one, name="test.batch")
    try:
        other = Lead.objects.create(last_name="Korhonen")
        events.emit_many("test.imported", Lead, [lead.pk, other.pk])
        events.deliver(list(Event.objects.values_list("pk", flat=True)))
        assert batches == [sorted([lead.pk, other.pk])]
        assert EventDelivery.objects.filter(subscriber="test.batch").count() == 2
    finally:
        events.unsubscribe("test.batch")


def test_replay_delivers_a_time_range_to_one_subscriber_again(received, lead):
    old = events.emit("test.created", lead)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    recent = events.emit("test.updated", lead)
    events.deliver([old.pk, recent.pk])
    received.clear()
    count = events.replay(subscriber="test.received", since=timezone.now() - timedelta(days=1),
                          until=timezone.now() + timedelta(minutes=1))
    assert count == 1 and received == [("test.updated", recent.pk)]


def test_the_events_page_shows_waiting_and_failed_deliveries_to_admins(client, lead):
    from crm.access.tests.factories import AdminFactory, UserFactory

    def broken(event):
        raise RuntimeError("cannot reach the scoring service")

    events.subscribe("test.*", broken, name="test.page")
    try:
        event = events.emit("test.created", lead)
        events.deliver([event.pk])
        client.force_login(UserFactory())
        assert client.get(reverse("core:events")).status_code == 404
        client.force_login(AdminFactory())
        page = client.get(reverse("core:events")).content.decode()
        assert "test.page" in page and "cannot reach the scoring service" in page
        delivery = EventDelivery.objects.get()
        client.post(reverse("core:event_retry", args=[delivery.pk]))
        delivery.refresh_from_db()
        assert delivery.next_attempt_at <= timezone.now()
    finally:
        events.unsubscribe("test.page")
