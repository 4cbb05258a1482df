"""A file over IMPORT_ASYNC_ROWS runs on a real Celery worker: the page shows its progress and then its result."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Account, Contact
from conftest import wait_for
from crm.imports.models import ImportJob
from crm.imports.tests.pages import latest_job, map_and_preview, upload


@pytest.mark.worker
def test_a_large_contacts_file_runs_on_the_worker_with_progress(client, reps, settings, celery_worker):
    settings.IMPORT_ASYNC_ROWS = 10
    rep = reps[0]
    rep.date_format = "m/d/Y"  # the worker reads 03/04/1980 as the dry run did, as the importer writes dates
    rep.save()
    client.force_login(rep)
    rows = "".join(f"Person{i},p{i}@example.com,Company {i % 5},03/04/1980\n" for i in range(40))
    upload(client, "contacts", "big.csv", ("Last Name,Email,Account Name,Birthdate\n" + rows).encode())
    job = latest_job()
    map_and_preview(client, job)
    assert (job.status, job.created_count) == ("previewed", 40)
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "runs in the background" in page
    cache.delete_pattern(f"imports:{job.pk}:prepared:*")  # the dry run's work expired: the worker cleans again
    client.post(reverse("imports:run", args=[job.pk]))
    assert ImportJob.objects.get().status in ("queued", "running", "done")
    progress = client.get(reverse("imports:progress", args=[job.pk]))
    assert progress.status_code == 200 and "<progress" in progress.content.decode()
    # (a worker process starting on a busy machine can take a while)
    job = wait_for(lambda: ImportJob.objects.filter(pk=job.pk, status__in=("done", "failed")).first(), timeout=90)
    assert (job.status, job.created_count, job.error_count) == ("done", 40, 0), job.message
    assert Contact.objects.count() == 40 and Account.objects.count() == 5
    assert set(Contact.objects.values_list("birthdate__month", flat=True)) == {3}
    finished = client.get(reverse("imports:progress", args=[job.pk]))
    assert finished["HX-Refresh"] == "true"
    result = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'data-import-status="done"' in result and "40 created" in result
