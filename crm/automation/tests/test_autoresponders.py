"""Auto-responders: a new record is answered once, ever, by the first active responder (in order) whose criteria
it meets, in the recipient's language, never to an address that opted out; the outcome is kept either way. The
event is delivered the way the events worker does (crm.core.events.deliver), the send runs as its task would;
redelivered events, duplicated tasks and racing workers send one e-mail. A real worker answers a lead created
through the service. The settings pages are for admins only."""
import os
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from conftest import start_worker, stop_worker, wait_for
from crm.access.tests.factories import AdminFactory
from crm.activities.models import Activity
from crm.automation import autoresponders
from crm.automation.autoresponders import autoresponder_save, autoresponse_send, handle_event
from crm.automation.models_autoresponders import AutoResponder, AutoResponse
from crm.automation.tests.rule_helpers import deliver_events
from crm.core.models import Event
from leads.models import Lead
from leads.services import lead_create

pytestmark = pytest.mark.django_db

HOT = {"all": [{"field": "rating", "op": "equals", "value": "hot"}]}


def template(name="Thanks", record_type="leads.lead", **variants):
    from crm.mail.models import EmailTemplate
    from crm.mail.services import template_save

    found = EmailTemplate.objects.filter(name=name, record_type=record_type).first()
    return found or template_save(actor=None, name=name, record_type=record_type, variants=variants or {
        "en": ("Thanks {{ lead.first_name }}", "<p>Hello {{ lead.first_name }}, we will call you.</p>"),
        "fi": ("Kiitos {{ lead.first_name }}", "<p>Hei {{ lead.first_name }}, soitamme sinulle.</p>"),
        "fa": ("سپاس {{ lead.first_name }}", "<p>سلام {{ lead.first_name }}</p>")})


def responder(tpl=None, *, name="Answer", criteria=None, order=100, is_active=True, record_type="leads.lead", **kw):
    return autoresponder_save(actor=None, record_type=record_type, name=name, template=tpl or template(),
                              criteria=criteria or {}, order=order, is_active=is_active, **kw)


def new_lead(owner, **fields):
    fields.setdefault("email", f"{fields.get('first_name', 'x').lower()}@example.com")
    return lead_create(actor=owner, lead=Lead(last_name=fields.pop("last_name", "Laine"), owner=owner, **fields))


def send_waiting() -> list:
    return [autoresponse_send(pk) for pk in AutoResponse.objects.filter(outcome="pending").values_list("pk", flat=True)]


def settle() -> list:
    deliver_events()
    return send_waiting()


def response_of(record) -> AutoResponse:
    return AutoResponse.objects.get(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)


def test_first_match_wins_in_order_and_the_mail_lands_on_the_timeline(reps, mailoutbox):
    rep, _, _ = reps
    hot_tpl = template("Hot", en=("Hot {{ lead.first_name }}", "<p>Hot</p>"))
    everyone = responder(name="Everyone", order=20)
    hot = responder(hot_tpl, name="Hot ones", criteria=HOT, order=10)
    aino = new_lead(rep, first_name="Aino", rating="hot")
    ville = new_lead(rep, first_name="Ville", rating="cold")
    settle()
    assert sorted(m.subject for m in mailoutbox) == ["Hot Aino", "Thanks Ville"]
    assert response_of(aino).responder == hot and response_of(ville).responder == everyone
    row = response_of(aino)
    assert row.outcome == "sent" and row.to_address == "aino@example.com" and row.language == "en"
    message = next(m for m in mailoutbox if m.to == ["aino@example.com"])
    assert message.extra_headers["Auto-Submitted"] == "auto-replied"
    assert message.extra_headers["Message-ID"].startswith(f"<autoresponse-{row.pk}@")
    # The e-mail as it left, on the lead's timeline (and its page).
    activity = Activity.objects.get(pk=row.activity_id)
    assert activity.kind == "email" and activity.object_id == aino.pk and activity.subject == "Hot Aino"
    assert activity.data["sent"] is True and activity.data["template"] == hot_tpl.pk
    from django.test import Client

    client = Client()
    client.force_login(rep)
    assert "Hot Aino" in client.get(reverse("leads:detail", args=[aino.pk])).content.decode()


