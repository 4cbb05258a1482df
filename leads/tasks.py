"""Celery tasks of the leads app: thin, idempotent wrappers around services."""
from datetime import timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def lead_score_task(lead_id: int) -> int | None:
    from leads.scoring import lead_score_update

    lead = lead_score_update(lead_id)
    return lead.score if lead else None


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def lead_score_batch_task(lead_ids: list[int]) -> int:
    """Rescore many leads (after an import). Recomputing is idempotent, so a retry after a crash is safe."""
    from leads.scoring import lead_scores_update

    return lead_scores_update(lead_ids)


SCORE_BATCH = 500


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def lead_score_many_task(lead_ids: list[int]) -> int:
    """Split a large rescoring (an import's leads) into batches for the workers: the importing process
    sends one message instead of one per batch. Sending a batch twice after a crash only rescores again."""
    for start in range(0, len(lead_ids), SCORE_BATCH):
        lead_score_batch_task.delay(lead_ids[start:start + SCORE_BATCH])
    return len(lead_ids)


@shared_task(acks_late=True)
def lead_score_decay_task(batch: int = 5000) -> int:
    """Hourly: rescore leads not scored for a day, so decay applies even to leads nobody touches."""
    from leads.models import Lead, LifecycleStage, ScoringRule

    if not ScoringRule.objects.filter(is_active=True, kind=ScoringRule.Kind.DECAY).exists():
        return 0
    stale = timezone.now() - timedelta(days=1)
    ids = list(Lead.objects.exclude(lifecycle_stage__in=[LifecycleStage.CONVERTED, LifecycleStage.UNQUALIFIED])
               .filter(score_updated_at__lt=stale).values_list("pk", flat=True)[:batch])
    if ids:  # one message: a worker splits it into batches
        lead_score_many_task.delay(ids)
    return len(ids)
