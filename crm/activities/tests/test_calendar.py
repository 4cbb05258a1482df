"""My day, the calendar (week and month, the team's for managers, drag to move) and the personal calendar
feed (secret address, revoked and regenerated, parsed back with icalendar): each shows only what its reader
may see, in a fixed number of queries."""
import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.activities import services
from crm.activities.models import Activity, Attendee, CalendarFeed
from crm.activities.tests.factories import ActivityFactory, TaskFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _at(day_offset: int, hour: int, minute: int = 0):
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _meeting(*, owner, start, subject="Meeting", record=None, **extra):
    return ActivityFactory(target=record or LeadFactory(owner=owner), actor=owner, assigned_to=owner,
                           kind=Activity.Kind.MEETING, subject=subject, status=Activity.Status.OPEN, due_at=start,
                           ends_at=start + timedelta(hours=1), **extra)


def _task(*, owner, due, subject="Task", record=None, **extra):
    return TaskFactory(target=record or LeadFactory(owner=owner), actor=owner, assigned_to=owner, subject=subject,
                       due_at=due, **extra)


# --- My day -----------------------------------------------------------------------------------------------------

def test_my_day_sorts_tasks_and_shows_todays_meetings(client, reps):
    rep, other, _ = reps
    _task(owner=rep, due=_at(-2, 9), subject="Late one")
    _task(owner=rep, due=_at(0, 23, 30), subject="Today one")
    _task(owner=rep, due=_at(3, 9), subject="Soon one")
    _task(owner=rep, due=None, subject="Someday one")
    _task(owner=rep, due=_at(30, 9), subject="Far one")
    _task(owner=rep, due=_at(0, 10), subject="Finished one", status=Activity.Status.DONE)
    _task(owner=other, due=_at(0, 10), subject="Not mine")
    _meeting(owner=rep, start=_at(0, 14), subject="Standup")
    invited = _meeting(owner=other, start=_at(0, 15), subject="Their demo")
    Attendee.objects.create(activity=invited, user=rep, name=str(rep), email=rep.email)
    _meeting(owner=rep, start=_at(1, 14), subject="Tomorrow's")
    client.force_login(rep)

    html = client.get(reverse("home")).content.decode()

    def section(name):
        start = html.index(f'data-my-day="{name}"')
        return html[start:html.index("</ul>", start)]

    assert "Late one" in section("overdue") and "Today one" in section("today")
    assert "Soon one" in section("upcoming") and "Someday one" in section("undated")
    assert "Standup" in section("meetings") and "Their demo" in section("meetings")
    for absent in ("Far one", "Finished one", "Not mine", "Tomorrow&#x27;s", "Tomorrow's"):
        assert absent not in html


def test_completing_in_my_day_refreshes_the_widget(client, reps):
    rep, _, _ = reps
    task = _task(owner=rep, due=_at(0, 12), subject="Quick one")
    client.force_login(rep)

    response = client.post(reverse("activities:complete", args=[task.pk]), HTTP_HX_REQUEST="true",
                           HTTP_HX_TARGET="my-day")

    assert response.content.decode().startswith('<div class="card h-100" id="my-day"')
    assert "Quick one" not in response.content.decode()


def test_my_day_does_not_name_records_the_rep_cannot_see(client, reps):
    rep, other, _ = reps
    hidden = LeadFactory(owner=other, last_name="Secretsson")
    _task(owner=rep, due=_at(0, 12), subject="Assigned to me", record=hidden)
    client.force_login(rep)

    html = client.get(reverse("home")).content.decode()

    assert "Assigned to me" in html and "Secretsson" not in html


def test_home_query_budget_does_not_grow_with_my_day(client, reps, django_assert_max_num_queries):
    rep, _, _ = reps
    client.force_login(rep)
    _task(owner=rep, due=_at(0, 12))
    _meeting(owner=rep, start=_at(0, 14))
    client.get(reverse("home"))  # warm the per-process caches
    # 17 today: the session's user, My day's two, the other widgets, and the sales dashboard's constant 11
    with django_assert_max_num_queries(18) as few:
        client.get(reverse("home"))
    for i in range(20):
        _task(owner=rep, due=_at(i % 5 - 2, 9 + i % 8))
        _meeting(owner=rep, start=_at(0, 8 + i % 10))

    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # one of slack: a cache refresh, never one per item
        response = client.get(reverse("home"))
    assert response.status_code == 200


