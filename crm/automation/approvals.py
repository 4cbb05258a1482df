"""Approval processes: submit a record, answer its steps, recall it; the lock while it waits; reminders and
escalation of answers that take too long; the signed single-use links of the approvers' e-mail.

Any registered record type (crm.core.records) can be approved, and documents registered with
crm.core.approvables (a quote). A record enters the first active process of its type whose entry criteria
hold (crm.core.conditions, the one vocabulary). The steps run in order, a step whose criteria do not hold is
skipped; a step's approvers are the submitter's manager (the users of the role above theirs), a named user or
the members of a team, each of whom gets an ApprovalTask (or their delegate does, while they are away). With
"first response" the first answer decides the step; with "unanimous" every approver must approve and one
rejection rejects. The last step's approval approves the request; any rejection rejects it. The process's
field updates run on submit, approval, rejection and recall; the app's own callback (a quote moves to
approved or back to draft) runs at the end. Every step is written on the record's timeline.

Locks: while a request is pending, `crm.core.locks` refuses changes to the record to everyone but admins and
the current approvers (forms, inline edit, the board, imports and bulk actions all ask it).

Domain apps never call this module: they emit `<type>.approval_requested` / `<type>.withdrawn` (a quote), or the
record's page offers the approval panel this app registers, or a workflow rule's "submit for approval" action
calls `approval_submit`."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.models_approvals import (ApprovalDelegation, ApprovalProcess, ApprovalRequest, ApprovalStep,
                                             ApprovalTask)
from crm.core import approvables, conditions, records
from crm.core.config_cache import ConfigCache
from crm.core.events import emit

LINK_SALT = "crm.automation.approval-link"
# Which record types have an approval process at all (active or not: a request outlives its process's
# deactivation), so record pages, edits and imports of the other types pay no query for approvals.
process_types_config = ConfigCache("approval-process-types", size=4)
LINK_MAX_AGE = 14 * 24 * 3600


# --- what can be approved -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    label: str
    approvable: approvables.Approvable | None  # None: a registered record type

    def visible(self, user, action: str = "view"):
        if self.approvable is not None:
            return self.approvable.visible(user, action)
        return self.model.objects.visible_to(user, action)

    def fields(self) -> dict:
        return conditions.fields_for(self.key)

    def url(self, record) -> str:
        if self.approvable is None:
            return records.get(self.key).detail_url(record.pk)
        return self.approvable.url(record)

    def timeline_target(self, record):
        """Where the request's steps are written: the record, or for a document without a timeline of its own
        (a quote) the record it belongs to."""
        if self.approvable is not None and self.approvable.timeline is not None:
            return self.approvable.timeline(record)
        return record


def kinds() -> list[Kind]:
    found = [Kind(rt.key, rt.model, str(rt.label), None) for rt in records.all_types()]
    found += [Kind(a.key, a.model, str(a.label), a) for a in approvables.all_approvables()]
    return sorted(found, key=lambda k: k.label.lower())


def kind(key: str) -> Kind | None:
    approvable = approvables.get(key)
    if approvable is not None:
        return Kind(key, approvable.model, str(approvable.label), approvable)
    rt = records.find(key)
    return Kind(key, rt.model, str(rt.label), None) if rt else None


def kind_of(record) -> Kind | None:
    for candidate in approvables.all_approvables():
        if isinstance(record, candidate.model):
            return kind(candidate.key)
    rt = next((rt for rt in records.all_types() if isinstance(record, rt.model)), None)
    return kind(rt.key) if rt else None


def process_types() -> frozenset[str]:
    return process_types_config.get("types", lambda: frozenset(
        ApprovalProcess.objects.values_list("record_type", flat=True).distinct()))


def processes_changed(**_kwargs) -> None:
    """ApprovalProcess saved or deleted (a signal receiver, so admin pages, the demo and tests alike)."""
    process_types_config.changed()


# --- the process that applies -------------------------------------------------------------------------------

def matching_process(record, record_kind: Kind) -> ApprovalProcess | None:
    fields = record_kind.fields()
    for process in ApprovalProcess.objects.filter(record_type=record_kind.key, is_active=True).order_by("order", "id"):
        if conditions.evaluate(process.entry_criteria or {"all": []}, record, fields=fields):
            return process
    return None


def pending_request(record) -> ApprovalRequest | None:
    ct = ContentType.objects.get_for_model(record)
    return (ApprovalRequest.objects.filter(content_type=ct, object_id=record.pk, status=ApprovalRequest.Status.PENDING)
            .select_related("step", "process", "submitted_by").first())


def requests_of(record) -> list[ApprovalRequest]:
    ct = ContentType.objects.get_for_model(record)
    return list(ApprovalRequest.objects.filter(content_type=ct, object_id=record.pk)
                .select_related("process", "step", "submitted_by")
                .prefetch_related("tasks__approver", "tasks__step", "tasks__decided_by", "tasks__delegated_from")
                .order_by("-submitted_at", "-id"))


# --- approvers ----------------------------------------------------------------------------------------------

def managers_of(user) -> list:
    """The submitter's manager by the role hierarchy: the active users of the role above theirs (or, when that
    role has no one, the next one up)."""
    from crm.access.models import User

    role = getattr(user, "role", None) if user is not None else None
    parent = role.parent if role is not None else None
    while parent is not None:
        found = list(User.objects.filter(role=parent, is_active=True).order_by("id"))
        if found:
            return found
        parent = parent.parent
    return []


def _delegate(user, today):
    away = (ApprovalDelegation.objects.filter(user=user, starts__lte=today, ends__gte=today)
            .select_related("delegate").first())
    return away.delegate if away and away.delegate.is_active else None


def step_approvers(step: ApprovalStep, submitter) -> list:
    if step.approver_kind == ApprovalStep.Approver.USER:
        return [step.approver_user] if step.approver_user and step.approver_user.is_active else []
    if step.approver_kind == ApprovalStep.Approver.TEAM:
        return list(step.approver_team.members.filter(is_active=True).order_by("id")) if step.approver_team else []
    return managers_of(submitter)


def _admins():
    from crm.access.models import User

    return [u for u in User.objects.filter(is_active=True).select_related("profile", "role") if u.is_crm_admin]


# --- writes -------------------------------------------------------------------------------------------------

def _apply_updates(updates: list, record, record_kind: Kind) -> None:
    """A process's field updates ([{"field", "value"}]) on the record, through the model's own save (the
    record's history keeps them)."""
    changed = []
    for update in updates or []:
        name = update.get("field")
        if not name or name not in record_kind.fields():
            continue
        field = record._meta.get_field(name)
        setattr(record, field.attname, field.to_python(update.get("value")))
        changed.append(field.attname)
    if changed:
        record.save(update_fields=changed + (["updated_at"] if hasattr(record, "updated_at") else []))


def _log(request: ApprovalRequest, record, record_kind: Kind, *, actor, verb: str, subject: str) -> None:
    from crm.activities.services import activity_log

    activity_log(target=record_kind.timeline_target(record), verb=verb, actor=actor, subject=subject,
                 data={"approval_request": request.pk, "record": request.label})


def _notify(user, message: str, url: str, *, actor=None, verb="approval") -> None:
    from crm.notifications.services import notification_send

    notification_send(recipient=user, message=message, url=url, verb=verb, actor=actor)


def _mail_approver(task: ApprovalTask, record_url: str) -> None:
    """The approver's e-mail, with single-use approve and reject links (each opens a page that asks to
    confirm, so a mail scanner following links decides nothing)."""
    from django.conf import settings
    from django.utils import translation

    from crm.mail.services import mail_send

    approver = task.approver
    if not approver.email:
        return
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    with translation.override(approver.language or settings.LANGUAGE_CODE):
        subject = _("Approval needed: %(record)s") % {"record": task.request.label}
        text = _("%(submitter)s asks for your approval of %(record)s (%(step)s).\n\nApprove: %(approve)s\n"
                 "Reject: %(reject)s\nOpen it: %(open)s") % {
            "submitter": task.request.submitted_by or _("Someone"), "record": task.request.label,
            "step": task.step.name, "approve": base + link_url(task, "approve"), "reject": base + link_url(task, "reject"),
            "open": base + record_url}
    try:
        mail_send(to=[approver.email], subject=subject, text=text, actor=None)
    except Exception:  # noqa: BLE001 - the in-app notification and the inbox still carry the request
        import logging

        logging.getLogger(__name__).exception("approval e-mail to %s failed", approver.email)


def _open_step(request: ApprovalRequest, step: ApprovalStep, record, record_kind: Kind, *, actor) -> None:
    today = timezone.localdate()
    approvers = step_approvers(step, request.submitted_by) or _admins()
    url = reverse("approvals:inbox")
    seen = set()
    for approver in approvers:
        delegate = _delegate(approver, today)
        target = delegate or approver
        if target.pk in seen:
            continue
        seen.add(target.pk)
        task = ApprovalTask.objects.create(request=request, step=step, approver=target,
                                           delegated_from=approver if delegate else None,
                                           link_nonce=secrets.token_hex(16))
        _notify(target, gettext_lazy("%(submitter)s asks for your approval: %(record)s") % {
            "submitter": request.submitted_by or "", "record": request.label}, url, actor=actor)
        transaction.on_commit(lambda task=task: _mail_approver(task, record_kind.url(record)), robust=True)
    request.step = step
    request.save(update_fields=["step"])
    _log(request, record, record_kind, actor=actor, verb="approval.step",
         subject=_("Approval step “%(step)s”: waiting for %(approvers)s") % {
             "step": step.name, "approvers": ", ".join(str(a) for a in approvers)})


def _advance(request: ApprovalRequest, record, record_kind: Kind, *, actor, after: ApprovalStep | None) -> None:
    """Open the next step whose criteria hold, or approve the request when none is left."""
    fields = record_kind.fields()
    steps = request.process.steps.order_by("order", "id")
    if after is not None:
        steps = steps.filter(Q(order__gt=after.order) | Q(order=after.order, id__gt=after.id))
    for step in steps:
        if conditions.evaluate(step.criteria or {"all": []}, record, fields=fields):
            _open_step(request, step, record, record_kind, actor=actor)
            return
        _log(request, record, record_kind, actor=actor, verb="approval.skipped",
             subject=_("Approval step “%(step)s” skipped: its criteria do not hold") % {"step": step.name})
    _finish(request, record, record_kind, actor=actor, approved=True, comment="")


def _finish(request: ApprovalRequest, record, record_kind: Kind, *, actor, approved: bool, comment: str) -> None:
    request.status = ApprovalRequest.Status.APPROVED if approved else ApprovalRequest.Status.REJECTED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    request.tasks.filter(status=ApprovalTask.Status.PENDING).update(status=ApprovalTask.Status.CLOSED, link_nonce="")
    _apply_updates(request.process.on_approve if approved else request.process.on_reject, record, record_kind)
    callback = record_kind.approvable.decided if record_kind.approvable else None
    if callback is not None:
        callback(actor=actor, record=record, approved=approved, comment=comment)
    emit("approval.approved" if approved else "approval.rejected", request, actor=actor,
         data={"record_type": request.record_type, "record": request.object_id, "comment": comment})
    subject = (_("Approved: %(record)s") if approved else _("Rejected: %(record)s")) % {"record": request.label}
    _log(request, record, record_kind, actor=actor, verb="approval.decided", subject=subject)
    if request.submitted_by_id:
        _notify(request.submitted_by, subject, record_kind.url(record), actor=actor)


def _record_for_update(request: ApprovalRequest):
    record_kind = kind(request.record_type)
    record = record_kind.model._base_manager.select_for_update(of=("self",)).get(pk=request.object_id)
    return record, record_kind


@transaction.atomic
def approval_submit(*, actor, record, comment: str = "", process: ApprovalProcess | None = None) -> ApprovalRequest:
    """Send `record` for approval: the first matching process (or `process`), its first applicable step opened.
    Refused (ValidationError) when one is already pending or no process applies."""
    record_kind = kind_of(record)
    if record_kind is None:
        raise ValidationError(_("This kind of record cannot be sent for approval."), code="not_approvable")
    record = record_kind.model._base_manager.select_for_update(of=("self",)).get(pk=record.pk)
    if pending_request(record) is not None:
        raise ValidationError(_("This record is already waiting for approval."), code="pending")
    process = process or matching_process(record, record_kind)
    if process is None:
        raise ValidationError(_("No approval process applies to this record."), code="no_process")
    request = ApprovalRequest.objects.create(
        process=process, record_type=record_kind.key, content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk, label=str(record)[:255], comment=comment,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply_updates(process.on_submit, record, record_kind)
    emit("approval.submitted", request, actor=actor, data={"record_type": record_kind.key, "record": record.pk})
    _log(request, record, record_kind, actor=actor, verb="approval.submitted",
         subject=_("Sent for approval (%(process)s)") % {"process": process.name})
    _advance(request, record, record_kind, actor=actor, after=None)
    return request


@transaction.atomic
def approval_decide(*, actor, task: ApprovalTask, approved: bool, comment: str = "") -> ApprovalRequest:
    """`actor`'s answer to their task (an admin may answer anyone's)."""
    task = ApprovalTask.objects.select_for_update(of=("self",)).select_related("request", "step").get(pk=task.pk)
    request = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("process", "submitted_by").get(pk=task.request_id)
    if task.approver_id != actor.pk and not actor.is_crm_admin:
        raise ValidationError(_("This approval is not yours to answer."), code="not_approver")
    if task.status != ApprovalTask.Status.PENDING or request.status != ApprovalRequest.Status.PENDING:
        raise ValidationError(_("This approval has already been answered."), code="answered")
    if not approved and not comment.strip():
        raise ValidationError(_("Say why you reject it: the submitter reads your comment."), code="comment")
    record, record_kind = _record_for_update(request)
    task.status = ApprovalTask.Status.APPROVED if approved else ApprovalTask.Status.REJECTED
    task.comment, task.decided_at, task.decided_by, task.link_nonce = comment, timezone.now(), actor, ""
    task.save(update_fields=["status", "comment", "decided_at", "decided_by", "link_nonce"])
    subject = (_("%(user)s approved step “%(step)s”") if approved else _("%(user)s rejected step “%(step)s”")) % {
        "user": actor, "step": task.step.name}
    _log(request, record, record_kind, actor=actor, verb="approval.answer",
         subject=subject + (f": {comment}" if comment else ""))
    if not approved:
        _finish(request, record, record_kind, actor=actor, approved=False, comment=comment)
        return request
    step_tasks = request.tasks.filter(step=task.step)
    if task.step.mode == ApprovalStep.Mode.UNANIMOUS and step_tasks.filter(status=ApprovalTask.Status.PENDING).exists():
        return request
    step_tasks.filter(status=ApprovalTask.Status.PENDING).update(status=ApprovalTask.Status.CLOSED, link_nonce="")
    _advance(request, record, record_kind, actor=actor, after=task.step)
    return request


@transaction.atomic
def approval_recall(*, actor, request: ApprovalRequest, from_app: bool = False) -> ApprovalRequest:
    """The submitter (or an admin) takes the request back; `from_app` when the app itself withdrew it (a quote's
    Withdraw), so its callback is not called again."""
    request = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("process").get(pk=request.pk)
    if request.status != ApprovalRequest.Status.PENDING:
        if from_app:
            return request
        raise ValidationError(_("Only a pending request can be recalled."), code="not_pending")
    if not from_app and request.submitted_by_id != actor.pk and not actor.is_crm_admin:
        raise ValidationError(_("Only the submitter can recall this request."), code="not_submitter")
    record, record_kind = _record_for_update(request)
    request.status, request.decided_at = ApprovalRequest.Status.RECALLED, timezone.now()
    request.save(update_fields=["status", "decided_at"])
    request.tasks.filter(status=ApprovalTask.Status.PENDING).update(status=ApprovalTask.Status.CLOSED, link_nonce="")
    _apply_updates(request.process.on_recall, record, record_kind)
    callback = record_kind.approvable.recalled if record_kind.approvable else None
    if callback is not None and not from_app:
        callback(actor=actor, record=record)
    emit("approval.recalled", request, actor=actor, data={"record_type": request.record_type, "record": request.object_id})
    _log(request, record, record_kind, actor=actor, verb="approval.recalled",
         subject=_("Approval request recalled"))
    return request


def delegation_save(*, user, delegate, starts, ends) -> ApprovalDelegation:
    if delegate.pk == user.pk:
        raise ValidationError(_("Choose someone else to approve for you."), code="self")
    if ends < starts:
        raise ValidationError(_("The last day comes before the first."), code="dates")
    return ApprovalDelegation.objects.create(user=user, delegate=delegate, starts=starts, ends=ends)


# --- the lock -----------------------------------------------------------------------------------------------

def lock_check(record, user) -> str | None:
    """crm.core.locks: a record with a pending request is locked except for admins and its current approvers."""
    if not getattr(record, "pk", None):
        return None
    record_kind = kind_of(record)
    if record_kind is None or record_kind.key not in process_types():
        return None
    request = pending_request(record)
    if request is None:
        return None
    if user is not None and getattr(user, "is_authenticated", False):
        if user.is_crm_admin or request.tasks.filter(approver=user, status=ApprovalTask.Status.PENDING).exists():
            return None
    return _("Locked: waiting for approval (%(process)s) since %(date)s.") % {
        "process": request.process.name, "date": timezone.localtime(request.submitted_at).strftime("%Y-%m-%d %H:%M")}


def locked_filter(model):
    """crm.core.locks' set-wise form: the records of `model` with a pending request."""
    if not any(k.model is model and k.key in process_types() for k in kinds()):
        return None
    ct = ContentType.objects.get_for_model(model)
    return Q(pk__in=ApprovalRequest.objects.filter(content_type=ct, status=ApprovalRequest.Status.PENDING)
             .values("object_id"))


# --- events from the apps -----------------------------------------------------------------------------------

def on_app_event(event) -> None:
    """`<type>.approval_requested` submits the record (when a process applies; otherwise it waits, as the app
    shows); `<type>.withdrawn` recalls its pending request."""
    record_kind = next((kind(a.key) for a in approvables.all_approvables()
                        if event.name in (a.submitted_event, a.recalled_event)
                        and ContentType.objects.get_for_model(a.model).pk == event.content_type_id), None)
    if record_kind is None:
        return
    record = record_kind.model._base_manager.filter(pk=event.object_id).first()
    if record is None:
        return
    if event.name == record_kind.approvable.submitted_event:
        if pending_request(record) is None and matching_process(record, record_kind) is not None:
            approval_submit(actor=event.actor, record=record)
    else:
        request = pending_request(record)
        if request is not None:
            approval_recall(actor=event.actor, request=request, from_app=True)


# --- reminders and escalation (beat) ------------------------------------------------------------------------

def approvals_remind_and_escalate(*, now=None, batch: int = 500) -> tuple[int, int]:
    """Pending tasks past their step's reminder time get one reminder; past its escalation time, the step's
    escalation user (or the approver's manager) gets a task of their own beside it. Rows are taken with
    SKIP LOCKED, so two beat runs at once never remind twice."""
    now = now or timezone.now()
    reminded = escalated = 0
    with transaction.atomic():
        due = (ApprovalTask.objects.select_for_update(skip_locked=True, of=("self",))
               .filter(status=ApprovalTask.Status.PENDING, request__status=ApprovalRequest.Status.PENDING)
               .filter(Q(reminded_at__isnull=True, step__remind_after_hours__isnull=False)
                       | Q(escalated_at__isnull=True, step__escalate_after_hours__isnull=False))
               .select_related("step", "request", "approver")[:batch])
        for task in due:
            age = now - task.created_at
            step = task.step
            if task.reminded_at is None and step.remind_after_hours is not None and age >= timedelta(hours=step.remind_after_hours):
                _notify(task.approver, gettext_lazy("Reminder: %(record)s is waiting for your approval") % {
                    "record": task.request.label}, reverse("approvals:inbox"))
                task.reminded_at = now
                task.save(update_fields=["reminded_at"])
                reminded += 1
            if task.escalated_at is None and step.escalate_after_hours is not None and age >= timedelta(hours=step.escalate_after_hours):
                targets = [step.escalate_to] if step.escalate_to else managers_of(task.approver)
                for target in targets:
                    if target and not task.request.tasks.filter(approver=target, step=step).exists():
                        ApprovalTask.objects.create(request=task.request, step=step, approver=target,
                                                    link_nonce=secrets.token_hex(16))
                        _notify(target, gettext_lazy("Escalated to you: %(record)s has waited for approval since %(date)s") % {
                            "record": task.request.label,
                            "date": timezone.localtime(task.created_at).strftime("%Y-%m-%d %H:%M")},
                            reverse("approvals:inbox"))
                task.escalated_at = now
                task.save(update_fields=["escalated_at"])
                escalated += 1
    return reminded, escalated


# --- e-mail links -------------------------------------------------------------------------------------------

def link_url(task: ApprovalTask, decision: str) -> str:
    token = signing.dumps({"t": task.pk, "n": task.link_nonce, "d": decision}, salt=LINK_SALT)
    return reverse("approvals:email_link", args=[token])


def task_from_link(token: str) -> tuple[ApprovalTask, str]:
    """The task and decision a link carries; ValidationError when it is forged, too old, or already used."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(_("This link has expired. Answer from the Approvals page."), code="expired") from None
    except signing.BadSignature:
        raise ValidationError(_("This link is not valid."), code="invalid") from None
    task = ApprovalTask.objects.select_related("request", "step", "approver").filter(pk=data.get("t")).first()
    if task is None or not task.link_nonce or task.link_nonce != data.get("n") or data.get("d") not in ("approve", "reject"):
        raise ValidationError(_("This link has already been used, or the approval is no longer waiting."), code="used")
    return task, data["d"]


# --- reads --------------------------------------------------------------------------------------------------

def inbox(user) -> list[ApprovalTask]:
    return list(ApprovalTask.objects.filter(approver=user, status=ApprovalTask.Status.PENDING,
                                            request__status=ApprovalRequest.Status.PENDING)
                .select_related("request__submitted_by", "request__process", "step", "delegated_from")
                .order_by("created_at", "id"))


def submitted_by(user, *, limit: int = 50) -> list[ApprovalRequest]:
    return list(ApprovalRequest.objects.filter(submitted_by=user).select_related("process", "step")
                .order_by("-submitted_at", "-id")[:limit])


def answered_by(user, *, limit: int = 50) -> list[ApprovalTask]:
    return list(ApprovalTask.objects.filter(decided_by=user).select_related("request", "step")
                .order_by("-decided_at", "-id")[:limit])


def record_url(request: ApprovalRequest) -> str:
    record_kind = kind(request.record_type)
    record = record_kind.model._base_manager.filter(pk=request.object_id).first() if record_kind else None
    return record_kind.url(record) if record is not None else ""
