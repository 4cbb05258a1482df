"""Each workflow action, run the way the action task runs it: update a field (through the record's service),
create a task, send an e-mail (the recipient's language, opted-out never), notify, assign the owner (a user,
round robin), call a webhook (a real local HTTP server, HMAC signature, backoff, response logged); failures
retried, then failed with the admins told; a locked record left alone; the action registry."""
import hashlib
import hmac
import json
import threading
import urllib.error
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from crm.access.tests.factories import AdminFactory, TeamFactory, UserFactory
from crm.activities.models import Activity
from crm.automation import actions, engine
from crm.automation.models_rules import ActionRun, RuleRun
from crm.automation.tests.rule_helpers import deliver_events, hot, make_rule, run_actions, settle
from crm.core.models import Event
from crm.notifications.models import Notification
from leads.models import Lead
from leads.services import lead_create

pytestmark = pytest.mark.django_db


def new_lead(owner, **fields):
    return lead_create(actor=owner, lead=Lead(last_name=fields.pop("last_name", "Laine"), owner=owner, **fields))


def test_update_field_goes_through_the_lead_service_with_history_and_a_tagged_event(reps):
    from crm.core.models import Event

    rep, _, _ = reps
    make_rule(criteria=hot(), actions=[{"kind": "update_field", "field": "status", "value": "contacted"},
                                       {"kind": "update_field", "field": "employees", "value": "120"}])
    lead = new_lead(rep, rating="hot")
    settle()
    lead.refresh_from_db()
    assert lead.status.value == "contacted" and lead.employees == 120
    assert lead.history.count() == 3  # created, then one change per action
    assert [a.status for a in ActionRun.objects.order_by("index")] == ["succeeded", "succeeded"]
    updates = Event.objects.filter(name="lead.updated").order_by("pk")
    assert [e.data["automation"]["depth"] for e in updates] == [1, 1]
    assert "status_id" in updates[0].changes


def test_update_field_refuses_a_value_the_field_cannot_take(reps):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        make_rule(actions=[{"kind": "update_field", "field": "employees", "value": "many"}])
    with pytest.raises(ValidationError):
        make_rule(actions=[{"kind": "update_field", "field": "status", "value": "no-such-status"}])
    with pytest.raises(ValidationError):
        make_rule(actions=[{"kind": "update_field", "field": "lifecycle_stage", "value": "sql"}])


def test_create_task_for_the_owners_manager_due_in_days(reps):
    rep, _, manager = reps
    make_rule(actions=[{"kind": "create_task", "subject": "Review {{ lead }}", "assignee": "owner_manager",
                        "due_days": 2, "priority": "high"}])
    lead = new_lead(rep, first_name="Aino")
    settle()
    task = Activity.objects.get(kind="task")
    assert task.assigned_to == manager and task.subject == "Review Aino Laine" and task.priority == "high"
    assert timedelta(days=1, hours=23) < task.due_at - timezone.now() <= timedelta(days=2)
    assert task.target == lead


def test_a_task_for_nobody_is_skipped_not_failed(reps):
    rep, _, _ = reps
    rep.role = None
    rep.save()
    make_rule(actions=[{"kind": "create_task", "subject": "x", "assignee": "owner_manager", "due_days": 0}])
    new_lead(rep)
    settle()
    action = ActionRun.objects.get()
    assert action.status == "skipped" and "No one" in action.result["skipped"]
    assert RuleRun.objects.get().outcome == "succeeded"


def email_template(**variants):
    from crm.mail.services import template_save

    return template_save(actor=None, name="Answer", record_type="leads.lead", variants=variants or {
        "en": ("Thanks {{ lead.first_name }}", "<p>We will call you.</p>"),
        "fi": ("Kiitos {{ lead.first_name }}", "<p>Soitamme sinulle.</p>")})


