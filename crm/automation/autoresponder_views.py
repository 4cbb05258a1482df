"""Settings pages of auto-responders (admins with the customization right, as the workflow-rule pages): the
list with each responder's sends of the last 30 days, the editor with the condition builder, activate, delete,
move up/down, the log of sent responses with Send again for failed ones, and "test on a record"."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.settings_views import client_ip, paginate, render_settings, right_required
from crm.automation import autoresponders as service
from crm.automation.autoresponder_forms import AutoResponderForm, AutoResponseFilter, RecordSearchForm, ResponderTypeForm
from crm.automation.models_autoresponders import AutoResponder, AutoResponse
from crm.automation.rule_views import RIGHT
from crm.core import conditions, records
from crm.core.forms import errors_to_form

SECTION = "autoresponders"


def _type_label(key: str) -> str:
    rt = records.find(key)
    return str(rt.label_plural) if rt is not None else key


@right_required(RIGHT)
def autoresponder_list(request):
    rows = [{"responder": r, "type": _type_label(r.record_type),
             "criteria": conditions.describe(r.criteria, r.record_type) if records.find(r.record_type) else ""}
            for r in service.responder_rows()]
    return render_settings(request, "automation/autoresponders/list.html", {"rows": rows}, section=SECTION)


@right_required(RIGHT)
def autoresponder_create(request):
    record_type = request.GET.get("record_type") or request.POST.get("record_type") or ""
    if record_type not in dict(service.record_types()):
        return render_settings(request, "automation/autoresponders/pick_type.html", {"form": ResponderTypeForm()},
                               section=SECTION)
    return _form(request, None, record_type)


@right_required(RIGHT)
def autoresponder_edit(request, pk):
    responder = get_object_or_404(AutoResponder, pk=pk)
    return _form(request, responder, responder.record_type)


def _form(request, responder, record_type: str):
    if request.method == "POST":
        form = AutoResponderForm(request.POST, record_type=record_type)
        if form.is_valid():
            try:
                responder = service.autoresponder_save(actor=request.user, record_type=record_type,
                                                       responder=responder, ip=client_ip(request), **form.values())
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Auto-responder saved."))
                return redirect("automation:autoresponder_edit", responder.pk)
    else:
        form = AutoResponderForm(initial=AutoResponderForm.initial_for(responder) if responder else None,
                                 record_type=record_type)
    return render_settings(request, "automation/autoresponders/form.html", {
        "form": form, "responder": responder, "record_type": record_type,
        "record_type_label": _type_label(record_type),
    }, section=SECTION)


@right_required(RIGHT)
@require_POST
def autoresponder_toggle(request, pk):
    responder = get_object_or_404(AutoResponder, pk=pk)
    responder = service.autoresponder_set_active(actor=request.user, responder=responder,
                                                 active=not responder.is_active, ip=client_ip(request))
    messages.success(request, _("The auto-responder is active.") if responder.is_active
                     else _("The auto-responder is inactive."))
    return redirect("automation:autoresponder_list")


@right_required(RIGHT)
@require_POST
def autoresponder_move(request, pk):
    responder = get_object_or_404(AutoResponder, pk=pk)
    service.autoresponder_move(actor=request.user, responder=responder, up=request.POST.get("direction") == "up",
                               ip=client_ip(request))
    return redirect("automation:autoresponder_list")


@right_required(RIGHT)
@require_POST
def autoresponder_delete(request, pk):
    responder = get_object_or_404(AutoResponder, pk=pk)
    service.autoresponder_delete(actor=request.user, responder=responder, ip=client_ip(request))
    messages.success(request, _("Auto-responder deleted. Its log stays."))
    return redirect("automation:autoresponder_list")


@right_required(RIGHT)
def autoresponse_log(request):
    queryset = AutoResponse.objects.select_related("responder").order_by("-created_at", "-pk")
    filterset = AutoResponseFilter(request.GET, queryset=queryset)
    page, query = paginate(request, filterset.qs)
    for row in page:
        row.record_url = records.detail_url_of(row.content_type_id, row.object_id)
    return render_settings(request, "automation/autoresponders/log.html",
                           {"filter": filterset, "page": page, "query": query}, section=SECTION)


@right_required(RIGHT)
@require_POST
def autoresponse_retry(request, pk):
    response = get_object_or_404(AutoResponse, pk=pk)
    if service.autoresponse_retry(actor=request.user, response=response, ip=client_ip(request)):
        messages.success(request, _("The auto-response will be sent again in a moment."))
    return redirect("automation:autoresponse_log")


def _find_records(record_type: str, user, text: str, limit: int = 20) -> list:
    rt = records.get(record_type)
    queryset = rt.model._default_manager
    queryset = queryset.visible_to(user) if hasattr(queryset, "visible_to") else queryset.all()
    text = text.strip()
    if text.isdigit():
        found = list(queryset.filter(pk=int(text))[:1])
        if found:
            return found
    q = Q()
    for name in rt.search_fields:
        q |= Q(**{f"{name}__icontains": text})
    return list(queryset.filter(q).order_by("-pk")[:limit]) if q else []


@right_required(RIGHT)
def autoresponder_test(request):
    """Which responder would answer this record, and the subject it would get in the recipient's language.
    Nothing is sent or written."""
    types = service.record_types()
    record_type = request.GET.get("record_type") or (types[0][0] if types else "")
    if record_type not in dict(types):
        raise Http404
    search = RecordSearchForm(request.GET if "q" in request.GET else None)
    found, record, result = [], None, None
    if search.is_valid():
        found = _find_records(record_type, request.user, search.cleaned_data["q"])
    if request.GET.get("record", "").isdigit():
        record = next(iter(_find_records(record_type, request.user, request.GET["record"])), None)
        if record is not None and record.pk == int(request.GET["record"]):
            result = service.dry_run_on_record(record_type, record)
        else:
            record = None
    return render_settings(request, "automation/autoresponders/test.html", {
        "types": types, "record_type": record_type, "search": search, "found": found, "record": record,
        "result": result, "record_url": records.get(record_type).detail_url(record.pk) if record is not None else "",
    }, section=SECTION)
