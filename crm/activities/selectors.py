"""Reads of the timeline, of a user's day and calendar, and of the activities a user may open.

An activity belongs to a record and is seen through it: a user sees an activity when they may see its record,
or when it is theirs (assigned to them, logged by them, or a meeting they are invited to). A manager's team
calendar shows the team's tasks and meetings on records the manager may see."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from crm.activities.models import Activity, Attendee

CALENDAR_KINDS = (Activity.Kind.TASK, Activity.Kind.MEETING)
CALENDAR_LIMIT = 1000
FEED_PAST_DAYS, FEED_FUTURE_DAYS, FEED_LIMIT = 60, 400, 3000


def open_tasks(*, user, limit: int = 20) -> list[Activity]:
    tasks = list(
        Activity.objects.filter(kind=Activity.Kind.TASK, status=Activity.Status.OPEN, assigned_to=user)
        .select_related("content_type")
        .order_by(F("due_at").asc(nulls_last=True), "id")[:limit]
    )
    return tasks


def timeline_prepare(activities: list[Activity]) -> list[Activity]:
    """Give a page of activities what their items show without a query each: people from the user
    directory (joining two user tables made the query cost more than the page's others together) and the
    attendees of its meetings (one query, only when a meeting is among them)."""
    from crm.access.directory import people

    users = people({pk for a in activities for pk in (a.actor_id, a.assigned_to_id) if pk is not None})
    actor, assigned = Activity._meta.get_field("actor"), Activity._meta.get_field("assigned_to")
    for a in activities:
        actor.set_cached_value(a, users.get(a.actor_id))
        assigned.set_cached_value(a, users.get(a.assigned_to_id))
    attach_attendees([a for a in activities if a.kind == Activity.Kind.MEETING])
    return activities


def attach_attendees(meetings: list[Activity]) -> None:
    """`meeting.attendee_list` for each meeting, in one query."""
    if not meetings:
        return
    by_meeting: dict[int, list[Attendee]] = {m.pk: [] for m in meetings}
    for attendee in Attendee.objects.filter(activity_id__in=list(by_meeting)).order_by("name", "id"):
        by_meeting[attendee.activity_id].append(attendee)
    for meeting in meetings:
        meeting.attendee_list = by_meeting[meeting.pk]


def timeline_for(record, *, limit: int = 50) -> list[Activity]:
    """The record's latest activities, newest first."""
    activities = list(
        Activity.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
        .order_by("-occurred_at", "-id")[:limit]
    )
    return timeline_prepare(activities)


# --- visibility -------------------------------------------------------------------------------------------------

def _own(user) -> Q:
    return (Q(assigned_to_id=user.pk) | Q(actor_id=user.pk)
            | Q(pk__in=Attendee.objects.filter(user_id=user.pk).values("activity_id")))


def visible_records_q(user, action: str = "view") -> Q:
    """Activities whose record `user` may see (or edit): one condition per registered record type."""
    from crm.core import records

    condition = Q(pk__in=[])
    for rt in records.all_types():
        visible = rt.model.objects.visible_to(user, action)
        ct_id = ContentType.objects.get_for_model(rt.model).pk
        if visible.query.is_empty():
            continue
        if not visible.query.where:  # every record of the type (admins, public read/write)
            condition |= Q(content_type_id=ct_id)
        else:
            condition |= Q(content_type_id=ct_id, object_id__in=visible.values("pk"))
    return condition


def target_of(activity: Activity, user, action: str = "view"):
    """The activity's record when `user` may see (or edit) it, else None."""
    model = activity.content_type.model_class()
    if model is None or not hasattr(model.objects, "visible_to"):
        return None
    return model.objects.visible_to(user, action).filter(pk=activity.object_id).first()


def activity_for(user, pk: int) -> Activity:
    """The activity if `user` may see it, else 404: theirs (assigned to them, logged by them, a meeting they
    are invited to), or on a record they may see. Whether they may change it: `may_edit`."""
    activity = Activity.objects.filter(pk=pk).exclude(kind=Activity.Kind.SYSTEM).select_related("content_type").first()
    if activity is None or not user.is_active:
        raise Http404
    if activity.assigned_to_id == user.pk or activity.actor_id == user.pk:
        return activity
    if Attendee.objects.filter(activity=activity, user=user).exists():
        return activity
    if target_of(activity, user, "view") is None:
        raise Http404
    return activity


def may_edit(user, activity: Activity) -> bool:
    """Its assignee (a meeting's organiser) and whoever logged it may change it; others need the right to edit
    its record."""
    if activity.assigned_to_id == user.pk or activity.actor_id == user.pk:
        return True
    return target_of(activity, user, "edit") is not None


def attach_targets(activities: list[Activity], user) -> None:
    """`activity.target_record` for each activity: its record when `user` may see it, else None. One query
    per record type among them (not per activity)."""
    wanted: dict[int, set[int]] = {}
    for a in activities:
        wanted.setdefault(a.content_type_id, set()).add(a.object_id)
    found: dict[tuple[int, int], object] = {}
    for ct_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or not hasattr(model.objects, "visible_to"):
            continue
        for record in model.objects.visible_to(user).filter(pk__in=ids):
            found[(ct_id, record.pk)] = record
    for a in activities:
        a.target_record = found.get((a.content_type_id, a.object_id))


# --- My day ------------------------------------------------------------------------------------------------------

@dataclass
class MyDay:
    overdue: list[Activity] = field(default_factory=list)
    today: list[Activity] = field(default_factory=list)
    upcoming: list[Activity] = field(default_factory=list)
    undated: list[Activity] = field(default_factory=list)
    meetings: list[Activity] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming or self.undated or self.meetings)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def my_day(*, user, upcoming_days: int = 7, limit: int = 60) -> MyDay:
    """The user's open tasks (overdue, due today, due in the next days, without a date) and today's meetings,
    in the current time zone: two queries, and one per type of record they belong to."""
    today = timezone.localdate()
    start, end = local_day_bounds(today)
    horizon = end + timedelta(days=upcoming_days)
    tasks = list(Activity.objects.filter(kind=Activity.Kind.TASK, status=Activity.Status.OPEN, assigned_to_id=user.pk)
                 .filter(Q(due_at__lt=horizon) | Q(due_at__isnull=True))
                 .order_by(F("due_at").asc(nulls_last=True), "id")[:limit])
    meetings = list(Activity.objects.filter(pk__in=scheduled_ids([user.pk], start, end, kinds=(Activity.Kind.MEETING,)))
                    .exclude(status=Activity.Status.CANCELLED)
                    .order_by("due_at", "id")[:limit])
    attach_targets(tasks + meetings, user)
    day = MyDay(meetings=meetings)
    for task in tasks:
        if task.due_at is None:
            day.undated.append(task)
        elif task.due_at < start:
            day.overdue.append(task)
        elif task.due_at < end:
            day.today.append(task)
        else:
            day.upcoming.append(task)
    return day


