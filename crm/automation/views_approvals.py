"""Approvals pages: the inbox (answer, recall, delegate), a request's history, submitting from a record's
panel, the e-mailed single-use links, and Settings → Approval processes."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access.settings_views import render_settings, right_required
from crm.automation import approvals
from crm.automation.forms_approvals import DelegationForm, ProcessForm, StepForm
from crm.automation.models_approvals import ApprovalDelegation, ApprovalProcess, ApprovalRequest, ApprovalStep, ApprovalTask


def _error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


# --- the inbox ----------------------------------------------------------------------------------------------

@login_required
def inbox(request):
    user = request.user
    return render(request, "automation/approvals/inbox.html", {
        "tasks": approvals.inbox(user), "submitted": approvals.submitted_by(user),
        "answered": approvals.answered_by(user, limit=20),
        "delegations": ApprovalDelegation.objects.filter(user=user).select_related("delegate"),
        "delegation_form": DelegationForm(user=user),
    })


@login_required
@require_POST
def decide(request, pk):
    task = get_object_or_404(ApprovalTask, pk=pk, approver=request.user)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        raise Http404
    try:
        approvals.approval_decide(actor=request.user, task=task, approved=decision == "approve",
                                  comment=request.POST.get("comment", "").strip())
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, (_("Approved: %(record)s") if decision == "approve" else
                                   _("Rejected: %(record)s")) % {"record": task.request.label})
    return redirect("approvals:inbox")


def _request_for(request, pk) -> ApprovalRequest:
    """The submitter, its approvers, admins and whoever may see the record may read a request; others 404."""
    found = get_object_or_404(ApprovalRequest.objects.select_related("process", "step", "submitted_by"), pk=pk)
    user = request.user
    if user.is_crm_admin or found.submitted_by_id == user.pk or found.tasks.filter(approver=user).exists():
        return found
    record_kind = approvals.kind(found.record_type)
    if record_kind is not None and record_kind.visible(user).filter(pk=found.object_id).exists():
        return found
    raise Http404


@login_required
def request_detail(request, pk):
    found = _request_for(request, pk)
    return render(request, "automation/approvals/request.html", {
        "req": found, "tasks": found.tasks.select_related("step", "approver", "decided_by", "delegated_from"),
        "record_url": approvals.record_url(found),
        "can_recall": found.status == ApprovalRequest.Status.PENDING and (
            found.submitted_by_id == request.user.pk or request.user.is_crm_admin),
    })


@login_required
@require_POST
def recall(request, pk):
    found = _request_for(request, pk)
    try:
        approvals.approval_recall(actor=request.user, request=found)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _("Recalled: %(record)s") % {"record": found.label})
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/") else "approvals:inbox")


@login_required
@require_POST
def submit(request, record_type: str, pk: int):
    record_kind = approvals.kind(record_type)
    if record_kind is None or (record_kind.approvable is None and not request.user.can(record_type, "edit")):
        raise Http404
    record = get_object_or_404(record_kind.visible(request.user, "edit"), pk=pk)
    try:
        approvals.approval_submit(actor=request.user, record=record, comment=request.POST.get("comment", "").strip())
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _("Sent for approval. The record is locked until it is answered."))
    return redirect(record_kind.url(record))


@login_required
@require_POST
def delegation_add(request):
    form = DelegationForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            approvals.delegation_save(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _error(request, error)
        else:
            messages.success(request, _("While you are away, %(user)s answers your new approvals.") % {
                "user": form.cleaned_data["delegate"]})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("approvals:inbox")


@login_required
@require_POST
def delegation_remove(request, pk):
    get_object_or_404(ApprovalDelegation, pk=pk, user=request.user).delete()
    messages.success(request, _("Delegation removed."))
    return redirect("approvals:inbox")


# --- e-mailed links -----------------------------------------------------------------------------------------

class LinkForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


def email_link(request, token: str):
    """GET asks to confirm (a mail scanner following the link decides nothing); POST answers, once."""
    try:
        task, decision = approvals.task_from_link(token)
    except ValidationError as error:
        return render(request, "automation/approvals/link.html", {"error": " ".join(error.messages)}, status=400)
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            approvals.approval_decide(actor=task.approver, task=task, approved=decision == "approve",
                                      comment=form.cleaned_data["comment"].strip())
        except ValidationError as error:
            form.add_error("comment", error)
        else:
            return render(request, "automation/approvals/link.html", {"done": True, "task": task, "decision": decision})
    return render(request, "automation/approvals/link.html", {"task": task, "decision": decision, "form": form})


# --- panel on record pages ----------------------------------------------------------------------------------

def panel_context(request, record) -> dict | None:
    """The approval panel of a record's page: the pending request and its step, Submit when a process
    applies, Recall for the submitter, the history. Hidden when no process exists for the type."""
    record_kind = approvals.kind_of(record)
    if record_kind is None or record_kind.approvable is not None or record_kind.key not in approvals.process_types():
        return None  # no process was ever made for this type: no query
    history = approvals.requests_of(record)
    has_process = ApprovalProcess.objects.filter(record_type=record_kind.key, is_active=True).exists()
    if not history and not has_process:
        return None
    pending = next((r for r in history if r.status == ApprovalRequest.Status.PENDING), None)
    user = request.user
    can_submit = (pending is None and has_process and user.can(record_kind.key, "edit")
                  and record_kind.visible(user, "edit").filter(pk=record.pk).exists()
                  and approvals.matching_process(record, record_kind) is not None)
    return {"approval_history": history, "approval_pending": pending, "approval_can_submit": can_submit,
            "approval_type": record_kind.key,
            "approval_can_recall": pending is not None and (pending.submitted_by_id == user.pk or user.is_crm_admin),
            "approval_my_task": next((t for t in pending.tasks.all() if t.approver_id == user.pk
                                      and t.status == ApprovalTask.Status.PENDING), None) if pending else None}


# --- settings: processes and steps --------------------------------------------------------------------------

@right_required("manage_customization")
def process_list(request):
    processes = ApprovalProcess.objects.prefetch_related("steps").order_by("record_type", "order", "id")
    labels = {k.key: k.label for k in approvals.kinds()}
    return render_settings(request, "automation/approvals/process_list.html", {
        "rows": [(p, labels.get(p.record_type, p.record_type)) for p in processes],
        "kinds": approvals.kinds()}, section="approvals")


@right_required("manage_customization")
def process_edit(request, pk=None):
    process = get_object_or_404(ApprovalProcess, pk=pk) if pk else None
    record_type = process.record_type if process else request.GET.get("record_type") or request.POST.get("record_type")
    if approvals.kind(record_type or "") is None:
        messages.error(request, _("Choose what the process approves."))
        return redirect("approvals:process_list")
    form = ProcessForm(request.POST or None, instance=process, record_type=record_type)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.record_type = record_type
        saved.save()
        messages.success(request, _("Approval process saved."))
        return redirect("approvals:process_edit", pk=saved.pk)
    return render_settings(request, "automation/approvals/process_edit.html", {
        "form": form, "process": process, "record_type": record_type, "kind": approvals.kind(record_type),
        "steps": process.steps.select_related("approver_user", "approver_team", "escalate_to") if process else []},
        section="approvals")


@right_required("manage_customization")
def step_edit(request, process_pk, pk=None):
    process = get_object_or_404(ApprovalProcess, pk=process_pk)
    step = get_object_or_404(ApprovalStep, pk=pk, process=process) if pk else None
    form = StepForm(request.POST or None, instance=step, record_type=process.record_type,
                    initial=None if step else {"order": (process.steps.count() + 1) * 10})
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.process = process
        saved.save()
        messages.success(request, _("Step saved."))
        return redirect("approvals:process_edit", pk=process.pk)
    return render_settings(request, "automation/approvals/step_edit.html", {
        "form": form, "process": process, "step": step}, section="approvals")


@right_required("manage_customization")
@require_POST
def step_delete(request, process_pk, pk):
    step = get_object_or_404(ApprovalStep, pk=pk, process_id=process_pk)
    if ApprovalTask.objects.filter(step=step, status=ApprovalTask.Status.PENDING).exists():
        messages.error(request, _("Requests are waiting at this step: it cannot be deleted now."))
    else:
        step.delete()
        messages.success(request, _("Step deleted."))
    return redirect("approvals:process_edit", pk=process_pk)
