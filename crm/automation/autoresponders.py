"""Auto-responders: a new record (a lead now; a ticket once support registers one) is answered once, ever, from
an e-mail template in the recipient's language, by the first active responder of its type whose criteria it
meets. Nothing goes to an address that opted out; the outcome is kept either way.

    lead.created ─► handle_events (outbox subscriber, in the delivery's transaction)
                      first matching responder ─► AutoResponse row, UNIQUE (content type, object id)
                      ─► after commit: autoresponse_send_task(row)
    autoresponse_send(row)   A: lock the row (SKIP LOCKED), pending → sending, commit
                             B: send (outside any transaction)
                             C: the e-mail activity on the record's timeline, sending → sent, commit
    beat                     waiting rows whose time has come are queued again; a row stuck in "sending"
                             (its worker died between A and C) is marked failed, never sent again on its own

Why it never sends twice: the unique row means one claim per record however often the event is delivered,
and step A commits "sending" before the message leaves, so a redelivered or duplicated task finds nothing to
do. The price, stated plainly: a worker killed after A and before C leaves the reply either sent without its
timeline entry or not sent at all; we cannot tell which, so it is shown as failed ("interrupted") in the log,
where an admin can send it again by hand. A backend error raised by the send itself (SMTP refused, server
down) left nothing, so that one is retried with backoff.

Records created by an import (their events carry data["import"]) are not answered. Domain apps know nothing of
this: they emit "<model>.created". A record type's person and address default to
the record itself (its `email`, `email_opt_out`, language fields); a type whose addressee is another record
(a ticket's contact) registers `extra={"email_recipient": callable(record) -> person}` with crm.core.records."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import conditions, records
from crm.automation.engine import backoff
from crm.core.config_cache import ConfigCache

logger = logging.getLogger(__name__)

SUBSCRIBER = "automation.autoresponders"
MAX_ATTEMPTS = 6
SAFETY_NET = timedelta(minutes=2)  # a row whose after-commit message was lost is queued by beat after this
REQUEUE_AFTER = timedelta(minutes=5)
STUCK_AFTER = timedelta(minutes=10)  # "sending" this long: its worker died mid-send

responders_config = ConfigCache("automation-autoresponders", size=200)


def subscriber_name(model_name: str) -> str:
    return f"{SUBSCRIBER}:{model_name}"


# --- record types that can be answered ------------------------------------------------------------------------

def has_address(model) -> bool:
    """Whether a model's records carry an e-mail address of their own (a field named "email")."""
    try:
        model._meta.get_field("email")
    except Exception:  # noqa: BLE001 - FieldDoesNotExist
        return False
    return True


def record_types() -> list[tuple[str, str]]:
    """(key, label) of the registered record types an auto-responder can answer."""
    return [(rt.key, str(rt.label_plural)) for rt in records.all_types()
            if rt.extra.get("email_recipient") or has_address(rt.model)]


def recipient(record):
    """The person an answer to `record` goes to: the record itself, or what its type registers."""
    rt = records.find(records.key_of(record))
    hook = rt.extra.get("email_recipient") if rt is not None else None
    return hook(record) if hook else record


def opted_out(person, address: str) -> bool:
    """An address that opted out anywhere is opted out: the person's own flag (a field, or a custom checkbox
    named email_opt_out), or any record of any type with that address and its opt-out set (a lead writing from
    the address of a contact who unsubscribed)."""
    if person is not None and (getattr(person, "email_opt_out", False)
                               or (getattr(person, "custom", None) or {}).get("email_opt_out") is True):
        return True
    if not address:
        return False
    for rt in records.all_types():
        model = rt.model
        try:
            model._meta.get_field("email_opt_out")
            model._meta.get_field("email")
        except Exception:  # noqa: BLE001 - FieldDoesNotExist: no opt-out kept on this type
            continue
        if model._default_manager.filter(email__iexact=address, email_opt_out=True).exists():
            return True
    return False


# --- the responders -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompiledResponder:
    id: int
    name: str
    order: int
    criteria: dict
    since: datetime  # events from before the responder existed (a late backlog) are not its business


def _load(record_type: str) -> list[CompiledResponder]:
    from crm.automation.models_autoresponders import AutoResponder

    return [CompiledResponder(r.pk, r.name, r.order, conditions.normalize(r.criteria), r.created_at)
            for r in AutoResponder.objects.filter(record_type=record_type, is_active=True, template__isnull=False)
            .order_by("order", "pk")]


