"""iCalendar (RFC 5545) for meetings and tasks: a meeting's invitation to download, and each user's feed to
subscribe to from Outlook, Google Calendar or Apple Calendar. Times are written in UTC ("Z"), which every
client converts to its reader's zone without a VTIMEZONE of ours to go stale; X-WR-TIMEZONE names the owner's
zone for the clients that show it. Each event keeps one UID for life and a SEQUENCE raised on every change, so
a moved meeting replaces its copy instead of appearing twice. Tasks are events too: Google and Outlook ignore
to-dos in subscribed calendars."""
from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.activities.models import Activity, Attendee

TASK_LENGTH = timedelta(minutes=15)
REFRESH = timedelta(minutes=15)
PARTSTAT = {Attendee.Response.NEEDS_ACTION: "NEEDS-ACTION", Attendee.Response.ACCEPTED: "ACCEPTED",
            Attendee.Response.TENTATIVE: "TENTATIVE", Attendee.Response.DECLINED: "DECLINED"}


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "crm.local"


def uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@{_host()}"


def _utc(value):
    return value.astimezone(dt_timezone.utc)


def _calendar(*, name: str, method: str, zone: str = ""):
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", "-//CRM//Activities//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add("x-wr-calname", name)
    if zone:
        cal.add("x-wr-timezone", zone)
    return cal


def _event(activity: Activity, *, now, record=None, with_people: bool = True, alarm: bool = False):
    from icalendar import Alarm, Event, vCalAddress, vText

    event = Event()
    event.add("uid", uid(activity))
    event.add("dtstamp", _utc(now))
    event.add("last-modified", _utc(activity.updated_at or activity.created_at))
    event.add("created", _utc(activity.created_at))
    event.add("sequence", activity.sequence)
    start = activity.due_at
    if activity.kind == Activity.Kind.MEETING:
        end = activity.ends_at if activity.ends_at and activity.ends_at > start else start + timedelta(minutes=30)
        event.add("summary", activity.subject)
        event.add("transp", "OPAQUE")
        event.add("status", "CANCELLED" if activity.status == Activity.Status.CANCELLED else "CONFIRMED")
    else:
        end = start + TASK_LENGTH
        event.add("summary", _("Task: %(subject)s") % {"subject": activity.subject})
        event.add("transp", "TRANSPARENT")  # a due task does not make anyone busy
        event.add("status", "CONFIRMED")
        event.add("categories", [_("Task")])
    event.add("dtstart", _utc(start))
    event.add("dtend", _utc(end))
    if activity.location:
        event.add("location", activity.location)
    lines = [activity.body] if activity.body else []
    url = ""
    if record is not None:
        url = settings.SITE_URL.rstrip("/") + record.get_absolute_url()
        lines.append(f"{record}: {url}")
        event.add("url", url)
    if lines:
        event.add("description", "\n\n".join(lines))
    if with_people and activity.kind == Activity.Kind.MEETING:
        organiser = activity.assigned_to
        if organiser is not None and organiser.email:
            address = vCalAddress(f"mailto:{organiser.email}")
            address.params["cn"] = vText(str(organiser))
            event.add("organizer", address, encode=False)
        for attendee in getattr(activity, "attendee_list", None) or []:
            if not attendee.email:
                continue
            address = vCalAddress(f"mailto:{attendee.email}")
            address.params["cn"] = vText(attendee.name or attendee.email)
            address.params["role"] = vText("REQ-PARTICIPANT")
            address.params["partstat"] = vText(PARTSTAT.get(attendee.response, "NEEDS-ACTION"))
            event.add("attendee", address, encode=False)
    if alarm and activity.remind_minutes is not None:
        valarm = Alarm()
        valarm.add("action", "DISPLAY")
        valarm.add("description", activity.subject)
        valarm.add("trigger", timedelta(minutes=-activity.remind_minutes))
        event.add_component(valarm)
    return event


def invitation(activity: Activity, *, record=None, language: str | None = None) -> bytes:
    """A meeting as a file to open in any calendar (METHOD:PUBLISH: added as it is, no reply expected)."""
    with translation.override(language or translation.get_language()):
        cal = _calendar(name=activity.subject, method="PUBLISH")
        cal.add_component(_event(activity, now=timezone.now(), record=record, alarm=True))
    return cal.to_ical()


def feed(items: list[Activity], *, user) -> bytes:
    """A user's calendar: their meetings and open tasks, with links to the records they may see."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        cal = _calendar(name=_("CRM: %(name)s") % {"name": user.get_full_name() or user.email}, method="PUBLISH",
                        zone=user.timezone or "UTC")
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", REFRESH)
        now = timezone.now()
        for activity in items:
            cal.add_component(_event(activity, now=now, record=getattr(activity, "target_record", None)))
    return cal.to_ical()
