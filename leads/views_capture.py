"""Capture: CSV/XLSX/vCard import with mapping and dry run, and web-to-lead forms
(the builder for admins and the public endpoint anyone may post to)."""
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.access.models import AuditLog
from crm.access.services import audit
from crm.access.settings_views import render_settings
from crm.activities.services import activity_log
from crm.core import ratelimit
from crm.core.events import emit
from crm.core.middleware import client_ip
from crm.customization.fields import by_key, definitions, form_field, to_json
from leads import imports, services
from leads.models import SOURCE_PICKLIST, ImportJob, Lead, WebForm
from leads.tasks import lead_import_task

RT = "leads.lead"


# --- import -------------------------------------------------------------------------------------------------

class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.csv, .xlsx or .vcf)"))


class OptionsForm(forms.ModelForm):
    class Meta:
        model = ImportJob
        fields = ["duplicates", "mode", "assign_by_rules", "campaign"]
        widgets = {"duplicates": forms.RadioSelect, "mode": forms.RadioSelect}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from campaigns.models import Campaign

        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("name")
        self.fields["campaign"].label = _("Campaign (adds a touch to every imported lead)")


def _require_import(user):
    if not user.can(RT, "import"):
        raise Http404


def _job_for(request, pk):
    return get_object_or_404(ImportJob, pk=pk, created_by=request.user, record_type=RT)


@login_required
def import_start(request):
    _require_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            fmt = imports.file_format(uploaded.name)
            imports.check_limits(uploaded, fmt)
            uploaded.seek(0)
            data = uploaded.read()
            headers, rows, problems = imports.read_table(data, fmt)
            if len(rows) > settings.IMPORT_MAX_ROWS:
                raise imports.ImportRefused(_("The file has more than %(limit)s rows. Split it into smaller files.")
                                            % {"limit": settings.IMPORT_MAX_ROWS})
            if not rows:
                raise imports.ImportRefused(_("The file has no rows to import.") if fmt != "vcf"
                                            else _("The file has no vCards (BEGIN:VCARD … END:VCARD)."))
        except imports.ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            uploaded.seek(0)
            job = ImportJob.objects.create(original_name=uploaded.name[:255], file=uploaded, file_format=fmt,
                                           created_by=request.user, total_rows=len(rows),
                                           mapping=imports.guess_mapping(headers) if fmt != "vcf" else {})
            return redirect("leads:import_detail", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user, record_type=RT)[:10]
    return render(request, "leads/import_start.html", {"form": form, "jobs": jobs,
                                                       "max_mb": round(settings.IMPORT_MAX_BYTES / 1048576)},
                  status=422 if request.method == "POST" else 200)


def _read_job(job):
    job.file.open("rb")
    try:
        return imports.read_table(job.file.read(), job.file_format)
    finally:
        job.file.close()