def active_responders(record_type: str) -> list[CompiledResponder]:
    return responders_config.get(("active", record_type), lambda: _load(record_type))


def first_match(responders, record, fields) -> CompiledResponder | None:
    for responder in responders:
        if conditions.evaluate(responder.criteria, record, fields=fields):
            return responder
    return None


# --- the subscriber ---------------------------------------------------------------------------------------------

def handle_event(event) -> None:
    handle_events([event])


def handle_events(events) -> None:
    """Claim the auto-response of each new record some responder matches, in the delivery's transaction. An
    event delivered again, or a second event of the same record, finds the record's row and adds nothing."""
    from crm.automation.models_autoresponders import AutoResponse

    by_type: dict[int, list] = {}
    for event in events:
        by_type.setdefault(event.content_type_id, []).append(event)
    now, rows = timezone.now(), []
    for content_type_id, group in by_type.items():
        content_type = ContentType.objects.get_for_id(content_type_id)
        key = f"{content_type.app_label}.{content_type.model}"
        if records.find(key) is None:
            continue
        # Records an import created are not answered: a spreadsheet of old contacts is no enquiry.
        created = [e for e in group if e.name == f"{content_type.model}.created" and not (e.data or {}).get("import")]
        responders = active_responders(key) if created else []
        if not responders:
            continue
        found = content_type.model_class()._default_manager.in_bulk({e.object_id for e in created})
        fields = conditions.fields_for(key)
        for event in created:
            record = found.get(event.object_id)
            if record is None:
                continue
            responder = first_match([r for r in responders if event.created_at >= r.since], record, fields)
            if responder is None:
                continue
            rows.append(AutoResponse(responder_id=responder.id, responder_name=responder.name[:150],
                                     content_type_id=content_type_id, object_id=record.pk,
                                     record_repr=str(record)[:255], event_id=event.pk, created_at=now,
                                     next_attempt_at=now + SAFETY_NET))
    if not rows:
        return
    AutoResponse.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(AutoResponse.objects.filter(event_id__in=[r.event_id for r in rows],
                                           outcome=AutoResponse.Outcome.PENDING).values_list("pk", flat=True))
    if ids:
        transaction.on_commit(lambda: _enqueue(ids), robust=True)


handle_event.many = handle_events


def _enqueue(ids: list[int]) -> None:
    from crm.automation.autoresponder_tasks import autoresponse_send_task

    for pk in ids:
        try:
            autoresponse_send_task.delay(pk)
        except Exception:  # noqa: BLE001 - the rows wait; beat queues them after SAFETY_NET
            logger.exception("auto-response %s could not be queued; beat will queue it", pk)
            return


# --- sending ---------------------------------------------------------------------------------------------------

def _sender(responder, record):
    """(the user the e-mail is from or None, the From header or "" for the CRM's own address)."""
    owner = getattr(record, "owner", None)
    user = responder.sender_user if responder.sender_user_id else (owner if owner is not None and owner.is_active
                                                                    else None)
    if responder.from_email:
        return user, formataddr((responder.from_name, responder.from_email)) if responder.from_name \
            else responder.from_email
    return user, ""


def preview(responder, record) -> dict:
    """What `responder` would send `record` now, sending nothing: address, whether it opted out, the language
    and the rendered subject (or why there is none)."""
    from crm.mail.services import MailRefused, mail_render, recipient_language

    person = recipient(record)
    address = (getattr(person, "email", "") or "").strip()
    result = {"to": address, "opted_out": opted_out(person, address), "language": "", "subject": "", "error": ""}
    if responder.template is None:
        result["error"] = _("The template was deleted.")
        return result
    user, _from = _sender(responder, record)
    try:
        rendered = mail_render(template=responder.template, record=record, reader=None,
                               language=recipient_language(person), sender=user)
    except MailRefused as exc:
        result["error"] = str(exc)
        return result
    result.update(language=rendered.language, subject=rendered.subject, html=rendered.html, text=rendered.text)
    return result


def _finish(row, outcome: str, *, error: str = "") -> str:
    row.outcome, row.error, row.finished_at, row.next_attempt_at = outcome, error[:4000], timezone.now(), None
    row.save(update_fields=["outcome", "error", "finished_at", "next_attempt_at", "to_address", "language",
                            "subject", "attempts", "claimed_at"])
    if outcome == row.Outcome.FAILED:
        transaction.on_commit(lambda: _notify_admins(row.pk), robust=True)
    return outcome


