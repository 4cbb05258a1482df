"""The Celery app: queues and at-least-once delivery settings. The beat schedule is contributed by each app
(crm.core.schedule.periodic in its AppConfig.ready())."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