def test_inactive_responders_and_responders_without_a_match_send_nothing(reps, mailoutbox):
    rep, _, _ = reps
    responder(name="Off", is_active=False)
    responder(name="Hot only", criteria=HOT)
    new_lead(rep, first_name="Cold", rating="cold")
    settle()
    assert mailoutbox == [] and not AutoResponse.objects.exists()


def test_criteria_and_or(reps, mailoutbox):
    rep, _, _ = reps
    responder(criteria={"all": [{"field": "country", "op": "equals", "value": "FI"},
                                {"any": [{"field": "rating", "op": "equals", "value": "hot"},
                                         {"field": "employees", "op": "gt", "value": "100"}]}]})
    new_lead(rep, first_name="Hot", country="FI", rating="hot")
    new_lead(rep, first_name="Big", country="FI", employees=500)
    new_lead(rep, first_name="Small", country="FI", employees=5, rating="cold")
    new_lead(rep, first_name="Abroad", country="SE", rating="hot")
    settle()
    assert sorted(m.to[0] for m in mailoutbox) == ["big@example.com", "hot@example.com"]


@pytest.mark.parametrize(("country", "language", "subject"), [("FI", "fi", "Kiitos Aino"), ("IR", "fa", "سپاس Aino"),
                                                              ("US", "en", "Thanks Aino"), ("", "en", "Thanks Aino")])
def test_the_recipients_language_picks_the_variant(reps, mailoutbox, country, language, subject):
    rep, _, _ = reps
    responder()
    lead = new_lead(rep, first_name="Aino", country=country)
    settle()
    [message] = mailoutbox
    assert message.subject == subject
    assert response_of(lead).language == language


def test_an_opted_out_address_gets_nothing_and_the_outcome_is_kept(reps, mailoutbox):
    from accounts.services import contact_create

    rep, _, _ = reps
    responder()
    contact_create(actor=rep, first_name="Ville", last_name="Opt", email="Ville@Example.com", email_opt_out=True,
                   owner=rep)
    lead = new_lead(rep, first_name="Ville")  # ville@example.com: the address of a contact who opted out
    settle()
    assert mailoutbox == []
    row = response_of(lead)
    assert row.outcome == "opted_out" and row.finished_at is not None and row.activity_id is None
    assert not Activity.objects.filter(kind="email", object_id=lead.pk).exists()


def test_an_opted_out_contact_of_a_contact_responder(reps, mailoutbox):
    from accounts.services import contact_create

    rep, _, _ = reps
    tpl = template("Welcome", record_type="accounts.contact", en=("Welcome {{ contact.first_name }}", "<p>Hi</p>"))
    responder(tpl, record_type="accounts.contact")
    out = contact_create(actor=rep, first_name="Out", last_name="Opt", email="out@example.com", email_opt_out=True,
                         owner=rep)
    inside = contact_create(actor=rep, first_name="In", last_name="Side", email="in@example.com", owner=rep)
    settle()
    assert [m.subject for m in mailoutbox] == ["Welcome In"]
    assert response_of(out).outcome == "opted_out" and response_of(inside).outcome == "sent"


def test_no_address_is_an_outcome_and_takes_the_records_one_answer(reps, mailoutbox):
    rep, _, _ = reps
    responder(name="First", order=10)
    responder(name="Second", order=20)
    lead = lead_create(actor=rep, lead=Lead(last_name="Nomail", owner=rep))
    settle()
    assert mailoutbox == [] and response_of(lead).outcome == "no_address"
    assert AutoResponse.objects.count() == 1


def test_once_per_record_when_the_event_is_delivered_twice_and_the_task_runs_twice(reps, mailoutbox):
    rep, _, _ = reps
    responder()
    lead = new_lead(rep, first_name="Aino")
    event = Event.objects.get(name="lead.created", object_id=lead.pk)
    handle_event(event)  # the subscriber called twice, past the outbox's own once-per-subscriber record
    handle_event(event)
    deliver_events()
    assert AutoResponse.objects.count() == 1
    [pk] = AutoResponse.objects.values_list("pk", flat=True)
    assert autoresponse_send(pk) == "sent"
    assert autoresponse_send(pk) is None  # a redelivered task
    # Another "created" event of the same record (a replay): the row is there, nothing more.
    from crm.core.events import emit

    handle_event(emit("lead.created", lead))
    send_waiting()
    assert len(mailoutbox) == 1 and AutoResponse.objects.count() == 1