def autoresponse_send(response_id: int) -> str | None:
    """Send one claimed auto-response (see the module's docstring for the steps and the one window left).
    Returns the outcome, or None when there was nothing to do (done already, or another worker has it)."""
    from crm.automation.models_autoresponders import AutoResponse
    from crm.mail.services import MailRefused, mail_render, mail_send, recipient_language

    Outcome = AutoResponse.Outcome
    # A: claim.
    with transaction.atomic():
        row = (AutoResponse.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("responder", "responder__template", "responder__sender_user")
               .filter(pk=response_id, outcome=Outcome.PENDING).first())
        if row is None:
            return None
        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        record = model._default_manager.filter(pk=row.object_id).first() if model is not None else None
        responder = row.responder
        if record is None:
            return _finish(row, Outcome.CANCELLED, error=_("The record was deleted."))
        if responder is None or not responder.is_active:
            return _finish(row, Outcome.CANCELLED, error=_("The auto-responder was deleted or deactivated."))
        person = recipient(record)
        row.to_address = (getattr(person, "email", "") or "").strip()[:254]
        if not row.to_address:
            return _finish(row, Outcome.NO_ADDRESS)
        if opted_out(person, row.to_address):
            return _finish(row, Outcome.OPTED_OUT)
        template = responder.template
        if template is None or not template.is_active:
            return _finish(row, Outcome.FAILED, error=_("The e-mail template no longer exists or is inactive."))
        user, from_header = _sender(responder, record)
        try:
            rendered = mail_render(template=template, record=record, reader=None,
                                   language=recipient_language(person), sender=user)
        except MailRefused as exc:
            return _finish(row, Outcome.FAILED, error=str(exc))
        row.language, row.subject = rendered.language, rendered.subject
        row.outcome, row.attempts, row.claimed_at = Outcome.SENDING, row.attempts + 1, timezone.now()
        row.save(update_fields=["outcome", "attempts", "claimed_at", "to_address", "language", "subject"])
    # B: send. Nothing is locked and nothing is open while the mail server talks.
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "crm.local"
    message_id = f"<autoresponse-{row.pk}@{domain}>"  # the same on any resend: receivers can tell it is one
    try:
        mail_send(to=row.to_address, subject=rendered.subject, html=rendered.html, text=rendered.text, actor=user,
                  record=person, log=False, respect_opt_out=False, from_email=from_header,
                  headers={"Message-ID": message_id, "Auto-Submitted": "auto-replied",
                           "X-CRM-Auto-Response": str(row.pk)})
    except Exception as exc:  # noqa: BLE001 - nothing left: kept on the row, retried with backoff, then failed
        permanent = isinstance(exc, MailRefused)
        logger.warning("auto-response %s failed: %s", row.pk, exc)
        with transaction.atomic():
            row = AutoResponse.objects.select_for_update().get(pk=row.pk)
            error = str(exc) if permanent else f"{type(exc).__name__}: {exc}"
            if permanent or row.attempts >= MAX_ATTEMPTS:
                return _finish(row, Outcome.FAILED, error=error)
            row.outcome, row.error = Outcome.PENDING, error[:4000]
            row.next_attempt_at = timezone.now() + backoff(row.attempts)
            row.save(update_fields=["outcome", "error", "next_attempt_at"])
            return Outcome.PENDING
    # C: on the timeline, and done.
    with transaction.atomic():
        row = AutoResponse.objects.select_for_update().get(pk=row.pk)
        row.outcome, row.finished_at, row.next_attempt_at, row.error = Outcome.SENT, timezone.now(), None, ""
        try:
            with transaction.atomic():
                row.activity_id = _log_activity(record, user, rendered, row, template, message_id).pk
        except Exception as exc:  # noqa: BLE001 - the mail left: sent it stays, the missing entry is noted
            logger.exception("auto-response %s sent, but its timeline entry failed", row.pk)
            row.error = _("Sent, but the timeline entry could not be written: %(error)s") % {"error": exc}
        row.save(update_fields=["outcome", "finished_at", "next_attempt_at", "error", "activity_id"])
    return Outcome.SENT


def _log_activity(record, user, rendered, row, template, message_id: str):
    """The e-mail as it left, on the record's timeline (what crm.mail's mail_send writes for a sent e-mail)."""
    from crm.activities.models import Activity
    from crm.activities.services import activity_create

    return activity_create(target=record, actor=user, kind=Activity.Kind.EMAIL, subject=rendered.subject,
                           body=rendered.text, body_html=rendered.html, direction=Activity.Direction.OUTBOUND,
                           data={"sent": True, "to": [row.to_address], "cc": [], "template": template.pk,
                                 "language": rendered.language, "message_id": message_id,
                                 "auto_response": row.pk, "auto_responder": row.responder_id})


