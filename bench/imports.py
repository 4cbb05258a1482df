"""Measure lead import throughput (rows per second) through the real import code: the dry run and the
import itself, in one transaction, as a worker runs it.

    DATABASE_URL=postgres://…/crm_bench python bench/imports.py [--rows 20000]

Imports as a rep the page benchmark does not sign in as, and deletes what it imported afterwards
(`--keep` leaves it), so repeated runs measure the same database."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--user", default="bench-rep19-8@bench.local")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.core.files.base import ContentFile

    from crm.access.models import User
    from leads import imports
    from leads.models import ImportJob
    from leads.services import _e164

    actor = User.objects.get(email=args.user)
    stamp = int(time.time())
    lines = ["First name,Last name,Company,Email,Phone,Country,Title"]
    lines += [f"Aino,Laine{i},Bench Import {i % 500} Oy,aino.{stamp}.{i}@import-bench.example,+35850{stamp % 1000:03d}{i:05d},FI,CEO"
              for i in range(args.rows)]
    data = ("\n".join(lines) + "\n").encode()
    headers, _, _ = imports.read_table(data, "csv")
    created = measure(imports, ImportJob, ContentFile, _e164, actor, data, headers, ImportJob.Duplicates.SKIP, args.rows)
    # The same file again, now matching every lead it created: the update path.
    titles = data.replace(b",CEO\n", b",CFO\n")
    updated = measure(imports, ImportJob, ContentFile, _e164, actor, titles, headers, ImportJob.Duplicates.UPDATE, args.rows)
    if not args.keep:
        from django.db import transaction

        from crm.core.models import Event
        from leads.models import Lead, LifecycleTransition

        with transaction.atomic():
            ids = list(Lead.objects.filter(email__endswith="@import-bench.example").values_list("pk", flat=True))
            LifecycleTransition.objects.filter(lead_id__in=ids).delete()
            Event.objects.filter(object_id__in=ids, name__startswith="lead.").delete()
            Lead.history.filter(id__in=ids).delete()
            Lead.objects.filter(pk__in=ids).delete()
    return 0 if created.status == updated.status == ImportJob.Status.DONE else 1


def measure(imports, ImportJob, ContentFile, _e164, actor, data: bytes, headers, duplicates: str, rows: int):
    """Dry run then import of `data` as `actor`; prints the rates and returns the finished job."""
    job = ImportJob.objects.create(original_name="bench.csv", file=ContentFile(data, name="bench.csv"), file_format="csv",
                                   created_by=actor, mapping=imports.guess_mapping(headers),
                                   mode=ImportJob.Mode.ALL_OR_NOTHING, duplicates=duplicates)
    started = time.perf_counter()
    imports.import_preview(job, actor)
    preview = time.perf_counter() - started
    _e164.cache_clear()  # the preview runs in the web process, a large import on a worker: nothing shared
    started = time.perf_counter()
    job = imports.import_run(job.pk)
    run = time.perf_counter() - started
    print(f"{rows:,} rows ({duplicates}): dry run {preview:.2f} s ({rows / preview:,.0f} rows/s), "
          f"import {run:.2f} s ({rows / run:,.0f} rows/s), end to end {rows / (preview + run):,.0f} rows/s; "
          f"status {job.status}, {job.created_count:,} created, {job.updated_count:,} updated, {job.error_count} errors")
    return job


if __name__ == "__main__":
    sys.exit(main())
