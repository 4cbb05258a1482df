"""Celery tasks of the platform: delivering events, and the beat sweep that delivers what was left."""
from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=10)
def events_deliver_task(event_ids: list[int]) -> int:
    """Deliver a committed transaction's events. Redelivery (a worker lost, a retry) repeats nothing."""
    from crm.core.events import deliver

    return deliver(event_ids)


@shared_task(acks_late=True)
def events_sweep_task(grace_seconds: int = 30) -> int:
    """Every minute (beat): deliver events left undelivered and retry failed deliveries that are due."""
    from datetime import timedelta

    from crm.core.events import sweep

    return sweep(grace=timedelta(seconds=grace_seconds))