def _notify_admins(response_id: int) -> None:
    from django.urls import reverse

    from crm.automation.engine import tell_admins
    from crm.automation.models_autoresponders import AutoResponse

    row = AutoResponse.objects.filter(pk=response_id).first()
    if row is None:
        return
    tell_admins(lambda: _("Auto-responder “%(name)s” failed on %(record)s: %(error)s") % {
        "name": row.responder_name, "record": row.record_repr, "error": row.error[:200]},
        url=reverse("automation:autoresponse_log") + f"?outcome=failed&record={row.object_id}",
        verb="automation.autoresponse_failed")


def tick(*, now=None, limit: int = 500) -> dict:
    """Every minute (beat): queue the waiting rows whose time has come (retries after backoff, lost messages),
    and mark as failed the rows a dead worker left in "sending" (not sent again: see the module docstring)."""
    from crm.automation.models_autoresponders import AutoResponse

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(AutoResponse.objects.select_for_update(skip_locked=True)
                   .filter(outcome=AutoResponse.Outcome.PENDING, next_attempt_at__lte=now)
                   .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
        if ids:
            AutoResponse.objects.filter(pk__in=ids).update(next_attempt_at=now + REQUEUE_AFTER)
            transaction.on_commit(lambda: _enqueue(ids), robust=True)
        stuck = list(AutoResponse.objects.select_for_update(skip_locked=True)
                     .filter(outcome=AutoResponse.Outcome.SENDING, claimed_at__lt=now - STUCK_AFTER)[:limit])
        for row in stuck:
            _finish(row, AutoResponse.Outcome.FAILED, error=_(
                "Interrupted: the worker stopped while sending, so the e-mail may or may not have left. It is not "
                "sent again on its own; use Send again if it did not arrive."))
    return {"queued": len(ids), "interrupted": len(stuck)}


# --- services of the settings pages ---------------------------------------------------------------------------

def _audit(actor, responder, ip, data: dict) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=responder, ip=ip,
          data={"what": "auto_responder", "name": responder.name, "record_type": responder.record_type, **data})


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def changed() -> None:
    responders_config.changed()


@transaction.atomic
def autoresponder_save(*, actor, record_type: str, name: str, template, criteria=None, order: int = 100,
                       is_active: bool = True, sender_user=None, from_name: str = "", from_email: str = "",
                       responder=None, ip: str | None = None):
    """Create or change an auto-responder. ValidationError by field: an unknown type or one without addresses,
    a template of another type, criteria that do not fit the type."""
    from crm.automation.models_autoresponders import AutoResponder

    errors: dict[str, list] = {}
    if record_type not in dict(record_types()):
        errors["record_type"] = [_("Choose a record type whose records have an e-mail address.")]
    if template is None:
        errors["template"] = [_("Choose the e-mail template to send.")]
    elif template.record_type != record_type:
        errors["template"] = [_("The template is for another record type.")]
    tree = {"all": []}
    if not errors.get("record_type"):
        try:
            tree = conditions.validate(criteria or {}, record_type, sql=True)
        except conditions.InvalidCondition as exc:
            errors["criteria"] = [str(exc)]
    if from_name and not from_email:
        errors["from_email"] = [_("Give the address that goes with the name.")]
    if errors:
        raise ValidationError(errors)
    created = responder is None
    responder = responder or AutoResponder(record_type=record_type, created_by=_user(actor))
    responder.name, responder.order, responder.is_active = name, order, is_active
    responder.criteria, responder.template = tree, template
    responder.sender_user, responder.from_name, responder.from_email = sender_user, from_name, from_email
    responder.updated_at = timezone.now()
    responder.save()
    _audit(actor, responder, ip, {"created": created, "active": is_active, "template": template.pk})
    changed()
    return responder


@transaction.atomic
def autoresponder_set_active(*, actor, responder, active: bool, ip: str | None = None):
    responder.is_active, responder.updated_at = active, timezone.now()
    responder.save(update_fields=["is_active", "updated_at"])
    _audit(actor, responder, ip, {"active": active})
    changed()
    return responder


@transaction.atomic
def autoresponder_delete(*, actor, responder, ip: str | None = None) -> None:
    """Its sent log stays (the rows keep its name), so a record it answered is still never answered again."""
    _audit(actor, responder, ip, {"deleted": True})
    responder.delete()
    changed()


