"""Beat tasks of quotes and invoices, hourly: quotes past their validity date expire, sent invoices past their
due date become overdue. Each is one set-wise UPDATE, so a second run (or two workers at once) changes nothing."""
from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def quotes_expire_task() -> int:
    from opportunities.quotes import quotes_expire

    return quotes_expire()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def invoices_overdue_task() -> int:
    from opportunities.invoices import invoices_mark_overdue

    return invoices_mark_overdue()