# --- the calendar --------------------------------------------------------------------------------------------------

def team_of(user) -> list[tuple[int, str]]:
    """(id, name) of the active users below `user` in the role hierarchy (everyone for administrators)."""
    from crm.access.directory import everyone, users_config
    from crm.access.models import User
    from crm.access.visibility import access_config

    if user.is_crm_admin:
        return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email, active in everyone()
                if active and pk != user.pk]
    if not user.role_id:
        return []
    path, role_id = user.role.path, user.role_id

    def compute():
        ids = set(User.objects.filter(role__path__startswith=path, is_active=True).exclude(role_id=role_id)
                  .values_list("id", flat=True))
        return [(pk, f"{first} {last}".strip() or email) for pk, first, last, email, _active in everyone() if pk in ids]

    return access_config.get(("calendar-team", users_config.version(), path, role_id), compute)


def scheduled_ids(people: list[int], start: datetime, end: datetime, *, kinds=CALENDAR_KINDS):
    """The ids of the tasks and meetings between `start` and `end` that `people` are assigned to or invited to:
    one indexed lookup per way in (the calendar index by assignee and time, the attendees by user), joined
    by UNION. Written as one condition with OR, PostgreSQL walked every person's items of the period instead."""
    assigned = (Activity.objects.filter(kind__in=CALENDAR_KINDS, assigned_to_id__in=people, due_at__gte=start,
                                        due_at__lt=end).filter(kind__in=kinds).order_by().values("id"))
    invited = (Attendee.objects.filter(user_id__in=people, activity__due_at__gte=start, activity__due_at__lt=end,
                                       activity__kind__in=kinds).order_by().values("activity_id"))
    return assigned.union(invited)


def calendar_items(*, user, start: datetime, end: datetime, people: list[int]) -> list[Activity]:
    """Tasks and meetings between `start` and `end` of the users `people` (the reader and/or their team):
    assigned to them or, for meetings, with them invited. Others' items only on records the reader may see."""
    items = Activity.objects.filter(pk__in=scheduled_ids(people, start, end)).exclude(status=Activity.Status.CANCELLED)
    if [pk for pk in people if pk != user.pk]:
        # Others' items only on records the reader may see; the reader's own always.
        items = items.filter(Q(assigned_to_id=user.pk) | Q(pk__in=Attendee.objects.filter(user_id=user.pk)
                                                           .values("activity_id")) | visible_records_q(user))
    items = list(items.order_by("due_at", "id")[:CALENDAR_LIMIT])
    timeline_prepare(items)
    attach_targets(items, user)
    return items


def feed_items(*, user) -> list[Activity]:
    """What a user's calendar feed holds: their meetings (organised or invited to) and open tasks, from two
    months back to a year ahead, cancelled meetings included (so calendars take them off)."""
    now = timezone.now()
    ids = scheduled_ids([user.pk], now - timedelta(days=FEED_PAST_DAYS), now + timedelta(days=FEED_FUTURE_DAYS))
    items = list(Activity.objects.filter(pk__in=ids)
                 .filter(Q(kind=Activity.Kind.MEETING) | Q(status=Activity.Status.OPEN))
                 .order_by("due_at", "id")[:FEED_LIMIT])
    timeline_prepare(items)
    attach_targets(items, user)
    return items
