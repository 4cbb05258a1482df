"""The Celery app: queues, at-least-once delivery settings and the beat schedule."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "lead-score-decay": {"task": "leads.tasks.lead_score_decay_task", "schedule": 3600.0},
}
