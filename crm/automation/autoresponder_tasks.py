"""Celery tasks of auto-responders: thin, idempotent wrappers over crm.automation.autoresponders. A task only
carries a row's id; what waits (a retry's backoff) waits in the database for beat, never in the broker."""
from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def autoresponse_send_task(response_id: int) -> str | None:
    """Send one auto-response. Delivered twice, the second finds it claimed or done: a no-op."""
    from crm.automation.autoresponders import autoresponse_send

    return autoresponse_send(response_id)


@shared_task(acks_late=True)
def autoresponders_tick_task() -> dict:
    """Every minute (beat): waiting auto-responses queued again, interrupted ones marked."""
    from crm.automation.autoresponders import tick

    return tick()
