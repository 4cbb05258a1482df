"""The import pages of every record type: upload, column mapping and options, the dry run with every bad
row and the unknown picklist values to map, then the result or the progress of a running import."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core import records
from crm.core.middleware import client_ip
from crm.imports import engine, services
from crm.imports.forms import OptionsForm, UploadForm
from crm.imports.mapping import target_choices
from crm.imports.models import ImportJob
from crm.imports.reading import ImportRefused, read


def _type(request, slug: str):
    rt = records.by_slug(slug)
    if rt is None or rt.imports is None or not request.user.can(rt.key, "import"):
        raise Http404
    return rt


def _job(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk, created_by=request.user)
    rt = records.get(job.record_type)
    if rt.imports is None or not request.user.can(rt.key, "import"):
        raise Http404
    return job, rt


@login_required
def start(request, slug: str):
    rt = _type(request, slug)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(actor=request.user, record_type=rt, uploaded=form.cleaned_data["file"])
        except ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("imports:detail", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user, record_type=rt.key)[:10]
    return render(request, "imports/start.html", {"rt": rt, "form": form, "jobs": jobs,
                                                  "max_mb": round(settings.IMPORT_MAX_BYTES / 1048576)},
                  status=422 if request.method == "POST" else 200)


def _read(job):
    job.file.open("rb")
    try:
        return read(job.file.read(), job.file_format)
    finally:
        job.file.close()


@login_required
def detail(request, pk: int):
    job, rt = _job(request, pk)
    if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return render(request, "imports/result.html", {"rt": rt, "job": job, "progress": _progress(job)})
    table = _read(job)
    choices = target_choices(rt, request.user)
    options = OptionsForm(request.POST or None, instance=job, user=request.user, record_type=rt)
    mapping = dict(job.mapping)
    errors = []
    if request.method == "POST" and request.POST.get("step") == "values":
        return _map_values(request, job, rt)
    if request.method == "POST":
        if job.file_format != "vcf":
            valid = {c for c, _label in choices}
            mapping = {h: (request.POST.get(f"map_{i}", "") if request.POST.get(f"map_{i}", "") in valid else "")
                       for i, h in enumerate(table.headers)}
            targets = [t for t in mapping.values() if t]
            if len(targets) != len(set(targets)):
                errors.append(_("Two columns are mapped to the same field."))
            needed = [n for n in rt.imports.required_any if n in valid]
            if needed and not set(needed) & set(targets):
                labels = ", ".join(str(dict(choices)[n]) for n in needed)
                errors.append(_("Map a column to %(fields)s: every record needs it.") % {"fields": labels})
        if options.is_valid() and not errors:
            job = options.save(commit=False)
            job.mapping = mapping
            job.save()
            engine.import_preview(job, request.user)
            return redirect("imports:detail", pk=job.pk)
    columns = [{"index": i, "header": h, "target": mapping.get(h, ""),
                "samples": [r[i] for r in table.rows[:3] if i < len(r)]} for i, h in enumerate(table.headers)]
    return render(request, "imports/detail.html", {
        "rt": rt, "job": job, "columns": columns, "choices": choices, "options": options, "errors": errors,
        "unknown": _unknown(job, rt, request.user), "vcard_sample": _vcard_sample(job, table),
        "async": job.total_rows > settings.IMPORT_ASYNC_ROWS},
        status=422 if request.method == "POST" else 200)


def _vcard_sample(job, table) -> list[dict]:
    """The dry run shows the cards as they were read."""
    if job.file_format != "vcf":
        return []
    return [{"number": n, "fields": [(h, v) for h, v in zip(table.headers, row) if v]}
            for n, row in zip(table.numbers[:10], table.rows[:10])]


def _unknown(job, rt, user) -> list[dict]:
    """The dry run's unknown values per field, with what they may be mapped to."""
    from django.utils.text import capfirst

    result = []
    for name, values in ((job.preview or {}).get("unknown") or {}).items():
        field = rt.model._meta.get_field(name)
        targets = _value_targets(field, user)
        if targets is None:
            continue
        picklist = field.many_to_one and field.related_model._meta.label == "customization.PicklistValue"
        result.append({"name": name, "label": capfirst(field.verbose_name), "targets": targets,
                       "can_add": picklist and user.has_right("manage_customization"),
                       "values": [{"raw": v, "current": (job.value_mapping.get(name) or {}).get(v.lower(), "")}
                                  for v in values]})
    return result


def _value_targets(field, user) -> list[tuple[str, str]] | None:
    """What an unknown value of `field` can be mapped to: its picklist's values, its choices, the countries,
    the active users. None: nothing to choose from (a related record by name)."""
    from django.contrib.auth import get_user_model

    if field.many_to_one:
        related = field.related_model
        if related._meta.label == "customization.PicklistValue":
            return [(v.value, v.display_label) for v in
                    related._default_manager.filter(is_active=True, **(field.remote_field.limit_choices_to or {}))]
        if related is get_user_model():
            return [(u.email, str(u)) for u in related.objects.filter(is_active=True).order_by("first_name", "last_name")]
        if not hasattr(related._default_manager, "visible_to"):  # configuration: pipelines, stages
            return [(str(obj.pk), str(obj)) for obj in related._default_manager.all()]
        return None
    if field.choices:
        return [(str(v), str(label)) for v, label in field.flatchoices]
    if field.name.endswith("country"):
        from babel import Locale
        from django.utils.translation import get_language

        names = Locale.parse(get_language() or "en").territories
        return sorted(((code, f"{name} ({code})") for code, name in names.items()
                       if len(code) == 2 and code.isalpha()), key=lambda pair: pair[1])
    return None


def _map_values(request, job, rt):
    chosen: dict[str, dict[str, str]] = {}
    for item in _unknown(job, rt, request.user):
        allowed = {value for value, _label in item["targets"]} | {services.BLANK} | (
            {services.ADD} if item["can_add"] else set())
        for i, value in enumerate(item["values"]):
            picked = request.POST.get(f"value_{item['name']}_{i}", "")
            if picked in allowed:
                chosen.setdefault(item["name"], {})[value["raw"]] = picked
    services.import_values_map(actor=request.user, job=job, record_type=rt, choices=chosen,
                               remember=request.POST.get("remember") == "on", ip=client_ip(request))
    engine.import_preview(job, request.user)
    messages.success(request, _("Values mapped; the dry run was run again."))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
def run(request, pk: int):
    job, rt = _job(request, pk)
    if job.status != ImportJob.Status.PREVIEWED:
        messages.error(request, _("Preview the import before running it."))
        return redirect("imports:detail", pk=job.pk)
    job = services.import_job_start(actor=request.user, job=job, ip=client_ip(request))
    if job.status == ImportJob.Status.QUEUED:
        messages.info(request, _("The import runs in the background; this page shows its progress."))
    return redirect("imports:detail", pk=job.pk)


def _progress(job) -> int:
    if job.is_finished:
        return 100
    done = cache.get(engine.progress_key(job.pk)) or 0
    return min(99, int(100 * done / job.total_rows)) if job.total_rows else 0


@login_required
def progress(request, pk: int):
    job, rt = _job(request, pk)
    response = render(request, "imports/_progress.html", {"rt": rt, "job": job, "progress": _progress(job)})
    if job.is_finished:
        response["HX-Refresh"] = "true"  # show the final report
    return response
