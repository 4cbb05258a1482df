"""Celery tasks of imports: thin, idempotent wrappers around the engine."""
from celery import shared_task


@shared_task(acks_late=True)
def import_run_task(job_id: int) -> None:
    """Run a queued import. A redelivered task finds the job done, or reruns one that wrote nothing."""
    from crm.imports.engine import import_run

    import_run(job_id)
