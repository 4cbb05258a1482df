"""Events are written in the transaction and delivered only after commit."""
import pytest

from crm.core import events
from crm.core.models import Event
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    seen = []

    def handler(event):
        seen.append(event.name)

    events.subscribe("test.*", handler)
    yield seen
    events._subscribers.remove(("test.*", handler))


def test_emit_writes_the_event_and_delivers_it_on_commit(received, django_capture_on_commit_callbacks):
    lead = Lead.objects.create(last_name="Virtanen")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.emit("test.created", lead, changes={"status": [None, "new"]})
        assert received == []  # nothing before commit

    for callback in callbacks:
        callback()
    assert received == ["test.created"]
    event = Event.objects.get(name="test.created")
    assert (event.object_id, event.changes) == (lead.pk, {"status": [None, "new"]})


def test_patterns_only_match_their_events(received, django_capture_on_commit_callbacks):
    lead = Lead.objects.create(last_name="Ahmadi")

    with django_capture_on_commit_callbacks(execute=True):
        events.emit("other.created", lead)
        events.emit("test.updated", lead)

    assert received == ["test.updated"]


def test_a_failing_subscriber_does_not_break_the_others(received, django_capture_on_commit_callbacks):
    def broken(event):
        raise RuntimeError("boom")

    events.subscribe("test.*", broken)
    try:
        lead = Lead.objects.create(last_name="Korhonen")
        with django_capture_on_commit_callbacks(execute=True):
            events.emit("test.created", lead)
    finally:
        events._subscribers.remove(("test.*", broken))

    assert received == ["test.created"]
