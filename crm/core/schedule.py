"""The beat schedule, contributed by each app in its AppConfig.ready() instead of one list in crm/celery.py
that knows every app: `periodic("lead-score-decay", "leads.tasks.lead_score_decay_task", every=3600)`."""
from __future__ import annotations


def periodic(name: str, task: str, *, every: float, kwargs: dict | None = None) -> None:
    from crm.celery import app

    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}),
                              name: {"task": task, "schedule": float(every), "kwargs": kwargs or {}}}


def entries() -> dict:
    from crm.celery import app

    return dict(app.conf.beat_schedule or {})
