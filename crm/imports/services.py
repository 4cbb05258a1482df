"""Writes around imports: a job from an upload, its options and value mapping, and its start. The engine
(crm.imports.engine) does the reading and writing of records."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crm.access.models import AuditLog
from crm.access.services import audit
from crm.imports import mapping as column_mapping
from crm.imports.models import ImportJob
from crm.imports.reading import ImportRefused, check_limits, file_format, read

ADD, BLANK = "__add__", "__blank__"


def import_job_create(*, actor, record_type, uploaded) -> ImportJob:
    """A job for the uploaded file, refused (ImportRefused) before parsing when it is too large, and when it
    holds nothing to import; its columns mapped as well as their headers allow."""
    fmt = file_format(uploaded.name)
    check_limits(uploaded, fmt)
    uploaded.seek(0)
    table = read(uploaded.read(), fmt)
    if fmt == "vcf" and not record_type.imports.vcard:
        raise ImportRefused(_("vCard files hold people; this list takes CSV or XLSX files."))
    count = len(table.rows) + len(table.problems)
    if count > settings.IMPORT_MAX_ROWS:
        raise ImportRefused(_("The file has more than %(limit)s rows. Split it into smaller files.")
                            % {"limit": settings.IMPORT_MAX_ROWS})
    if not count:
        raise ImportRefused(_("The file has no rows to import.") if fmt != "vcf"
                            else _("The file has no vCards (BEGIN:VCARD … END:VCARD)."))
    uploaded.seek(0)
    return ImportJob.objects.create(
        record_type=record_type.key, original_name=uploaded.name[:255], file=uploaded, file_format=fmt,
        created_by=actor, total_rows=count,
        mapping=column_mapping.guess_mapping(record_type, actor, table.headers) if fmt != "vcf" else {})


def import_values_map(*, actor, job: ImportJob, record_type, choices: dict[str, dict[str, str]], remember: bool,
                      ip=None) -> ImportJob:
    """Record what the unknown values of the dry run stand for: {field: {value as in the file: ours, BLANK to
    leave the field empty, ADD to add it to the picklist (for those who may)}}. With `remember`, a picklist
    value keeps the spelling as an alias, so later imports map it by themselves."""
    from crm.customization.models import PicklistValue

    mapping = dict(job.value_mapping or {})
    added, remembered = [], []
    with transaction.atomic():
        for name, values in choices.items():
            field = record_type.model._meta.get_field(name)
            picklist = ((field.remote_field.limit_choices_to or {}).get("picklist", "") if field.many_to_one
                        and field.related_model is PicklistValue else "")
            column = dict(mapping.get(name, {}))
            for raw, ours in values.items():
                if ours == ADD and picklist and actor.has_right("manage_customization"):
                    item = _picklist_add(actor, picklist, raw, ip)
                    added.append(f"{picklist}: {item.label}")
                    ours = item.value
                elif ours == ADD:
                    continue
                column[raw.lower()] = "" if ours == BLANK else ours
                if remember and picklist and ours not in ("", BLANK) and actor.has_right("manage_customization"):
                    item = PicklistValue.objects.filter(picklist=picklist, value=ours).first()
                    if item is not None:
                        aliases = list((item.flags or {}).get("aliases") or [])
                        if raw.lower() not in [a.lower() for a in aliases]:
                            item.flags = {**(item.flags or {}), "aliases": [*aliases, raw]}
                            item.save(update_fields=["flags"])
                            remembered.append(f"{picklist}: {raw} → {item.value}")
            mapping[name] = column
        job.value_mapping = mapping
        job.status = ImportJob.Status.UPLOADED
        job.save(update_fields=["value_mapping", "status"])
        if added or remembered:
            audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target_type="customization.picklistvalue",
                  ip=ip, data={"import": job.pk, "added": added, "aliases": remembered})
    return job


def _picklist_add(actor, picklist: str, label: str, ip):
    from crm.customization.models import PicklistValue
    from crm.customization.services import picklist_value_create

    base = slugify(label)[:90] or "value"
    value, n = base, 1
    while PicklistValue.objects.filter(picklist=picklist, value=value).exists():
        n += 1
        value = f"{base}-{n}"
    return picklist_value_create(actor=actor, picklist=picklist, value=value, label=label[:100], ip=ip)


def import_job_start(*, actor, job: ImportJob, ip=None) -> ImportJob:
    """Run the previewed job: inline when small, else queued for a worker (after commit). Audited."""
    from crm.imports.engine import import_run
    from crm.imports.tasks import import_run_task

    audit(actor=actor, action=AuditLog.Action.IMPORT, target_type=job.record_type, ip=ip,
          data={"job": job.pk, "file": job.original_name, "rows": job.total_rows, "mode": job.mode,
                "duplicates": job.duplicates})
    if job.total_rows > settings.IMPORT_ASYNC_ROWS:
        job.status = ImportJob.Status.QUEUED
        job.save(update_fields=["status"])
        transaction.on_commit(lambda: import_run_task.delay(job.pk))
        return job
    return import_run(job.pk)