# --- the calendar ------------------------------------------------------------------------------------------------

def test_the_week_shows_my_meetings_and_tasks_in_their_slots(client, reps):
    rep, other, _ = reps
    meeting = _meeting(owner=rep, start=_at(0, 10, 30), subject="Pricing review")
    _task(owner=rep, due=_at(0, 16), subject="Send deck")
    _meeting(owner=other, start=_at(0, 11), subject="Someone else's")
    client.force_login(rep)

    response = client.get(reverse("activities:calendar"))

    html = response.content.decode()
    assert "Pricing review" in html and "Send deck" in html and "Someone else" not in html
    slot = f'data-drop="{timezone.localdate().isoformat()}T10:30"'
    assert f'data-activity="{meeting.pk}"' in html[html.index(slot):html.index("</td>", html.index(slot))]
    assert html.count("data-draggable") == 1  # meetings move, tasks do not


def test_the_month_shows_every_day_of_it(client, reps):
    rep, _, _ = reps
    _meeting(owner=rep, start=_at(0, 10), subject="This month")
    client.force_login(rep)

    html = client.get(reverse("activities:calendar"), {"view": "month"}).content.decode()

    assert "This month" in html and 'data-view="month"' in html
    assert html.count("data-drop=") in (28, 35, 42)


def test_a_manager_sees_the_team_and_reps_do_not(client, reps):
    rep, other, manager = reps
    _meeting(owner=rep, start=_at(0, 10), subject="Rep's demo")
    _meeting(owner=other, start=_at(0, 12), subject="Other's demo")
    client.force_login(manager)

    team = client.get(reverse("activities:calendar"), {"who": "team"}).content.decode()
    one = client.get(reverse("activities:calendar"), {"who": str(rep.pk)}).content.decode()

    assert "Rep&#x27;s demo" in team and "Other&#x27;s demo" in team
    assert "Rep&#x27;s demo" in one and "Other&#x27;s demo" not in one
    client.force_login(rep)
    peek = client.get(reverse("activities:calendar"), {"who": str(other.pk)}).content.decode()
    assert "Other&#x27;s demo" not in peek  # not in their team: their own calendar instead
    assert "Other&#x27;s demo" not in client.get(reverse("activities:calendar"), {"who": "team"}).content.decode()


def test_the_team_calendar_leaves_out_records_the_manager_cannot_see(client, reps):
    from crm.access.tests.factories import RoleFactory, UserFactory

    rep, _, manager = reps
    # A meeting of the manager's rep on a record owned by someone outside the hierarchy.
    outsider = UserFactory(role=RoleFactory(name="Elsewhere"), profile=rep.profile)
    _meeting(owner=rep, start=_at(0, 10), subject="Private matter", record=LeadFactory(owner=outsider))
    client.force_login(manager)

    assert "Private matter" not in client.get(reverse("activities:calendar"), {"who": "team"}).content.decode()


def test_calendar_query_budget_is_the_same_for_many_items(client, reps, django_assert_max_num_queries):
    rep, other, manager = reps
    client.force_login(manager)
    _meeting(owner=rep, start=_at(0, 10))
    client.get(reverse("activities:calendar"), {"who": "team"})
    with django_assert_max_num_queries(8) as few:  # 4 today: items, attendees, their records, which may move
        client.get(reverse("activities:calendar"), {"who": "team"})
    for i in range(30):
        _meeting(owner=(rep, other, manager)[i % 3], start=_at(i % 5 - 2, 8 + i % 9))
        _task(owner=(rep, other, manager)[i % 3], due=_at(i % 5 - 2, 9 + i % 7))

    for view in ("week", "month"):
        with django_assert_max_num_queries(len(few.captured_queries) + 1):  # one of slack: a cache refresh, never one per item
            assert client.get(reverse("activities:calendar"), {"who": "team", "view": view}).status_code == 200


