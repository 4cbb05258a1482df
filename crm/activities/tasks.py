"""Celery tasks of the timeline: thin wrappers around services."""
from celery import shared_task


@shared_task(acks_late=True)
def reminders_send_task() -> int:
    """Every minute (beat): send the reminders that are due. Each is claimed, sent and marked in one
    transaction (crm.activities.services.reminders_send_due), so a worker lost mid-way loses none and a
    second worker, or this task run again, repeats none."""
    from crm.activities.services import reminders_send_due

    return reminders_send_due()
