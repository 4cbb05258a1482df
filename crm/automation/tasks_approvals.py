"""Beat: approvals waiting too long are reminded and escalated (crm.automation.approvals)."""
from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def approvals_remind_task() -> tuple[int, int]:
    from crm.automation.approvals import approvals_remind_and_escalate

    return approvals_remind_and_escalate()
