"""The timeline's items are written in Python (crm.activities.rendering): every kind of activity reads right in
every language, everything from a record or a person is escaped, formatted text is sanitized again on the way
out, and the Done and Edit actions appear only for those who may use them."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from crm.access.tests.factories import UserFactory
from crm.activities.models import Activity, Attendee
from crm.activities.rendering import timeline_items
from crm.activities.selectors import timeline_for
from crm.activities.tests.factories import ActivityFactory
from crm.core.formatting import date_formatter
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


def _timeline(lead):
    now = timezone.now()
    actor = UserFactory(first_name="<Aino>", last_name="O'Neil")
    ActivityFactory(target=lead, kind=Activity.Kind.CALL, subject="Intro & pricing", actor=actor, duration_minutes=25,
                    direction=Activity.Direction.OUTBOUND, outcome="<b>Interested</b>", body="Line one\r\nLine <two>",
                    occurred_at=now)
    ActivityFactory(target=lead, kind=Activity.Kind.CALL, subject="Voicemail", actor=None, outcome="voicemail",
                    direction=Activity.Direction.INBOUND, occurred_at=now - timedelta(minutes=30))
    ActivityFactory(target=lead, kind=Activity.Kind.TASK, subject="Send quote", status=Activity.Status.OPEN,
                    due_at=now + timedelta(days=2), assigned_to=actor, occurred_at=now - timedelta(hours=2))
    ActivityFactory(target=lead, kind=Activity.Kind.TASK, subject="Done one", status=Activity.Status.DONE,
                    occurred_at=now - timedelta(hours=3))
    meeting = ActivityFactory(target=lead, kind=Activity.Kind.MEETING, subject="Demo <live>", status="open",
                              due_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=1),
                              location="Room <1>", occurred_at=now - timedelta(hours=4))
    for i in range(6):
        Attendee.objects.create(activity=meeting, name=f"Guest {i}", email=f"g{i}@example.com")
    ActivityFactory(target=lead, kind=Activity.Kind.EMAIL, subject="Proposal", occurred_at=now - timedelta(hours=5),
                    body_html="<p>Hi <em>there</em></p>", data={"sent": True, "to": ["a@example.com"]})
    ActivityFactory(target=lead, kind=Activity.Kind.NOTE, subject="Note", occurred_at=now - timedelta(hours=6),
                    body_html='<p>ok</p><script>alert(1)</script><a href="javascript:x()">l</a>')
    ActivityFactory(target=lead, kind=Activity.Kind.SYSTEM, subject="", verb="Status changed \"x\"", actor=None,
                    occurred_at=now - timedelta(hours=7))
    return actor


@pytest.mark.parametrize("language", ["en", "fi", "fa"])
def test_every_kind_reads_right_and_escaped_in_every_language(language):
    lead = LeadFactory()
    _timeline(lead)

    with translation.override(language):
        activities = timeline_for(lead)
        written = _squeeze(timeline_items(activities))
        stamp = date_formatter(with_time=True)
        first = stamp(activities[0].occurred_at)
        labels = {str(label) for label in (Activity.Kind.CALL.label, Activity.Direction.OUTBOUND.label,
                                            Activity.Outcome.VOICEMAIL.label, Activity.Kind.MEETING.label)}

    assert written.count("<li ") == 8
    assert [m for m in re.findall(r'data-kind="(\w+)"', written)] == [
        "call", "call", "task", "task", "meeting", "email", "note", "system"]
    assert all(label in written for label in labels)
    assert first in written  # dates as the reader writes them
    assert "Intro &amp; pricing" in written and "O&#x27;Neil" in written and "<Aino>" not in written
    assert "&lt;b&gt;Interested&lt;/b&gt;" in written and "Line one<br>Line &lt;two&gt;" in written
    assert "Demo &lt;live&gt;" in written and "Room &lt;1&gt;" in written and "Guest 0, Guest 1, Guest 2, Guest 3" in written
    assert "Guest 4" not in written  # "and 2 more"
    assert "<p>Hi <em>there</em></p>" in written and "a@example.com" in written
    assert "<script" not in written and "javascript:" not in written and "alert(1)" not in written
    assert "Status changed &quot;x&quot;" in written
    assert "data-complete" not in written and "/edit/" not in written  # no actions without a token


def test_actions_only_for_those_who_may_use_them():
    lead = LeadFactory()
    actor = _timeline(lead)
    activities = timeline_for(lead)

    reader = timeline_items(activities, csrf_token="t", user=UserFactory(), can_edit=False)
    assignee = timeline_items(activities, csrf_token="t", user=actor, can_edit=False)
    editor = timeline_items(activities, csrf_token="t", user=UserFactory(), can_edit=True)

    assert "data-complete" not in reader and "/edit/" not in reader
    assert assignee.count("data-complete") == 1 and "/edit/" not in assignee  # their own task
    assert editor.count("data-complete") == 1
    assert editor.count("/edit/") == 6  # everything but the sent e-mail and the system entry
    assert reader.count("invitation.ics") == 1  # anyone who sees a meeting may take it into their calendar
