"""Rich text never runs script, whatever is pasted into it; the iCalendar files say what calendars need."""
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.activities import ics, richtext
from crm.activities.models import Activity
from crm.activities.tests.factories import ActivityFactory
from leads.tests.factories import LeadFactory

HOSTILE = [
    '<script>alert(1)</script>', '<img src=x onerror="alert(1)">', '<svg onload="alert(1)"><circle/></svg>',
    '<iframe src="https://evil.example"></iframe>', '<a href="javascript:alert(1)">x</a>',
    '<a href="  JaVaScRiPt:alert(1)">x</a>', '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>', '<p style="background:url(x)">s</p>',
    '<form action="https://evil.example"><button>go</button></form>', '<object data="x"></object>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', '<div onmouseover="alert(1)">hover</div>',
    '<style>body{display:none}</style>', '<!-- <script>alert(1)</script> -->', '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">', '<p>ok</p><scr<script>ipt>alert(1)</script>',
]


@pytest.mark.parametrize("html", HOSTILE)
def test_nothing_that_runs_survives(html):
    clean = richtext.sanitize(html).lower()
    for bad in ("<script", "onerror", "onload", "onmouseover", "javascript:", "data:", "<iframe", "<svg", "style",
                "<form", "<object", "<base", "<meta", "<math", "alert(1)</script"):
        assert bad not in clean, (html, clean)


def test_formatting_is_kept_and_links_are_safe():
    html = richtext.sanitize('<p><strong>Bold</strong> <em>it</em> <u>u</u></p><ul><li>one</li></ul>'
                             '<a href="https://example.com" target="_blank">site</a>')
    assert html == ('<p><strong>Bold</strong> <em>it</em> <u>u</u></p><ul><li>one</li></ul>'
                    '<a href="https://example.com" rel="noopener noreferrer nofollow">site</a>')


def test_plain_text_becomes_paragraphs_and_back():
    html = richtext.clean_input("First line\nsecond <line>\n\nNew paragraph")
    assert html == "<p>First line<br>second &lt;line&gt;</p><p>New paragraph</p>"
    assert richtext.to_text(html) == "First line\nsecond <line>\n\nNew paragraph"
    assert richtext.to_text("<ul><li>a</li><li>b</li></ul>") == "• a\n• b"


@pytest.mark.django_db
def test_a_cancelled_meeting_stays_in_the_feed_as_cancelled_so_calendars_drop_it():
    from icalendar import Calendar

    from crm.access.tests.factories import UserFactory

    user = UserFactory()
    start = timezone.now() + timedelta(days=1)
    meeting = ActivityFactory(target=LeadFactory(owner=user), actor=user, assigned_to=user, kind=Activity.Kind.MEETING,
                              subject="Gone", status=Activity.Status.CANCELLED, due_at=start,
                              ends_at=start + timedelta(hours=1), sequence=3)

    event = Calendar.from_ical(ics.feed([meeting], user=user)).walk("VEVENT")[0]

    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 3
    assert str(event["uid"]) == ics.uid(meeting)


@pytest.mark.django_db
def test_text_with_commas_semicolons_and_new_lines_round_trips():
    from icalendar import Calendar

    from crm.access.tests.factories import UserFactory

    user = UserFactory()
    start = timezone.now() + timedelta(days=1)
    text = "Agenda; pricing, terms\nand a \\ backslash — ääkköset, فارسی"
    meeting = ActivityFactory(target=LeadFactory(owner=user), actor=user, assigned_to=user, kind=Activity.Kind.MEETING,
                              subject="Talk, then; decide", body=text, location="Room 1, 2nd floor", status="open",
                              due_at=start, ends_at=start + timedelta(hours=1))

    event = Calendar.from_ical(ics.invitation(meeting)).walk("VEVENT")[0]

    assert str(event["summary"]) == "Talk, then; decide" and str(event["location"]) == "Room 1, 2nd floor"
    assert str(event["description"]) == text
    assert all(len(line) <= 75 for line in ics.invitation(meeting).split(b"\r\n"))  # folded as RFC 5545 says
