"""The workflow-rule action "Submit for approval": the record enters an approval process as if its owner had
pressed Submit, inside the action run's transaction, so a worker killed mid-way submits nothing and a
redelivered run finds the request already there."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .actions import ActionContext, ActionForm, ActionSkipped, PermanentActionError, register_action


class SubmitForApprovalForm(ActionForm):
    kind = "submit_approval"
    process = forms.ChoiceField(label=gettext_lazy("Approval process"), required=False, help_text=gettext_lazy(
        "Empty: the first active process of this record type whose entry criteria the record meets."))
    comment = forms.CharField(label=gettext_lazy("Comment for the approvers"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        from .models_approvals import ApprovalProcess

        super().__init__(*args, **kwargs)
        processes = ApprovalProcess.objects.filter(record_type=self.record_type).order_by("order", "id")
        self.fields["process"].choices = [("", gettext_lazy("The first that applies"))] + [
            (str(p.pk), p.name) for p in processes]


def run_submit_approval(ctx: ActionContext, config: dict) -> dict:
    from .approvals import approval_submit, pending_request
    from .models_approvals import ApprovalProcess

    process = None
    if config.get("process"):
        process = ApprovalProcess.objects.filter(pk=config["process"], is_active=True).first()
        if process is None:
            raise PermanentActionError(_("The approval process no longer exists or is inactive."))
    if pending_request(ctx.record) is not None:
        raise ActionSkipped(_("The record is already waiting for approval."))
    try:
        request = approval_submit(actor=ctx.sender, record=ctx.record, process=process,
                                  comment=config.get("comment", ""))
    except ValidationError as exc:
        if exc.code in ("pending", "no_process"):
            raise ActionSkipped(" ".join(exc.messages)) from None
        raise PermanentActionError(" ".join(exc.messages)) from None
    return {"request": request.pk, "process": request.process_id, "status": request.status}


def describe_submit_approval(config: dict, record_type: str) -> str:
    from .models_approvals import ApprovalProcess

    process = ApprovalProcess.objects.filter(pk=config.get("process") or 0).first()
    if process is None:
        return _("Submit for approval (the first process that applies)")
    return _("Submit for approval: %(process)s") % {"process": process.name}


def register() -> None:
    register_action("submit_approval", gettext_lazy("Submit for approval"), run=run_submit_approval,
                    form=SubmitForApprovalForm, describe=describe_submit_approval, writes_record=True, order=70)