def test_send_email_answers_in_the_recipients_language_and_logs_it_on_the_timeline(reps, mailoutbox):
    rep, _, _ = reps
    template = email_template()
    make_rule(actions=[{"kind": "send_email", "template": template.pk, "to": "record"}])
    lead = new_lead(rep, first_name="Aino", email="aino@example.fi", country="FI")
    settle()
    [message] = mailoutbox
    assert message.to == ["aino@example.fi"] and message.subject == "Kiitos Aino"
    email = Activity.objects.get(kind="email", object_id=lead.pk)
    assert email.data["language"] == "fi" and email.data["automation"]["key"] == ActionRun.objects.get().key
    from crm.automation.escalations import human_touch  # an escalation does not take it for a person's touch
    assert not human_touch(Event.objects.get(name="activity.created", data__activity_id=email.pk))
    assert ActionRun.objects.get().result["language"] == "fi"


def test_send_email_to_the_owner_uses_the_owners_language(reps, mailoutbox):
    rep, _, _ = reps
    rep.language = "fi"
    rep.save()
    template = email_template()
    make_rule(actions=[{"kind": "send_email", "template": template.pk, "to": "owner"}])
    new_lead(rep, first_name="Aino")
    settle()
    assert mailoutbox[0].to == [rep.email] and mailoutbox[0].subject == "Kiitos Aino"


def test_an_opted_out_contact_is_never_mailed(reps, mailoutbox):
    from accounts.services import contact_create
    from crm.mail.services import template_save

    rep, _, _ = reps
    template = template_save(actor=None, name="News", record_type="accounts.contact",
                             variants={"en": ("News", "<p>News</p>")})
    make_rule(record_type="accounts.contact", actions=[{"kind": "send_email", "template": template.pk, "to": "record"}])
    contact_create(actor=rep, first_name="Ville", last_name="Opt", email="ville@example.com", email_opt_out=True,
                   owner=rep)
    settle()
    assert mailoutbox == []
    action = ActionRun.objects.get()
    assert action.status == "skipped" and "opted out" in action.result["skipped"]


