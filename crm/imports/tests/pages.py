"""Driving the import pages as a user does: upload, the mapping page and its options, the values step, the run.
Shared by the import tests (copied from leads/tests/test_import.py and generalised over the record types)."""
from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from crm.imports.models import ImportJob

FIXTURES = Path(__file__).parent / "fixtures"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_VALUE_SELECT = re.compile(r'<select[^>]*name="(value_[^"]+)"[^>]*data-unknown="([^"]*)"[^>]*>(.*?)</select>', re.S)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upload(client, slug: str, name: str, content: bytes, content_type: str = "text/csv"):
    return client.post(reverse("imports:start", args=[slug]),
                       {"file": SimpleUploadedFile(name, content, content_type=content_type)})


def latest_job() -> ImportJob:
    return ImportJob.objects.order_by("-pk").first()


def job_headers(job: ImportJob) -> list[str]:
    from crm.imports.views import _read

    return _read(job).headers  # the file's column order (a JSON object in PostgreSQL does not keep it)


def map_and_preview(client, job: ImportJob, mapping: dict | None = None, **options):
    """Post the mapping page as guessed (or with `mapping` changes) and the options: the dry run."""
    data = {"duplicates": "skip", "mode": "all_or_nothing", **options}
    if job.file_format != "vcf":
        chosen = {**job.mapping, **(mapping or {})}
        for i, header in enumerate(job_headers(job)):
            data[f"map_{i}"] = chosen.get(header, "")
    response = client.post(reverse("imports:detail", args=[job.pk]), data)
    job.refresh_from_db()
    return response


def detail_page(client, job: ImportJob) -> str:
    response = client.get(reverse("imports:detail", args=[job.pk]))
    assert response.status_code == 200
    return response.content.decode()


def value_selects(page: str) -> dict[str, tuple[str, list[str]]]:
    """{unknown value as the page shows it: (select name, [option values])} of the values step."""
    found = {}
    for name, raw, options in _VALUE_SELECT.findall(page):
        found[html.unescape(raw)] = (name, [html.unescape(v) for v in re.findall(r'<option value="([^"]*)"', options)])
    return found


def map_values(client, job: ImportJob, choices: dict[str, str], *, remember: bool = False):
    """Post the values step of the dry run page: {value as in the file: what it stands for}."""
    selects = value_selects(detail_page(client, job))
    data = {"step": "values"}
    for raw, target in choices.items():
        name, _options = selects[raw]
        data[name] = target
    if remember:
        data["remember"] = "on"
    response = client.post(reverse("imports:detail", args=[job.pk]), data)
    job.refresh_from_db()
    return response


def run(client, job: ImportJob) -> ImportJob:
    client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    return job


def import_file(client, slug: str, name: str, content: bytes, *, values: dict[str, str] | None = None,
                content_type: str = "text/csv", **options) -> ImportJob:
    """Upload, dry run with the guessed mapping, map the unknown values, import."""
    response = upload(client, slug, name, content, content_type)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = latest_job()
    map_and_preview(client, job, **options)
    if values:
        map_values(client, job, values)
    return run(client, job)


def workbook(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            target.writestr(name, change(content) if name == "xl/worksheets/sheet1.xml" else content)
    return out.getvalue()


def messages_of(job: ImportJob) -> str:
    return " | ".join(w["message"] for w in job.warnings)