def test_dragging_a_meeting_moves_it_and_keeps_its_length(client, reps):
    rep, _, _ = reps
    meeting = _meeting(owner=rep, start=_at(1, 10), remind_minutes=15)
    client.force_login(rep)
    target = timezone.localdate() + timedelta(days=2)

    response = client.post(reverse("activities:move", args=[meeting.pk]), {"start": f"{target.isoformat()}T14:30"})

    assert response.status_code == 200 and response.json()["ok"] and response.json()["clock"] == "14:30–15:30"
    meeting.refresh_from_db()
    assert timezone.localtime(meeting.due_at).date() == target
    assert (timezone.localtime(meeting.due_at).hour, meeting.ends_at - meeting.due_at) == (14, timedelta(hours=1))
    assert meeting.sequence == 1
    assert meeting.reminders.get().remind_at == meeting.due_at - timedelta(minutes=15)


def test_dropping_on_a_month_day_keeps_the_time_of_day(client, reps):
    rep, _, _ = reps
    meeting = _meeting(owner=rep, start=_at(1, 9, 15))
    client.force_login(rep)
    target = timezone.localdate() + timedelta(days=5)

    client.post(reverse("activities:move", args=[meeting.pk]), {"start": target.isoformat()})

    meeting.refresh_from_db()
    local = timezone.localtime(meeting.due_at)
    assert (local.date(), local.hour, local.minute) == (target, 9, 15)


def test_the_server_checks_the_right_to_move_again(client, reps):
    rep, other, _ = reps
    theirs = _meeting(owner=other, start=_at(1, 10))
    Attendee.objects.create(activity=theirs, user=rep, name=str(rep), email=rep.email)  # rep sees it, as a guest
    task = _task(owner=rep, due=_at(1, 10))
    client.force_login(rep)

    assert client.post(reverse("activities:move", args=[theirs.pk]), {"start": "2030-01-01T10:00"}).status_code == 403
    assert client.post(reverse("activities:move", args=[task.pk]), {"start": "2030-01-01T10:00"}).status_code == 400
    mine = _meeting(owner=rep, start=_at(1, 10))
    for bad in ("", "yesterday", "2030-13-45T99:99", "2030-01-01T10:00:00+99:00", "9999-12-31T23:30", "0001-01-01"):
        assert client.post(reverse("activities:move", args=[mine.pk]), {"start": bad}).status_code == 400, bad
    theirs.refresh_from_db()
    assert theirs.due_at.year != 2030


# --- the personal feed --------------------------------------------------------------------------------------------

def _feed_url(client):
    client.post(reverse("activities:feed_rotate"))
    feed = CalendarFeed.objects.get()
    return reverse("activities:feed", args=[services.feed_token(feed)])


def test_the_feed_is_parsed_back_with_icalendar_and_shows_only_what_the_user_may_see(client, reps):
    from icalendar import Calendar

    rep, other, _ = reps
    mine = _meeting(owner=rep, start=_at(1, 10), subject="My meeting", location="Espoo")
    invited = _meeting(owner=other, start=_at(2, 10), subject="Invited to", record=LeadFactory(owner=other,
                                                                                               last_name="Hiddenberg"))
    Attendee.objects.create(activity=invited, user=rep, name=str(rep), email=rep.email)
    open_task = _task(owner=rep, due=_at(1, 15), subject="Open task")
    _task(owner=rep, due=_at(1, 16), subject="Done task", status=Activity.Status.DONE)
    _meeting(owner=other, start=_at(1, 11), subject="Not mine")
    client.force_login(rep)
    url = _feed_url(client)
    client.logout()  # calendar programs have no session

    response = client.get(url)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"My meeting", "Invited to", "Task: Open task"}
    assert events["My meeting"].decoded("dtstart") == mine.due_at and str(events["My meeting"]["location"]) == "Espoo"
    assert str(events["My meeting"]["uid"]) == f"activity-{mine.pk}@testserver" or "activity-" in str(events["My meeting"]["uid"])
    assert "Hiddenberg" not in response.content.decode()  # the record of a meeting they are only invited to
    assert str(events["Task: Open task"]["transp"]) == "TRANSPARENT"
    assert open_task.pk and str(cal["x-wr-calname"]).startswith("CRM")