@login_required
def import_detail(request, pk):
    """Mapping and options, the dry-run preview, then the result or the progress of a running import."""
    _require_import(request.user)
    job = _job_for(request, pk)
    if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return render(request, "leads/import_result.html", {"job": job, "progress": _progress(job)})
    headers, rows, _problems = _read_job(job)
    choices = imports.target_choices()
    options = OptionsForm(request.POST or None, instance=job, user=request.user)
    mapping = dict(job.mapping)
    errors = []
    if request.method == "POST":
        if job.file_format != "vcf":
            valid = {c for c, _ in choices}
            mapping = {h: (request.POST.get(f"map_{i}", "") if request.POST.get(f"map_{i}", "") in valid else "")
                       for i, h in enumerate(headers)}
            targets = [t for t in mapping.values() if t]
            if len(targets) != len(set(targets)):
                errors.append(_("Two columns are mapped to the same field."))
            if "last_name" not in targets:
                errors.append(_("Map a column to “last name”: every lead needs one."))
        if options.is_valid() and not errors:
            job = options.save(commit=False)
            job.mapping = mapping
            job.save()
            imports.import_preview(job, request.user)
            return redirect("leads:import_detail", pk=job.pk)
    columns = [{"index": i, "header": h, "target": mapping.get(h, ""),
                "samples": [r[i] for r in rows[:3] if i < len(r)]} for i, h in enumerate(headers)]
    return render(request, "leads/import_detail.html", {
        "job": job, "columns": columns, "choices": choices, "options": options, "errors": errors,
        "async": job.total_rows > settings.IMPORT_ASYNC_ROWS}, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def import_start_run(request, pk):
    _require_import(request.user)
    job = _job_for(request, pk)
    if job.status != ImportJob.Status.PREVIEWED:
        messages.error(request, _("Preview the import before running it."))
        return redirect("leads:import_detail", pk=job.pk)
    audit(actor=request.user, action=AuditLog.Action.IMPORT, target_type=RT, ip=client_ip(request),
          data={"job": job.pk, "file": job.original_name, "rows": job.total_rows, "mode": job.mode,
                "duplicates": job.duplicates})
    if job.total_rows > settings.IMPORT_ASYNC_ROWS:
        job.status = ImportJob.Status.QUEUED
        job.save(update_fields=["status"])
        transaction.on_commit(lambda: lead_import_task.delay(job.pk))
        messages.info(request, _("The import runs in the background; this page shows its progress."))
    else:
        job = imports.import_run(job.pk)
    return redirect("leads:import_detail", pk=job.pk)


def _progress(job) -> int:
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return 100
    done = cache.get(imports.progress_key(job.pk)) or 0
    return min(99, int(100 * done / job.total_rows)) if job.total_rows else 0


@login_required
def import_progress(request, pk):
    _require_import(request.user)
    job = _job_for(request, pk)
    response = render(request, "leads/_import_progress.html", {"job": job, "progress": _progress(job)})
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        response["HX-Refresh"] = "true"  # show the final report
    return response


# --- web-to-lead forms --------------------------------------------------------------------------------------

WEBFORM_FIELDS = ["first_name", "last_name", "email", "phone", "mobile", "company", "title", "website", "street",
                  "city", "state", "postal_code", "country", "industry", "employees", "description",
                  "need_pain_points", "timeline_timeframe"]
HONEYPOT = "contact_me_by_fax"


def _require_webform_admin(user):
    if not user.has_right("manage_customization"):
        raise Http404


def field_choices():
    return ([(n, str(Lead._meta.get_field(n).verbose_name).capitalize()) for n in WEBFORM_FIELDS]
            + [(cf.key, cf.display_label) for cf in definitions(RT)])


class WebFormForm(forms.ModelForm):
    fields_chosen = forms.MultipleChoiceField(label=gettext_lazy("Fields"), widget=forms.CheckboxSelectMultiple)
    required_chosen = forms.MultipleChoiceField(label=gettext_lazy("Required fields"), required=False,
                                                widget=forms.CheckboxSelectMultiple)
    allowed_origins_text = forms.CharField(
        label=gettext_lazy("Sites allowed to embed the form"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One origin per line, e.g. https://www.example.com. Empty: any site may embed it."))

    class Meta:
        model = WebForm
        fields = ["name", "language", "campaign", "source", "default_owner", "thank_you_message", "redirect_url", "is_active"]
        widgets = {"thank_you_message": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from campaigns.models import Campaign
        from crm.access.models import User
        from crm.customization.models import PicklistValue

        choices = field_choices()
        self.fields["fields_chosen"].choices = choices
        self.fields["required_chosen"].choices = choices
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("name")
        self.fields["source"].queryset = PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, is_active=True)
        self.fields["default_owner"].queryset = User.objects.filter(is_active=True)
        if self.instance.pk:
            self.initial.update(fields_chosen=self.instance.fields, required_chosen=self.instance.required_fields,
                                allowed_origins_text="\n".join(self.instance.allowed_origins))
        else:
            self.initial.update(fields_chosen=["first_name", "last_name", "email", "company"],
                                required_chosen=["last_name", "email"])

    def clean_allowed_origins_text(self):
        from urllib.parse import urlsplit

        origins = []
        for line in self.cleaned_data.get("allowed_origins_text", "").splitlines():
            line = line.strip().rstrip("/")
            if not line:
                continue
            parts = urlsplit(line)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise forms.ValidationError(_("“%(origin)s” is not an origin like https://www.example.com.") % {"origin": line})
            origins.append(f"{parts.scheme}://{parts.netloc}")
        return origins

    def clean(self):
        data = super().clean()
        chosen = data.get("fields_chosen") or []
        if "last_name" not in chosen:
            self.add_error("fields_chosen", _("The form must ask for the last name."))
        if any(r not in chosen for r in data.get("required_chosen") or []):
            self.add_error("required_chosen", _("A required field must also be on the form."))
        return data

    def save(self, commit=True):
        form = super().save(commit=False)
        form.fields = self.cleaned_data["fields_chosen"]
        form.required_fields = list(set(self.cleaned_data["required_chosen"]) | {"last_name"})
        form.allowed_origins = self.cleaned_data["allowed_origins_text"]
        if not form.key:
            form.key = secrets.token_urlsafe(12)
        if commit:
            form.save()
        return form


@login_required
def webform_list(request):
    _require_webform_admin(request.user)
    return render_settings(request, "leads/webform_list.html", {"forms": WebForm.objects.select_related("campaign")},
                           section="web_forms")


@login_required
def webform_edit(request, pk=None):
    _require_webform_admin(request.user)
    webform = get_object_or_404(WebForm, pk=pk) if pk else WebForm(created_by=request.user)
    form = WebFormForm(request.POST or None, instance=webform, user=request.user)
    if request.method == "POST" and form.is_valid():
        webform = form.save()
        audit(actor=request.user, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=webform, ip=client_ip(request),
              data={"web_form": webform.name, "fields": webform.fields})
        messages.success(request, _("Web form “%(name)s” saved.") % {"name": webform.name})
        return redirect("leads:webform_edit", pk=webform.pk)
    public_url = request.build_absolute_uri(reverse("leads:webform_public", args=[webform.key])) if webform.pk else ""
    response = render_settings(request, "leads/webform_edit.html", {
        "form": form, "webform": webform, "public_url": public_url,
        "snippet_fields": _public_form_class(webform)() if webform.pk else None}, section="web_forms")
    response.status_code = 422 if request.method == "POST" else 200
    return response


def _public_form_class(webform: WebForm):
    """A form class with the fields the admin picked, validated like the lead form."""
    customs = by_key(RT)
    attrs = {}
    for name in webform.fields:
        if name in customs:
            field = form_field(customs[name])
        elif name in WEBFORM_FIELDS:
            field = Lead._meta.get_field(name).formfield()
        else:
            continue
        field.required = name in webform.required_fields
        attrs[name] = field
    attrs[HONEYPOT] = forms.CharField(required=False, label=gettext_lazy("Leave this empty"))
    return type("PublicLeadForm", (forms.Form,), attrs)


def _embed_headers(response, webform):
    response.xframe_options_exempt = True
    from urllib.parse import urlsplit

    replace = {"frame-ancestors": ["'self'", *webform.allowed_origins] if webform.allowed_origins else ["*"]}
    if webform.redirect_url:  # the redirect after posting must be allowed by form-action
        target = urlsplit(webform.redirect_url)
        replace["form-action"] = ["'self'", f"{target.scheme}://{target.netloc}"]
    response._csp_replace = replace
    return response


@csrf_exempt  # cross-site embedding: no session, no CSRF cookie; the honeypot and the rate limit guard it
@xframe_options_exempt
def webform_public(request, key):
    webform = get_object_or_404(WebForm, key=key, is_active=True)
    with translation.override(webform.language):
        form_class = _public_form_class(webform)
        form = form_class(request.POST or None)
        status = 200
        if request.method == "POST":
            if not ratelimit.hit(f"webform:{webform.pk}:{client_ip(request)}", settings.WEBFORM_RATE_LIMIT):
                response = render(request, "leads/webform_public.html", {
                    "webform": webform, "form": form, "limited": True}, status=429)
                return _embed_headers(response, webform)
            if form.is_valid():
                if not form.cleaned_data.get(HONEYPOT):
                    _submit(webform, form.cleaned_data)
                if webform.redirect_url:
                    return HttpResponseRedirect(webform.redirect_url)
                response = render(request, "leads/webform_public.html", {"webform": webform, "done": True})
                return _embed_headers(response, webform)
            status = 422
        response = render(request, "leads/webform_public.html", {"webform": webform, "form": form}, status=status)
        return _embed_headers(response, webform)


@transaction.atomic
def _submit(webform: WebForm, data: dict) -> Lead:
    """A new lead, or, when the email belongs to a lead already, a returning one: touch and timeline entry."""
    from leads.duplicates import find

    customs = by_key(RT)
    existing = None
    if data.get("email"):
        existing = next((m.lead for m in find(email=data["email"]) if not m.lead.is_converted), None)
    if existing is not None:
        lead = existing
    else:
        lead = Lead(source=webform.source or _default_source(), owner=webform.default_owner)
        custom = {}
        for name, value in data.items():
            if name in customs:
                json_value = to_json(customs[name], value)
                if json_value is not None:
                    custom[customs[name].name] = json_value
            elif name in WEBFORM_FIELDS and value not in (None, ""):
                setattr(lead, name, value.upper() if name == "country" else value)
        lead.custom = custom
        lead = services.lead_create(actor=None, lead=lead, assign_by_rules=True, campaign=None)
    if webform.campaign_id:
        services.touch_add(lead=lead, campaign=webform.campaign, channel="web_form")
    activity_log(target=lead, verb="web_form", subject=_("Submitted the web form “%(name)s”") % {"name": webform.name},
                 data={"web_form": webform.pk, "returning": existing is not None})
    WebForm.objects.filter(pk=webform.pk).update(submissions=webform.submissions + 1)
    emit("lead.form_submitted", lead, data={"web_form": webform.pk, "returning": existing is not None})
    return lead


def _default_source():
    from crm.customization.models import PicklistValue

    return PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, value="web-form").first()