@transaction.atomic
def autoresponder_move(*, actor, responder, up: bool, ip: str | None = None) -> None:
    """Swap a responder with its neighbour in its type's order; the type's orders become 10, 20, 30 …"""
    from crm.automation.models_autoresponders import AutoResponder

    siblings = list(AutoResponder.objects.select_for_update().filter(record_type=responder.record_type)
                    .order_by("order", "pk"))
    index = next(i for i, r in enumerate(siblings) if r.pk == responder.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        if sibling.order != position * 10:
            AutoResponder.objects.filter(pk=sibling.pk).update(order=position * 10)
    _audit(actor, responder, ip, {"moved": "up" if up else "down"})
    changed()


@transaction.atomic
def autoresponse_retry(*, actor, response, ip: str | None = None) -> bool:
    """An admin's Send again on a failed auto-response (an interrupted one may have left: the admin decides)."""
    from crm.automation.models_autoresponders import AutoResponse

    row = AutoResponse.objects.select_for_update().get(pk=response.pk)
    if row.outcome != AutoResponse.Outcome.FAILED:
        return False
    row.outcome, row.attempts, row.error, row.finished_at = AutoResponse.Outcome.PENDING, 0, "", None
    row.next_attempt_at = timezone.now() + SAFETY_NET
    row.save(update_fields=["outcome", "attempts", "error", "finished_at", "next_attempt_at"])
    if row.responder_id:
        _audit(actor, row.responder, ip, {"retried": row.pk})
    transaction.on_commit(lambda: _enqueue([row.pk]), robust=True)
    return True


# --- reads -----------------------------------------------------------------------------------------------------

def responder_rows() -> list:
    """Every responder for the list, with its sends in the last 30 days (one query)."""
    from crm.automation.models_autoresponders import AutoResponder, AutoResponse

    since = timezone.now() - timedelta(days=30)
    return list(AutoResponder.objects.select_related("template", "sender_user")
                .annotate(sent_30d=Count("responses", filter=Q(responses__outcome=AutoResponse.Outcome.SENT,
                                                               responses__created_at__gte=since)))
                .order_by("record_type", "order", "pk"))


def dry_run_on_record(record_type: str, record) -> dict:
    """For "test on a record": each active responder of the type in order with its criteria's outcome, the one
    that would answer, what it would send (rendered in the recipient's language), and whether the record was
    answered already. Sends nothing, writes nothing."""
    from crm.automation.engine import explain
    from crm.automation.models_autoresponders import AutoResponder, AutoResponse

    fields = conditions.fields_for(record_type)
    responders = list(AutoResponder.objects.filter(record_type=record_type, is_active=True)
                      .select_related("template", "sender_user").order_by("order", "pk"))
    steps, winner = [], None
    for responder in responders:
        matched = responder.template_id is not None and conditions.evaluate(responder.criteria, record, fields=fields)
        steps.append({"responder": responder, "matched": matched, "winner": matched and winner is None,
                      "criteria": explain(responder.criteria, record, fields=fields),
                      "description": conditions.describe(responder.criteria, record_type)})
        if matched and winner is None:
            winner = responder
    existing = AutoResponse.objects.filter(content_type=ContentType.objects.get_for_model(record),
                                           object_id=record.pk).first()
    return {"steps": steps, "winner": winner, "preview": preview(winner, record) if winner else None,
            "existing": existing}


def register() -> None:
    """Called from the automation app's ready(): one outbox subscriber per record model that has an address,
    the beat entry, the settings section and the demo."""
    from crm.core.demo import register_demo
    from crm.core.events import subscribe
    from crm.core.models import Record
    from crm.core.schedule import periodic
    from crm.core.settings_sections import register_section
    from django.utils.translation import gettext_lazy

    from crm.automation import autoresponder_tasks  # noqa: F401 - the tasks register

    for model in apps.get_models():
        if issubclass(model, Record) and has_address(model):
            name = model._meta.model_name
            subscribe(f"{name}.created", handle_event, name=subscriber_name(name))
    periodic("autoresponders-tick", "crm.automation.autoresponder_tasks.autoresponders_tick_task", every=60)
    register_section("autoresponders", gettext_lazy("Auto-responders"), "reply", "automation:autoresponder_list",
                     right="manage_customization", order=302)
    register_demo("automation_autoresponders", "crm.automation.autoresponder_demo.seed",
                  after=("automation_rules", "leads", "mail", "activities"))
