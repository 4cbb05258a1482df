"""Celery tasks of the escalation engine: thin, idempotent wrappers over crm.automation.escalations. What is due
later waits in the database (EscalationDue.due_at) for beat, never in the broker with an ETA."""
from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalations_tick_task() -> dict:
    """Every minute (beat): every due escalation fired once, in due order. Two ticks at once skip each other's
    rows (SKIP LOCKED); a tick killed mid-way leaves its current row waiting for the next."""
    from crm.automation.escalations import tick

    return tick()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalation_plan_existing_task(rule_id: int, include_past: bool = False) -> int:
    """A rule just created, switched on or changed: plan it on the records that already match."""
    from crm.automation.escalations import plan_existing

    return plan_existing(rule_id=rule_id, include_past=include_past)


@shared_task(acks_late=True)
def escalations_cleanup_task() -> int:
    """Every night: cancelled rows that no longer matter, beyond the log's retention."""
    from crm.automation.escalations import cleanup

    return cleanup()
