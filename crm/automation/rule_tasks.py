"""Celery tasks of the workflow-rule engine: thin, idempotent wrappers over crm.automation.engine. A task only
ever carries ids; what is due later waits in the database for beat, never in the broker with an ETA."""
from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def action_run_task(action_run_id: int) -> str | None:
    """Run one action (and then the run's next ones). Delivered twice, the second finds it done: a no-op."""
    from crm.automation.engine import execute_action_run

    return execute_action_run(action_run_id)


@shared_task(acks_late=True)
def automation_tick_task() -> dict:
    """Every minute (beat): heartbeat, due time-based runs, waiting actions whose time has come."""
    from crm.automation.engine import tick

    return tick()


@shared_task(acks_late=True)
def automation_cleanup_task() -> int:
    """Every night: the execution log beyond its retention."""
    from crm.automation.engine import cleanup

    return cleanup()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def schedule_existing_task(rule_id: int, include_past: bool = False) -> int:
    """A time-based rule just activated or changed: schedule it on the records that already exist."""
    from crm.automation.engine import schedule_existing

    return schedule_existing(rule_id=rule_id, include_past=include_past)