class HookedBackend:
    """The locmem backend with a hook the test sets, called as the message is handed over."""

    hook = None

    def __new__(cls, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        backend = EmailBackend(*args, **kwargs)
        send = backend.send_messages

        def send_messages(messages):
            if HookedBackend.hook:
                HookedBackend.hook()
            return send(messages)

        backend.send_messages = send_messages
        return backend


@pytest.fixture
def hooked_mail(settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.HookedBackend"
    yield HookedBackend
    HookedBackend.hook = None


def _mail_rule_and_lead(rep):
    template = email_template()
    make_rule(actions=[{"kind": "send_email", "template": template.pk, "to": "record"}])
    new_lead(rep, first_name="Aino", email="aino@example.fi", country="FI")
    deliver_events()
    return ActionRun.objects.get()


def test_an_email_is_claimed_and_committed_before_it_leaves_so_a_second_task_sends_nothing(reps, hooked_mail, mailoutbox):
    rep, _, _ = reps
    action = _mail_rule_and_lead(rep)
    seen = []

    def while_sending():
        seen.append(ActionRun.objects.get(pk=action.pk).status)
        seen.append(engine.execute_action_run(action.pk))  # the same task delivered twice, meanwhile

    hooked_mail.hook = while_sending
    assert engine.execute_action_run(action.pk) == "succeeded"
    assert seen == ["sending", None] and len(mailoutbox) == 1
    action.refresh_from_db()
    assert action.status == "succeeded" and action.result["activity"] == Activity.objects.get(kind="email").pk
    assert mailoutbox[0].extra_headers["Message-ID"].startswith("<automation-")
    assert engine.execute_action_run(action.pk) is None and len(mailoutbox) == 1


def test_a_mail_server_error_leaves_nothing_and_is_retried_with_backoff(reps, hooked_mail, mailoutbox):
    import smtplib

    rep, _, _ = reps
    action = _mail_rule_and_lead(rep)

    def refuse():
        raise smtplib.SMTPServerDisconnected("gone")

    hooked_mail.hook = refuse
    assert engine.execute_action_run(action.pk) == "pending"
    action.refresh_from_db()
    assert action.attempts == 1 and "SMTPServerDisconnected" in action.last_error and "retry_at" in action.result
    assert mailoutbox == [] and not Activity.objects.filter(kind="email").exists()
    hooked_mail.hook = None
    assert engine.execute_action_run(action.pk) == "succeeded"
    assert len(mailoutbox) == 1 and Activity.objects.filter(kind="email").count() == 1


def test_an_email_whose_worker_died_mid_send_is_failed_as_interrupted_never_resent(reps, hooked_mail, mailoutbox,
                                                                                 django_capture_on_commit_callbacks):
    rep, _, _ = reps
    admin = AdminFactory()
    action = _mail_rule_and_lead(rep)

    class WorkerDied(BaseException):
        """What SIGKILL looks like from here: nothing after the claim runs."""

    def die():
        raise WorkerDied

    hooked_mail.hook = die
    with pytest.raises(WorkerDied):
        engine.execute_action_run(action.pk)
    hooked_mail.hook = None
    action.refresh_from_db()
    assert action.status == "sending" and RuleRun.objects.get().outcome == "pending"
    assert engine.requeue_waiting(now=timezone.now() + engine.REQUEUE_AFTER) == 0  # "sending" is never requeued
    assert engine.fail_interrupted() == 0  # not before STUCK_AFTER: the send may still be under way
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.fail_interrupted(now=timezone.now() + engine.STUCK_AFTER + timedelta(seconds=1)) == 1
    action.refresh_from_db()
    assert action.status == "failed" and action.result == {"interrupted": True} and "Interrupted" in action.last_error
    assert RuleRun.objects.get().outcome == "failed"
    assert Notification.objects.filter(recipient=admin).exists()
    assert engine.execute_action_run(action.pk) is None and mailoutbox == []
    engine.action_run_retry(action_run=action, actor=admin)  # the admin checked: it did not arrive
    assert engine.execute_action_run(action.pk) == "succeeded" and len(mailoutbox) == 1


def test_notify_the_owner_the_manager_a_user_and_a_team(reps):
    rep, other, manager = reps
    team = TeamFactory()
    team.members.add(other, manager)
    make_rule(actions=[{"kind": "notify", "to": "owner", "message": "New hot lead {{ lead.last_name }}"},
                       {"kind": "notify", "to": "owner_manager", "message": "Manager"},
                       {"kind": "notify", "to": f"user:{other.pk}", "message": "User"},
                       {"kind": "notify", "to": f"team:{team.pk}", "message": "Team"}])
    lead = new_lead(rep)
    settle()
    got = sorted(Notification.objects.filter(verb="automation.notify").values_list("recipient__email", "message"))
    assert got == sorted([(rep.email, "New hot lead Laine"), (manager.email, "Manager"), (other.email, "User"),
                          (other.email, "Team"), (manager.email, "Team")])
    assert Notification.objects.filter(verb="automation.notify").first().url == lead.get_absolute_url()


def test_assign_owner_round_robin_takes_turns_among_active_members(reps):
    rep, other, manager = reps
    team = TeamFactory()
    away = UserFactory(is_active=False)
    team.members.add(other, manager, away)
    make_rule(actions=[{"kind": "assign_owner", "round_robin_team": team.pk}])
    leads = [new_lead(rep, last_name=f"L{i}") for i in range(3)]
    settle()
    owners = [Lead.objects.get(pk=lead.pk).owner for lead in leads]
    first, second = sorted([other, manager], key=lambda u: u.pk)
    assert owners == [first, second, first]
    assert Notification.objects.filter(verb="automation.assigned", recipient=second).count() == 1


def test_assign_owner_to_a_user(reps):
    rep, other, _ = reps
    make_rule(actions=[{"kind": "assign_owner", "user": other.pk}])
    lead = new_lead(rep)
    settle()
    lead.refresh_from_db()
    assert lead.owner == other


def test_assign_owner_by_territory_takes_the_records_in_its_countries_only(reps):
    rep, other, manager = reps
    nordics = TeamFactory()
    nordics.members.add(other)
    make_rule(actions=[{"kind": "assign_owner", "round_robin_team": nordics.pk, "countries": ["FI", "SE"]}])
    finn, german, nobody = (new_lead(rep, last_name="Fi", country="FI"), new_lead(rep, last_name="De", country="DE"),
                            new_lead(rep, last_name="None"))
    settle()
    assert Lead.objects.get(pk=finn.pk).owner == other
    assert Lead.objects.get(pk=german.pk).owner == rep and Lead.objects.get(pk=nobody.pk).owner == rep
    skipped = ActionRun.objects.filter(status="skipped").order_by("pk")
    assert [a.result["skipped"] for a in skipped] == [
        "The record's country (DE) is outside the territory FI, SE.",
        "The record's country (none) is outside the territory FI, SE."]


def test_the_territory_form_reads_country_names_and_refuses_what_is_not_one(reps):
    team = TeamFactory()
    form = actions.AssignOwnerForm(data={"round_robin_team": str(team.pk), "countries": "fi, Sweden; EE"},
                                   record_type="leads.lead")
    assert form.is_valid(), form.errors
    assert form.to_config() == {"kind": "assign_owner", "round_robin_team": team.pk, "countries": ["FI", "SE", "EE"]}
    assert actions.AssignOwnerForm.data_from_config(form.to_config())["countries"] == "FI, SE, EE"
    bad = actions.AssignOwnerForm(data={"round_robin_team": str(team.pk), "countries": "FI, Atlantis"},
                                  record_type="leads.lead")
    assert not bad.is_valid() and "Atlantis" in bad.errors["countries"][0]
    no_team = actions.AssignOwnerForm(data={"user": str(reps[0].pk), "countries": "FI"}, record_type="leads.lead")
    assert not no_team.is_valid() and "team" in no_team.errors["countries"][0]
    assert "for records in FI, SE, EE" in actions.describe_assign_owner(form.to_config(), "leads.lead")


# --- webhooks ---------------------------------------------------------------------------------------------------------

class Receiver:
    """A real HTTP server on a free local port, recording what it is sent; answers `status`."""

    def __init__(self, status=200):
        self.requests, self.status, self.location = [], status, ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()
                self.wfile.write(b"received " + b"x" * 5000)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the test's receiver is on loopback
    r = Receiver()
    yield r
    r.close()


def test_a_webhook_posts_signed_json_and_logs_the_response(reps, receiver):
    rep, _, _ = reps
    make_rule(criteria=hot(), actions=[{"kind": "webhook", "url": receiver.url, "secret": "s3cret"}])
    lead = new_lead(rep, first_name="Aino", rating="hot")
    settle()
    [(headers, body)] = receiver.requests
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-CRM-Signature"], expected)
    payload = json.loads(body)
    assert payload["record"]["id"] == lead.pk and payload["record"]["fields"]["rating"] == "hot"
    assert payload["record"]["type"] == "leads.lead" and payload["id"] == headers["X-CRM-Idempotency-Key"]
    action = ActionRun.objects.get()
    assert action.status == "succeeded" and action.result["status"] == 200
    assert action.result["body"].startswith("received") and len(action.result["body"]) == 2048


def test_a_failing_webhook_is_retried_with_backoff_then_fails_and_tells_the_admins(reps, receiver):
    rep, _, _ = reps
    admin = AdminFactory()
    receiver.status = 503
    make_rule(actions=[{"kind": "webhook", "url": receiver.url, "secret": "k"}])
    new_lead(rep)
    settle()
    action = ActionRun.objects.get()
    assert action.status == "pending" and action.attempts == 1 and action.result["status"] == 503
    assert "503" in action.last_error
    assert timedelta(seconds=25) < action.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    assert engine.requeue_waiting() == 0  # not yet due
    delays = []
    for attempt in range(2, engine.MAX_ATTEMPTS + 1):
        ActionRun.objects.filter(pk=action.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert engine.requeue_waiting() == 1
        engine.execute_action_run(action.pk)
        action.refresh_from_db()
        if action.next_attempt_at:
            delays.append(round((action.next_attempt_at - timezone.now()).total_seconds() / 30))
    assert delays == [2, 4, 8, 16]  # 1, 2, 4, 8 minutes
    assert action.status == "failed" and action.attempts == engine.MAX_ATTEMPTS
    assert len(receiver.requests) == engine.MAX_ATTEMPTS
    assert RuleRun.objects.get().outcome == "failed"
    # The admins are told once the transaction commits (the failure never blocks anyone's save).
    engine._notify_admins(action.pk)
    assert Notification.objects.filter(recipient=admin, verb="automation.failed").exists()


def test_backoff_has_a_ceiling():
    assert engine.backoff(1) == timedelta(seconds=30)
    assert engine.backoff(30) == timedelta(hours=1)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/admin/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/", "http://10.1.2.3/hook", "http://localhost/hook"])
def test_a_webhook_into_the_crms_own_network_is_refused_without_calling_it(reps, url, settings):
    """Checked again at run time: the name may resolve elsewhere now, or the network's allowance was removed."""
    rep, _, _ = reps
    settings.AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = ["0.0.0.0/0", "::/0"]
    make_rule(actions=[{"kind": "webhook", "url": url, "secret": "k"}])
    settings.AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = []
    new_lead(rep)
    settle()
    action = ActionRun.objects.get()
    assert action.status == "failed" and action.attempts == 1  # permanent: retrying cannot help
    assert "inside the CRM's own network" in action.last_error


def test_the_webhook_form_refuses_an_internal_address_with_a_clear_message():
    form = actions.WebhookForm(data={"url": "http://169.254.169.254/", "secret": "k"}, record_type="leads.lead")
    assert not form.is_valid() and "inside the CRM's own network" in form.errors["url"][0]
    form = actions.WebhookForm(data={"url": "ftp://example.com/", "secret": "k"}, record_type="leads.lead")
    assert not form.is_valid()


def test_a_webhook_redirect_is_not_followed_into_the_network(reps, receiver):
    rep, _, _ = reps
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data/"
    make_rule(actions=[{"kind": "webhook", "url": receiver.url, "secret": "k"}])
    new_lead(rep)
    settle()
    action = ActionRun.objects.get()
    assert len(receiver.requests) == 1 and action.result["status"] == 302 and action.status == "pending"


def test_a_webhook_connects_to_the_address_it_checked_not_a_rebound_one(reps, receiver, monkeypatch):
    """DNS rebinding: the name passes the check, then resolves elsewhere. The connection goes to the checked
    address, with the URL's own host in the Host header."""
    import socket

    rep, _, _ = reps
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    answers = iter(["127.0.0.1"] * 10)
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    make_rule(actions=[{"kind": "webhook", "url": f"http://hooks.example.test:{port}/hook", "secret": "k"}])
    new_lead(rep)
    deliver_events()
    answers = iter(["127.0.0.1"] + ["127.0.0.9"] * 10)  # the run's check, then a rebound answer (nothing there)
    run_actions()
    action = ActionRun.objects.get()
    assert action.status == "succeeded", action.last_error
    [(headers, _body)] = receiver.requests
    assert headers["Host"] == f"hooks.example.test:{port}"


def test_an_https_webhook_is_pinned_and_still_checks_the_certificate_against_the_host_name(tmp_path):
    """The pinned HTTPS connection goes to the checked address and verifies the certificate for the URL's host:
    a self-signed one is refused by default, and accepted when trusted, with the host name in Host."""
    import ssl
    import subprocess
    import urllib.request

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(self.headers["Host"].encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://localhost:{server.server_port}/hook"
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            actions._opener("127.0.0.1").open(urllib.request.Request(url, data=b"{}", method="POST"), timeout=5)
        opener = actions._opener("127.0.0.1")
        for handler in opener.handlers:
            if isinstance(handler, actions._Pinned):
                handler._context = ssl.create_default_context(cafile=str(cert))
        with opener.open(urllib.request.Request(url, data=b"{}", method="POST"), timeout=5) as response:
            assert response.status == 200 and response.read() == f"localhost:{server.server_port}".encode()
    finally:
        server.shutdown()


def test_a_mistyped_allowed_network_is_named_at_start_up_and_allows_nothing(settings):
    settings.AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16", "10.30.0.0/33", "intranet"]
    errors = actions.check_allowed_networks()
    assert [e.id for e in errors] == ["automation.E001", "automation.E001"]
    assert "'10.30.0.0/33'" in errors[0].msg and "'intranet'" in errors[1].msg
    assert [str(n) for n in actions._allowed_networks()] == ["10.20.0.0/16"]
    with pytest.raises(actions.WebhookRefused):
        actions.webhook_addresses("http://127.0.0.1:9/hook")


def test_an_unreachable_webhook_is_an_error_kept_on_the_run(reps, settings):
    settings.AUTOMATION_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    rep, _, _ = reps
    make_rule(actions=[{"kind": "webhook", "url": "http://127.0.0.1:9/nothing", "secret": "k"}])
    new_lead(rep)
    settle()
    action = ActionRun.objects.get()
    assert action.status == "pending" and "could not be reached" in action.last_error


def test_retry_after_failure_runs_the_action_again(reps, receiver, django_capture_on_commit_callbacks):
    rep, _, _ = reps
    receiver.status = 500
    make_rule(actions=[{"kind": "webhook", "url": receiver.url, "secret": "k"}])
    new_lead(rep)
    settle()
    ActionRun.objects.update(status="failed", attempts=engine.MAX_ATTEMPTS, next_attempt_at=None)
    receiver.status = 200
    action = ActionRun.objects.get()
    engine.action_run_retry(action_run=action, actor=rep)
    engine.execute_action_run(action.pk)
    action.refresh_from_db()
    assert action.status == "succeeded" and action.attempts == 1
    assert RuleRun.objects.get().outcome == "succeeded"


# --- locks, registry -------------------------------------------------------------------------------------------------

def test_a_locked_record_is_not_changed_by_a_rule(reps):
    from crm.core import locks

    rep, _, _ = reps

    def pending_approval(record, user):
        return "Waiting for approval." if getattr(record, "last_name", "") == "Locked" else None

    locks.register_lock(pending_approval)
    try:
        make_rule(actions=[{"kind": "update_field", "field": "title", "value": "Changed"}])
        lead = new_lead(rep, last_name="Locked", title="Original")
        settle()
    finally:
        locks._checks.remove(pending_approval)
    lead.refresh_from_db()
    action = ActionRun.objects.get()
    assert lead.title == "Original" and action.status == "failed" and action.last_error == "Waiting for approval."


def test_a_new_action_kind_plugs_in_through_the_registry(reps):
    from django import forms

    rep, _, _ = reps
    seen = []

    class StampForm(actions.ActionForm):
        kind = "stamp"
        label = forms.CharField()

    actions.register_action("stamp", "Stamp", run=lambda ctx, config: seen.append((ctx.record.pk, config["label"]))
                            or {"ok": True}, form=StampForm, describe=lambda config, rt: f"Stamp {config['label']}")
    try:
        make_rule(actions=[{"kind": "stamp", "label": "A"}])
        lead = new_lead(rep)
        settle()
        assert seen == [(lead.pk, "A")]
        assert actions.describe_action({"kind": "stamp", "label": "A"}, "leads.lead") == "Stamp A"
    finally:
        actions._registry.pop("stamp")


def test_an_action_that_raises_is_rolled_back_alone(reps):
    """Its half-done writes are undone; the run's other actions still run."""
    rep, _, _ = reps

    def half_then_fail(ctx, config):
        Lead.objects.filter(pk=ctx.record.pk).update(title="half-done")
        raise RuntimeError("boom")

    actions.register_action("half", "Half", run=half_then_fail, form=type("HalfForm", (actions.ActionForm,), {"kind": "half"}),
                            describe=lambda c, r: "half")
    try:
        make_rule(actions=[{"kind": "half"}, {"kind": "create_task", "subject": "Still", "assignee": "owner",
                                              "due_days": 0}])
        lead = new_lead(rep, title="Original")
        deliver_events()
        run_actions()
    finally:
        actions._registry.pop("half")
    lead.refresh_from_db()
    assert lead.title == "Original"
    assert [a.status for a in ActionRun.objects.order_by("index")] == ["pending", "succeeded"]
    assert "RuntimeError: boom" in ActionRun.objects.get(index=0).last_error