def test_a_moved_meeting_keeps_its_uid_with_a_higher_sequence(client, reps):
    from icalendar import Calendar

    rep, _, _ = reps
    meeting = _meeting(owner=rep, start=_at(1, 10), subject="Moves")
    client.force_login(rep)
    url = _feed_url(client)
    before = Calendar.from_ical(client.get(url).content).walk("VEVENT")[0]
    services.meeting_move(activity=meeting, start=_at(1, 13), actor=rep)

    after = Calendar.from_ical(client.get(url).content).walk("VEVENT")[0]

    assert str(after["uid"]) == str(before["uid"]) and int(after["sequence"]) == int(before["sequence"]) + 1
    assert after.decoded("dtstart") == _at(1, 13)


def test_the_feed_address_can_be_regenerated_and_revoked(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    first = _feed_url(client)
    assert client.get(first).status_code == 200

    second = _feed_url(client)  # regenerate
    assert second != first
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200

    client.post(reverse("activities:feed_revoke"))
    assert client.get(second).status_code == 404
    assert "Make my calendar address" in client.get(reverse("activities:feed_settings")).content.decode()


def test_a_guessed_or_tampered_address_is_404_and_then_rate_limited(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    url = _feed_url(client)
    pk, digest = url.rsplit("/", 1)[1].removesuffix(".ics").split("-")
    tampered = url.replace(digest, ("0" if digest[0] != "0" else "1") + digest[1:])
    client.logout()

    assert client.get(tampered).status_code == 404
    assert client.get(reverse("activities:feed", args=[f"999999-{digest}"])).status_code == 404
    statuses = [client.get(tampered).status_code for _ in range(40)]
    assert statuses[-1] == 429


def test_a_deactivated_users_feed_stops(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    url = _feed_url(client)
    rep.is_active = False
    rep.save()

    assert client.get(url).status_code == 404


def test_feed_query_budget_does_not_grow(client, reps, django_assert_max_num_queries):
    rep, _, _ = reps
    client.force_login(rep)
    url = _feed_url(client)
    _meeting(owner=rep, start=_at(1, 10))
    client.get(url)
    with django_assert_max_num_queries(8) as few:  # 4 today: the feed row, items, attendees, records
        client.get(url)
    for i in range(25):
        _meeting(owner=rep, start=_at(i % 9, 8 + i % 9))
        _task(owner=rep, due=_at(i % 9, 8 + i % 9))

    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # one of slack: a cache refresh, never one per item
        assert client.get(url).status_code == 200


def test_a_persian_reader_gets_jalali_months_and_weeks_from_saturday(client, reps):
    rep, _, _ = reps
    rep.language, rep.use_jalali = "fa", True
    rep.save()
    _meeting(owner=rep, start=_at(0, 10), subject="Jalali")
    client.force_login(rep)

    html = client.get(reverse("activities:calendar"), {"view": "month"}).content.decode()
    week = client.get(reverse("activities:calendar")).content.decode()

    assert "Jalali" in html
    head = week[week.index("<thead>"):week.index("</thead>")]
    days = re.findall(r'<th scope="col" class="text-center small[^"]*">([^<]+)</th>', head)
    assert [d.split()[0] for d in days] == ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"]
    assert any(month in html for month in ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان",
                                           "آذر", "دی", "بهمن", "اسفند"))


@pytest.mark.parametrize("language, first", [("en", 6), ("fi", 0), ("fa", 5)])
def test_weeks_start_as_each_language_counts_them(language, first):
    from crm.activities.calendar_grid import first_weekday

    assert first_weekday(language) == first


def test_what_people_typed_is_escaped_in_the_calendar_and_my_day(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep, last_name="<img src=x onerror=alert(1)>")
    _meeting(owner=rep, start=_at(0, 10), subject="<script>alert(1)</script>", record=lead)
    _task(owner=rep, due=_at(0, 12), subject='"><svg onload=alert(2)>', record=lead)
    client.force_login(rep)

    for html in (client.get(reverse("activities:calendar")).content.decode(),
                 client.get(reverse("activities:calendar"), {"view": "month"}).content.decode(),
                 client.get(reverse("home")).content.decode()):
        assert "<script>alert" not in html and "<svg" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
