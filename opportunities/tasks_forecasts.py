"""The weekly forecast snapshot. Beat runs this every hour; the first run of each ISO week (Monday just after
midnight, or the first hour the workers are up again after an outage) takes that week's snapshot, and every
other run finds it taken and does nothing: the week is unique in the database."""
from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def forecast_snapshot_task() -> int | None:
    from opportunities.forecasts import snapshot_take

    snapshot = snapshot_take()
    return snapshot.pk if snapshot else None
