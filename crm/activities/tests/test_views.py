"""Logging activities from a record page (htmx and without script), an activity's own page, editing,
completing, the invitation, and visibility: what a user may not see answers 404."""
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from crm.activities.models import Activity, Attendee, Reminder
from crm.activities.tests.factories import ActivityFactory, TaskFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _create_url(record, kind):
    return reverse("activities:create", args=[ContentType.objects.get_for_model(record).pk, record.pk, kind])


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("kind", ["task", "call", "meeting", "email", "note"])
def test_each_kind_has_a_short_form_for_htmx(client, reps, kind):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    response = client.get(_create_url(lead, kind), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-post="' in html and "<html" not in html  # a fragment for the record page


def test_a_task_logged_with_htmx_lands_on_the_timeline_without_leaving_the_page(client, reps):
    rep, other, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    due = timezone.now() + timedelta(days=1)

    response = client.post(_create_url(lead, "task"), {
        "subject": "Send the quote", "due_at": _local(due), "remind_minutes": "15", "priority": "high",
        "assigned_to": other.pk, "body": "With the discount"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "activityCreated"
    assert "Send the quote" in response.content.decode()
    task = Activity.objects.get(kind=Activity.Kind.TASK)
    assert (task.status, task.priority, task.assigned_to, task.remind_minutes) == ("open", "high", other, 15)
    assert task.target == lead
    assert Reminder.objects.get(activity=task).user == other


def test_an_invalid_form_comes_back_into_its_own_slot(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    response = client.post(_create_url(lead, "task"), {"subject": "", "assigned_to": rep.pk}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#activity-form"
    assert not Activity.objects.exists()


def test_without_script_the_form_is_a_page_and_saving_goes_back_to_the_record(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    assert "<html" in client.get(_create_url(lead, "call")).content.decode()
    response = client.post(_create_url(lead, "call"), {
        "subject": "Intro", "direction": "inbound", "duration_minutes": "12", "outcome": "connected",
        "occurred_at": _local(timezone.now()), "body": "Wants a demo"})

    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    call = Activity.objects.get()
    assert (call.kind, call.direction, call.duration_minutes, call.outcome) == ("call", "inbound", 12, "connected")


def test_a_meeting_invites_colleagues_and_contacts(client, reps):
    from accounts.tests.factories import ContactFactory

    rep, other, _ = reps
    lead = LeadFactory(owner=rep)
    contact = ContactFactory(owner=rep, email="aino@example.com")
    client.force_login(rep)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)

    client.post(_create_url(lead, "meeting"), {
        "subject": "Demo", "due_at": _local(start), "ends_at": _local(start + timedelta(hours=1)),
        "location": "Room 1", "attendee_users": [other.pk], "attendee_contacts": [contact.pk]}, **HTMX)

    meeting = Activity.objects.get(kind=Activity.Kind.MEETING)
    assert meeting.ends_at - meeting.due_at == timedelta(hours=1) and meeting.assigned_to == rep
    assert {(a.user_id, a.object_id, a.email) for a in Attendee.objects.filter(activity=meeting)} == {
        (other.pk, None, other.email), (None, contact.pk, "aino@example.com")}


def test_a_meeting_cannot_invite_a_contact_the_rep_cannot_see(client, reps):
    from accounts.tests.factories import ContactFactory

    rep, other, _ = reps
    lead = LeadFactory(owner=rep)
    hidden = ContactFactory(owner=other)
    client.force_login(rep)
    start = timezone.now() + timedelta(days=2)

    response = client.post(_create_url(lead, "meeting"), {
        "subject": "Demo", "due_at": _local(start), "attendee_contacts": [hidden.pk]}, **HTMX)

    assert response["HX-Retarget"] == "#activity-form"
    assert not Activity.objects.exists()


def test_a_note_is_sanitized_and_never_runs_script(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    client.post(_create_url(lead, "note"), {
        "body_html": '<p onclick="alert(1)">Budget <strong>approved</strong></p><script>alert(2)</script>'
                     '<a href="javascript:alert(3)">x</a><img src=x onerror=alert(4)>'}, **HTMX)

    note = Activity.objects.get()
    assert note.body_html == '<p>Budget <strong>approved</strong></p><a rel="noopener noreferrer nofollow">x</a>'
    assert note.subject == "Budget approved" and note.body == "Budget approved\n\nx"
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "alert(" not in page and "<strong>approved</strong>" in page


def test_others_records_answer_404_everywhere(client, reps):
    rep, other, manager = reps
    lead = LeadFactory(owner=other)
    task = TaskFactory(target=lead, actor=other, assigned_to=other)
    meeting = ActivityFactory(target=lead, actor=other, assigned_to=other, kind=Activity.Kind.MEETING,
                              due_at=timezone.now(), ends_at=timezone.now() + timedelta(hours=1), status="open")
    client.force_login(rep)

    for url in (_create_url(lead, "task"), reverse("activities:detail", args=[task.pk]),
                reverse("activities:edit", args=[task.pk]), reverse("activities:go", args=[task.pk]),
                reverse("activities:invitation", args=[meeting.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("activities:complete", args=[task.pk])).status_code == 404
    assert client.post(reverse("activities:move", args=[meeting.pk]), {"start": "2030-01-01T10:00"}).status_code == 404
    task.refresh_from_db()
    meeting.refresh_from_db()
    assert task.status == "open" and meeting.due_at.year != 2030

    client.force_login(manager)  # above them in the hierarchy
    assert client.get(reverse("activities:detail", args=[task.pk])).status_code == 200


def test_an_activity_assigned_to_me_on_a_record_i_cannot_see_is_mine_to_open(client, reps):
    rep, other, _ = reps
    lead = LeadFactory(owner=other)
    task = TaskFactory(target=lead, actor=other, assigned_to=rep, subject="Call them back")
    client.force_login(rep)

    page = client.get(reverse("activities:detail", args=[task.pk])).content.decode()

    assert "Call them back" in page and str(lead) not in page  # the record stays hidden
    assert client.post(reverse("activities:complete", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.status == "done"


def test_completing_from_the_timeline_returns_the_item(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    task = TaskFactory(target=lead, actor=rep)
    client.force_login(rep)

    response = client.post(reverse("activities:complete", args=[task.pk]), HTTP_HX_REQUEST="true",
                           HTTP_HX_TARGET=f"activity-{task.pk}")

    assert response.content.decode().startswith(f'<li data-kind="task" id="activity-{task.pk}"')
    task.refresh_from_db()
    assert task.status == "done"


def test_editing_a_meeting_raises_its_sequence_and_moves_its_reminder(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=3)
    client.force_login(rep)
    client.post(_create_url(lead, "meeting"), {"subject": "Review", "due_at": _local(start), "remind_minutes": "30"})
    meeting = Activity.objects.get()

    later = start + timedelta(hours=2)
    response = client.post(reverse("activities:edit", args=[meeting.pk]), {
        "subject": "Review", "due_at": _local(later), "ends_at": _local(later + timedelta(minutes=30)),
        "remind_minutes": "30"})

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.due_at == later and meeting.sequence == 1
    assert Reminder.objects.get(activity=meeting).remind_at == later - timedelta(minutes=30)


def test_a_sent_email_is_never_edited(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    email = ActivityFactory(target=lead, actor=rep, kind=Activity.Kind.EMAIL, data={"sent": True, "to": ["a@b.c"]})
    client.force_login(rep)

    assert client.get(reverse("activities:edit", args=[email.pk])).status_code == 404


def test_the_invitation_is_an_ics_file(client, reps):
    from icalendar import Calendar

    rep, other, _ = reps
    lead = LeadFactory(owner=rep)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    meeting = ActivityFactory(target=lead, actor=rep, assigned_to=rep, kind=Activity.Kind.MEETING, subject="Demo",
                              due_at=start, ends_at=start + timedelta(hours=1), location="Helsinki", status="open",
                              remind_minutes=10)
    Attendee.objects.create(activity=meeting, user=other, name="Other", email=other.email)
    client.force_login(other)  # an attendee may download it

    response = client.get(reverse("activities:invitation", args=[meeting.pk]))

    assert response["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["summary"]) == "Demo" and str(event["location"]) == "Helsinki"
    assert event.decoded("dtstart") == start and event.decoded("dtend") == start + timedelta(hours=1)
    assert [str(a) for a in ([event["attendee"]] if not isinstance(event["attendee"], list) else event["attendee"])] == [
        f"mailto:{other.email}"]
    assert event.walk("VALARM")[0].decoded("trigger") == timedelta(minutes=-10)


def test_cancelling_a_meeting_drops_its_reminders_and_marks_it_in_calendars(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    client.force_login(rep)
    client.post(_create_url(lead, "meeting"), {"subject": "Review", "due_at": _local(start), "remind_minutes": "30"})
    meeting = Activity.objects.get()

    client.post(reverse("activities:edit", args=[meeting.pk]), {
        "subject": "Review", "due_at": _local(start), "ends_at": _local(start + timedelta(minutes=30)),
        "status": "cancelled"})

    meeting.refresh_from_db()
    assert meeting.status == "cancelled" and meeting.sequence == 1
    assert not Reminder.objects.filter(sent_at__isnull=True).exists()
    assert "Review" not in client.get(reverse("activities:calendar")).content.decode()


@pytest.mark.parametrize("factory", ["accounts.tests.factories.AccountFactory", "accounts.tests.factories.ContactFactory",
                                     "opportunities.tests.factories.OpportunityFactory"])
def test_any_registered_record_type_takes_activities(client, reps, factory):
    from django.utils.module_loading import import_string

    rep, other, _ = reps
    record = import_string(factory)(owner=rep)
    client.force_login(rep)

    response = client.post(_create_url(record, "task"), {"subject": "Follow up", "assigned_to": rep.pk}, **HTMX)

    assert response.status_code == 200 and Activity.objects.get().target == record
    assert "Follow up" in client.get(record.get_absolute_url()).content.decode()
    client.force_login(other)
    assert client.get(_create_url(record, "note"), **HTMX).status_code == 404


def test_an_invited_colleague_answers_and_the_invitation_says_so(client, reps):
    from icalendar import Calendar

    rep, other, manager = reps
    lead = LeadFactory(owner=rep)
    start = timezone.now() + timedelta(days=1)
    meeting = ActivityFactory(target=lead, actor=rep, assigned_to=rep, kind=Activity.Kind.MEETING, status="open",
                              due_at=start, ends_at=start + timedelta(hours=1))
    Attendee.objects.create(activity=meeting, user=other, name="Other", email=other.email)
    client.force_login(other)
    assert "Will you attend?" in client.get(reverse("activities:detail", args=[meeting.pk])).content.decode()

    response = client.post(reverse("activities:respond", args=[meeting.pk]), {"response": "accepted"})

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert Attendee.objects.get(activity=meeting).response == "accepted" and meeting.sequence == 1
    event = Calendar.from_ical(client.get(reverse("activities:invitation", args=[meeting.pk])).content).walk("VEVENT")[0]
    assert event["attendee"].params["PARTSTAT"] == "ACCEPTED"
    assert client.post(reverse("activities:respond", args=[meeting.pk]), {"response": "bogus"}).status_code == 404
    client.force_login(manager)  # sees the meeting through the hierarchy, but is not invited
    assert client.post(reverse("activities:respond", args=[meeting.pk]), {"response": "declined"}).status_code == 404


@pytest.mark.parametrize("kind", ["task", "meeting"])
def test_times_outside_any_calendar_are_refused(client, reps, kind):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)

    response = client.post(_create_url(lead, kind), {"subject": "Far", "due_at": "9999-12-31T23:45",
                                                     "assigned_to": rep.pk, "remind_minutes": "1440"}, **HTMX)

    assert response.status_code == 200 and "between 1900 and 2200" in response.content.decode()
    assert not Activity.objects.exists()


def test_the_forms_warn_about_do_not_call_and_e_mail_opt_out(client, reps):
    from accounts.tests.factories import ContactFactory

    rep, _, _ = reps
    contact = ContactFactory(owner=rep)
    type(contact).objects.filter(pk=contact.pk).update(do_not_call=True, email_opt_out=True)
    client.force_login(rep)

    assert "asked not to be called" in client.get(_create_url(contact, "call"), **HTMX).content.decode()
    assert "opted out of e-mail" in client.get(_create_url(contact, "email"), **HTMX).content.decode()
    assert "data-consent-warning" not in client.get(_create_url(LeadFactory(owner=rep), "call"), **HTMX).content.decode()


def test_hostile_ids_are_refused_not_errors(client, reps):
    rep, _, _ = reps
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    huge = "9" * 30
    start = timezone.now() + timedelta(days=1)

    meeting = client.post(_create_url(lead, "meeting"), {"subject": "X", "due_at": _local(start),
                                                         "attendee_contacts": [huge]}, **HTMX)
    template = client.get(reverse("activities:email_template", args=[
        ContentType.objects.get_for_model(lead).pk, lead.pk]), {"template": huge}, **HTMX)

    assert meeting.status_code == 200 and meeting["HX-Retarget"] == "#activity-form"
    assert template.status_code == 200 and not Activity.objects.exists()


def test_an_id_past_bigint_is_404(client, reps):
    rep, _, _ = reps
    client.force_login(rep)
    huge = "9" * 30
    assert client.get(f"/activities/{huge}/").status_code == 404
    assert client.post(f"/activities/{huge}/move/", {"start": "2030-01-01T10:00"}).status_code == 404
    assert client.get(f"/activities/new/{huge}/{huge}/task/").status_code == 404


def test_only_registered_record_types_take_activities(client, reps):
    from crm.access.models import User

    rep, other, _ = reps
    client.force_login(rep)
    user_type = ContentType.objects.get_for_model(User).pk

    assert client.get(reverse("activities:create", args=[user_type, other.pk, "note"]), **HTMX).status_code == 404
