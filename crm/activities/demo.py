"""Demo activities: a week around today for every rep and the manager (meetings with colleagues and contacts,
tasks overdue, due today and coming, calls and notes logged), so My day and the calendar are full when
someone signs in. Written once: a second start keeps what users changed."""
from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

MEETINGS = ["Discovery call", "Product demo", "Pricing review", "Contract walkthrough", "Quarterly review",
            "Onboarding kick-off", "Technical deep dive"]
TASKS = ["Send the proposal", "Follow up on the demo", "Prepare the quote", "Check the contract terms",
         "Book the next meeting", "Update the forecast", "Send the case study"]
CALLS = ["Intro call", "Follow-up call", "Checked the budget", "Talked about timing"]


def seed(context: dict) -> None:
    from crm.activities.models import Activity, Attendee
    from crm.core import records

    if Activity.objects.filter(data__demo="week").exists():
        return
    users = context.get("users") or {}
    people = [users[k] for k in ("rep1", "rep2", "rep3", "manager") if k in users]
    types = []
    for key in ("leads.lead", "accounts.contact", "accounts.account"):
        try:
            types.append(records.get(key).model)
        except KeyError:
            continue
    contact_model = next((m for m in types if m._meta.label_lower == "accounts.contact"), None)
    for u, user in enumerate(people):
        targets = [r for model in types for r in model.objects.filter(owner=user).order_by("pk")[:4]]
        if not targets:
            continue
        contacts = list(contact_model.objects.filter(owner=user).order_by("pk")[:4]) if contact_model else []
        try:
            zone = zoneinfo.ZoneInfo(user.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        today = timezone.localtime(timezone=zone).date()
        colleagues = [p for p in people if p.pk != user.pk]
        for offset in range(-3, 4):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            i = offset + 3 + u
            target = targets[i % len(targets)]
            ct = ContentType.objects.get_for_model(target)
            start = datetime.combine(day, time(9 + (i * 2) % 7, 30 if i % 2 else 0), tzinfo=zone)
            meeting = Activity.objects.create(
                kind=Activity.Kind.MEETING, subject=f"{MEETINGS[i % len(MEETINGS)]}: {target}"[:255], content_type=ct,
                object_id=target.pk, actor=user, assigned_to=user, status=Activity.Status.OPEN, due_at=start,
                ends_at=start + timedelta(minutes=60 if i % 3 else 30), occurred_at=start,
                location=("Teams" if i % 2 else "Office, room 2"), data={"demo": "week"})
            guests = []
            if colleagues:
                c = colleagues[i % len(colleagues)]
                guests.append(Attendee(activity=meeting, user=c, name=c.get_full_name() or c.email, email=c.email))
            if contacts:
                c = contacts[i % len(contacts)]
                guests.append(Attendee(activity=meeting, content_type=ContentType.objects.get_for_model(c),
                                       object_id=c.pk, name=str(c)[:200], email=getattr(c, "email", "") or ""))
            Attendee.objects.bulk_create(guests, ignore_conflicts=True)
            due = datetime.combine(day, time(16, 0), tzinfo=zone)
            done = offset < -1
            Activity.objects.create(
                kind=Activity.Kind.TASK, subject=TASKS[i % len(TASKS)], content_type=ct, object_id=target.pk,
                actor=user, assigned_to=user, due_at=due, occurred_at=due - timedelta(days=2),
                status=Activity.Status.DONE if done else Activity.Status.OPEN,
                priority=Activity.Priority.HIGH if i % 4 == 0 else Activity.Priority.NORMAL, data={"demo": "week"})
            if offset <= 0:
                when = datetime.combine(day, time(11, 15), tzinfo=zone)
                Activity.objects.create(
                    kind=Activity.Kind.CALL, subject=CALLS[i % len(CALLS)], content_type=ct, object_id=target.pk,
                    actor=user, direction=Activity.Direction.OUTBOUND if i % 2 else Activity.Direction.INBOUND,
                    duration_minutes=5 + (i * 7) % 30, outcome=Activity.Outcome.CONNECTED, occurred_at=when,
                    body="Went well; they want to see the pricing.", data={"demo": "week"})
        # One task without a date, and one note.
        target = targets[0]
        ct = ContentType.objects.get_for_model(target)
        Activity.objects.create(kind=Activity.Kind.TASK, subject="Read the annual report", content_type=ct,
                                object_id=target.pk, actor=user, assigned_to=user, status=Activity.Status.OPEN,
                                data={"demo": "week"})
        Activity.objects.create(kind=Activity.Kind.NOTE, subject="Decision process", content_type=ct,
                                object_id=target.pk, actor=user, data={"demo": "week"},
                                body="The CFO signs; the IT lead must approve the security review first.",
                                body_html="<p>The <strong>CFO</strong> signs; the IT lead must approve the "
                                          "security review first.</p>")