def test_a_responder_ignores_events_from_before_it_existed(reps, mailoutbox):
    rep, _, _ = reps
    new_lead(rep, first_name="Early")
    responder()
    settle()
    assert mailoutbox == [] and not AutoResponse.objects.exists()


def test_records_an_import_created_are_not_answered(reps, mailoutbox):
    from crm.core.events import emit_many

    rep, _, _ = reps
    responder()
    # The import writes its rows set-wise and announces them in one batch marked with the job.
    lead = Lead.objects.create(last_name="Imported", email="imported@example.com", owner=rep)
    emit_many("lead.created", Lead, [lead.pk], actor=rep, data={"import": 1})
    settle()
    assert mailoutbox == [] and not AutoResponse.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_send_one_mail(reps, mailoutbox):
    rep, _, _ = reps
    responder()
    lead = new_lead(rep, first_name="Aino")
    event = Event.objects.get(name="lead.created", object_id=lead.pk)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run(step):
        try:
            barrier.wait(timeout=10)
            results.append(step())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def race(step):
        threads = [threading.Thread(target=run, args=(step,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

    # Two deliveries of the same event at once (each in its own transaction, as two event workers).
    def deliver_once():
        from django.db import transaction

        with transaction.atomic():
            handle_event(event)

    race(deliver_once)
    assert not errors and AutoResponse.objects.count() == 1
    pk = AutoResponse.objects.get().pk
    results.clear()
    race(lambda: autoresponse_send(pk))  # two send tasks of the same row at once
    assert not errors
    assert sorted(results, key=str) == [None, "sent"]
    assert len(mailoutbox) == 1 and AutoResponse.objects.get().outcome == "sent"
    assert Activity.objects.filter(kind="email", object_id=lead.pk).count() == 1


class BrokenBackend(LocmemBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_a_failing_mail_server_is_retried_with_backoff_then_failed_and_admins_told(reps, settings, mailoutbox,
                                                                                   django_capture_on_commit_callbacks):
    from crm.notifications.models import Notification

    rep, _, _ = reps
    admin = AdminFactory()
    responder()
    lead = new_lead(rep, first_name="Aino")
    deliver_events()
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    row = response_of(lead)
    assert autoresponse_send(row.pk) == "pending"
    row.refresh_from_db()
    assert row.attempts == 1 and "mail server down" in row.error and row.next_attempt_at > timezone.now()
    assert autoresponse_send(row.pk) == "pending"  # a task run early (beat queues it only when due) retries too
    AutoResponse.objects.filter(pk=row.pk).update(attempts=autoresponders.MAX_ATTEMPTS - 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert autoresponse_send(row.pk) == "failed"
    assert Notification.objects.filter(recipient=admin, verb="automation.autoresponse_failed").exists()
    row.refresh_from_db()
    assert row.outcome == "failed" and mailoutbox == []
    # An admin's Send again, with the server back.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert autoresponders.autoresponse_retry(actor=admin, response=row)
    assert send_waiting() == ["sent"] and len(mailoutbox) == 1


def test_beat_queues_waiting_rows_and_marks_interrupted_sends_without_sending_again(reps, mailoutbox):
    rep, _, _ = reps
    responder()
    waiting = new_lead(rep, first_name="Waiting")
    stuck = new_lead(rep, first_name="Stuck")
    deliver_events()
    now = timezone.now()
    AutoResponse.objects.filter(object_id=stuck.pk).update(outcome="sending", claimed_at=now - timedelta(minutes=11))
    assert autoresponders.tick(now=now) == {"queued": 0, "interrupted": 1}  # the waiting one is not due yet
    later = now + autoresponders.SAFETY_NET + timedelta(seconds=1)
    assert autoresponders.tick(now=later)["queued"] == 1
    row = response_of(stuck)
    assert row.outcome == "failed" and "Interrupted" in row.error
    assert autoresponse_send(row.pk) is None  # never sent again on its own
    assert response_of(waiting).next_attempt_at > later
    send_waiting()
    assert [m.to for m in mailoutbox] == [["waiting@example.com"]]


def test_a_sender_user_or_a_from_address(reps, mailoutbox):
    rep, other, _ = reps
    responder(name="From Ville", sender_user=other, criteria=HOT, order=1)
    responder(name="From sales", from_name="Sales team", from_email="sales@example.com", order=2)
    new_lead(rep, first_name="Hot", rating="hot")
    new_lead(rep, first_name="Cold", rating="cold")
    settle()
    by_to = {m.to[0]: m for m in mailoutbox}
    assert by_to["hot@example.com"].reply_to == [other.email]
    assert by_to["cold@example.com"].from_email == "Sales team <sales@example.com>"
    assert by_to["cold@example.com"].reply_to == ["sales@example.com"]


def test_the_service_refuses_a_template_of_another_type_and_change_operators(reps):
    from django.core.exceptions import ValidationError

    contact_tpl = template("C", record_type="accounts.contact", en=("Hi", "<p>Hi</p>"))
    with pytest.raises(ValidationError) as info:
        autoresponder_save(actor=None, record_type="leads.lead", name="x", template=contact_tpl)
    assert "template" in info.value.error_dict
    with pytest.raises(ValidationError) as info:
        autoresponder_save(actor=None, record_type="leads.lead", name="x", template=template(),
                           criteria={"all": [{"field": "rating", "op": "changed"}]})
    assert "criteria" in info.value.error_dict
    with pytest.raises(ValidationError) as info:
        autoresponder_save(actor=None, record_type="opportunities.opportunity", name="x", template=template())
    assert "record_type" in info.value.error_dict  # opportunities have no address of their own


# --- the settings pages ----------------------------------------------------------------------------------------

@pytest.fixture
def admin_client(client):
    admin = AdminFactory()
    client.force_login(admin)
    client.admin = admin
    return client


def test_only_admins_with_the_customization_right_see_the_pages(client, reps):
    rep, _, _ = reps
    r = responder()
    client.force_login(rep)
    for url in (reverse("automation:autoresponder_list"), reverse("automation:autoresponder_create"),
                reverse("automation:autoresponder_edit", args=[r.pk]), reverse("automation:autoresponse_log"),
                reverse("automation:autoresponder_test")):
        assert client.get(url).status_code == 404
    for url in (reverse("automation:autoresponder_toggle", args=[r.pk]),
                reverse("automation:autoresponder_delete", args=[r.pk]),
                reverse("automation:autoresponder_move", args=[r.pk])):
        assert client.post(url).status_code == 404
    assert AutoResponder.objects.get().is_active
    client.logout()
    assert client.get(reverse("automation:autoresponder_list")).status_code == 302  # to the sign-in


def test_an_admin_creates_one_through_the_form_with_the_condition_builder(admin_client, reps, mailoutbox):
    rep, _, _ = reps
    tpl = template()
    url = reverse("automation:autoresponder_create")
    assert b"Record type" in admin_client.get(url).content
    page = admin_client.get(url, {"record_type": "leads.lead"})
    assert b"data-condition-builder" in page.content and tpl.name.encode() in page.content
    base = {"record_type": "leads.lead", "name": "Hot leads: thanks", "order": "10", "is_active": "on",
            "template": str(tpl.pk), "sender_user": "", "from_name": "", "from_email": "",
            "criteria": '{"all": [{"field": "rating", "op": "equals", "value": "hot"}]}'}
    bad = admin_client.post(url, {**base, "criteria": '{"all": [{"field": "rating", "op": "equals"}]}'})
    assert bad.status_code == 200 and not AutoResponder.objects.exists()
    response = admin_client.post(url, base)
    created = AutoResponder.objects.get()
    assert response.status_code == 302 and response.url == reverse("automation:autoresponder_edit", args=[created.pk])
    assert created.criteria == HOT and created.template == tpl and created.created_by == admin_client.admin
    edit = admin_client.get(response.url).content.decode()
    assert "Hot leads: thanks" in edit and "Delete" in edit
    new_lead(rep, first_name="Aino", rating="hot")
    settle()
    assert [m.subject for m in mailoutbox] == ["Thanks Aino"]
    admin_client.post(reverse("automation:autoresponder_edit", args=[created.pk]), {**base, "name": "Renamed"})
    created.refresh_from_db()
    assert created.name == "Renamed"


def test_list_shows_sends_of_30_days_in_a_fixed_number_of_queries(admin_client, reps, django_assert_max_num_queries):
    rep, _, _ = reps
    first = responder(name="First", order=10, criteria=HOT)
    responder(name="Second", order=20)
    new_lead(rep, first_name="A", rating="hot")
    new_lead(rep, first_name="B", rating="hot")
    old = new_lead(rep, first_name="C", rating="hot")
    settle()
    AutoResponse.objects.filter(object_id=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    url = reverse("automation:autoresponder_list")
    admin_client.get(url)
    with django_assert_max_num_queries(12) as few:
        page = admin_client.get(url)
    assert page.status_code == 200 and 'data-sent="2"' in page.content.decode()
    for i in range(5):
        responder(name=f"More {i}", order=30 + i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(url)
    assert page.content.decode().count("data-responder=") == 7
    assert first.name in page.content.decode()


def test_toggle_move_and_delete(admin_client, reps):
    a = responder(name="A", order=10)
    b = responder(name="B", order=20)
    admin_client.post(reverse("automation:autoresponder_move", args=[b.pk]), {"direction": "up"})
    assert list(AutoResponder.objects.order_by("order").values_list("name", flat=True)) == ["B", "A"]
    admin_client.post(reverse("automation:autoresponder_move", args=[b.pk]), {"direction": "down"})
    assert list(AutoResponder.objects.order_by("order").values_list("name", flat=True)) == ["A", "B"]
    admin_client.post(reverse("automation:autoresponder_toggle", args=[a.pk]))
    a.refresh_from_db()
    assert not a.is_active
    assert admin_client.get(reverse("automation:autoresponder_delete", args=[a.pk])).status_code == 405
    admin_client.post(reverse("automation:autoresponder_delete", args=[a.pk]))
    assert list(AutoResponder.objects.values_list("name", flat=True)) == ["B"]


def test_the_log_is_searchable_and_paginated_and_escapes(admin_client, reps):
    rep, _, _ = reps
    r = responder()
    for i in range(3):
        new_lead(rep, first_name=f"P{i:02d}")
    new_lead(rep, first_name="<b>bold</b>", last_name="Evil", email="evil@example.com")
    settle()
    content_type = ContentType.objects.get_for_model(Lead)
    AutoResponse.objects.bulk_create([  # older rows, enough for a second page
        AutoResponse(responder=r, responder_name=r.name, content_type=content_type, object_id=10_000_000 + i,
                     record_repr=f"Old {i}", outcome="sent", created_at=timezone.now() - timedelta(days=2))
        for i in range(50)])
    url = reverse("automation:autoresponse_log")
    page = admin_client.get(url).content.decode()
    assert page.count("data-response=") == 50 and "Page 1 of 2" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert admin_client.get(url, {"page": 2}).content.decode().count("data-response=") == 4
    found = admin_client.get(url, {"record": "p01@example.com"}).content.decode()
    assert found.count("data-response=") == 1 and "P01" in found
    assert admin_client.get(url, {"outcome": "failed"}).content.decode().count("data-response=") == 0


def test_test_on_a_record_names_the_responder_and_the_subject_in_the_recipients_language(admin_client, reps,
                                                                                          mailoutbox):
    rep, _, _ = reps
    responder(name="Hot ones", criteria=HOT, order=10)
    everyone = responder(name="Everyone", order=20)
    lead = lead_create(actor=rep, lead=Lead(first_name="Dariush", last_name="Farahani", owner=rep, country="IR",
                                            email="dariush@example.ir", rating="cold"))
    url = reverse("automation:autoresponder_test")
    found = admin_client.get(url, {"record_type": "leads.lead", "q": "Farahani"}).content.decode()
    assert f"record={lead.pk}" in found
    page = admin_client.get(url, {"record_type": "leads.lead", "record": lead.pk}).content.decode()
    assert f'data-winner="{everyone.pk}"' in page and "سپاس Dariush" in page and 'data-language="fa"' in page
    assert mailoutbox == [] and not AutoResponse.objects.exists()  # nothing sent, nothing written
    assert admin_client.get(url, {"record_type": "opportunities.opportunity"}).status_code == 404


def test_the_settings_nav_and_the_rule_tabs_link_the_pages(admin_client):
    page = admin_client.get(reverse("automation:rule_list")).content.decode()
    assert reverse("automation:autoresponder_list") in page


def test_the_demo_answers_web_form_leads_with_the_responder_not_the_rule(client):
    from django.core.management import call_command

    from crm.access.models import User
    from crm.automation.autoresponder_demo import RESPONDER
    from crm.automation.models_rules import WorkflowRule
    from crm.automation.rule_demo import LEAD_RULE

    call_command("seed_demo", verbosity=0)
    rows = AutoResponse.objects.count()
    call_command("seed_demo", verbosity=0)
    assert AutoResponse.objects.count() == rows > 0
    demo = AutoResponder.objects.get(name=RESPONDER)
    assert demo.is_active and AutoResponse.objects.filter(responder=demo, outcome="sent").exists()
    assert not AutoResponse.objects.filter(created_at__lt=timezone.now() - timedelta(days=7, minutes=1)).exists()
    sent = AutoResponse.objects.filter(outcome="sent").first()
    assert Activity.objects.filter(pk=sent.activity_id, kind="email").exists()
    rule = WorkflowRule.objects.get(name=LEAD_RULE)
    assert [a["kind"] for a in rule.current_version.actions] == ["assign_owner"]  # it no longer answers too
    deliver_events()  # the seed's own events: nothing new is answered
    assert AutoResponse.objects.count() == rows
    client.force_login(User.objects.get(email="admin@demo.local"))
    assert RESPONDER in client.get(reverse("automation:autoresponder_list")).content.decode()
    assert client.get(reverse("automation:autoresponse_log")).status_code == 200


# --- a real worker ---------------------------------------------------------------------------------------------

class DirMailBackend(FileBackend):
    """Django's file backend writing where the test says (EMAIL_FILE_PATH is not read from the environment): the
    worker is another process, so its locmem outbox is out of reach."""

    def __init__(self, *args, **kwargs):
        kwargs["file_path"] = os.environ["AUTORESPONDER_MAIL_DIR"]
        super().__init__(*args, **kwargs)


def mails(directory: Path) -> list[str]:
    return [f.read_text() for f in directory.iterdir()] if directory.exists() else []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lead_created_through_the_service_is_answered_once_by_a_real_worker(reps, tmp_path):
    from crm.celery import app

    rep, _, _ = reps
    responder()
    app.control.purge()
    worker = start_worker(EMAIL_BACKEND=f"{__name__}.DirMailBackend", AUTORESPONDER_MAIL_DIR=str(tmp_path))
    try:
        lead = new_lead(rep, first_name="Aino", country="FI")
        row = wait_for(lambda: AutoResponse.objects.filter(object_id=lead.pk, outcome="sent").first(), timeout=60)
        wait_for(lambda: mails(tmp_path), timeout=10)
        # The task delivered again (as after a lost ack), then a second lead: once that one is answered, the solo
        # worker has run the duplicate, which sent nothing.
        from crm.automation.autoresponder_tasks import autoresponse_send_task

        autoresponse_send_task.delay(row.pk)
        second = new_lead(rep, first_name="Ville")
        wait_for(lambda: AutoResponse.objects.filter(object_id=second.pk, outcome="sent").exists(), timeout=60)
        wait_for(lambda: len(mails(tmp_path)) >= 2, timeout=10)
    finally:
        stop_worker(worker)
    texts = mails(tmp_path)
    assert len(texts) == 2
    [text] = [t for t in texts if "To: aino@example.com" in t]
    assert re.search(r"^Subject: Kiitos Aino$", text, flags=re.M)
    assert Activity.objects.filter(kind="email", object_id=lead.pk).count() == 1
    assert row.language == "fi"
