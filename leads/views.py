"""Lead pages: list with filters and export, detail with history and timeline, create and edit."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm.access.fls import visible
from crm.access.models import AuditLog
from crm.access.services import audit
from crm.core import display
from crm.core.export import export_response
from crm.core.history import field_history
from crm.core.middleware import client_ip
from crm.core.services import recent_view_touch
from crm.customization.fields import definitions
from leads import services
from leads.filters import LeadFilter
from leads.forms import SECTIONS, LeadForm
from leads.models import Lead
from leads.selectors import lead_list

RT = "leads.lead"
LIST_COLUMNS = ["last_name", "first_name", "company", "email", "status", "lifecycle_stage", "score", "owner", "created_at"]
EXPORT_FIELDS = [n for _, names in SECTIONS for n in names] + ["lifecycle_stage", "score", "created_at"]


def _require(user, action):
    if not user.can(RT, action):
        raise Http404


@login_required
def lead_list_view(request):
    _require(request.user, "view")
    qs = lead_list(user=request.user, query=request.GET.get("q", ""), sort=request.GET.get("sort", "-created"))
    filterset = LeadFilter(request.GET or None, queryset=qs, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else qs
    custom_columns = [cf.key for cf in definitions(RT) if cf.show_in_list]
    columns = visible(request.user, RT, LIST_COLUMNS + custom_columns)
    if request.GET.get("export") in ("csv", "xlsx"):
        _require(request.user, "export")
        fields = visible(request.user, RT, EXPORT_FIELDS + [cf.key for cf in definitions(RT)])
        rows = ([display.field_value(lead, f) for f in fields] for lead in qs.iterator(chunk_size=2000))
        response = export_response(request.GET["export"], "leads", [display.field_label(Lead, f) for f in fields], rows)
        audit(actor=request.user, action=AuditLog.Action.EXPORT, target_type=RT, ip=client_ip(request),
              data={"format": request.GET["export"], "query": request.GET.urlencode()})
        return response
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(lead, [display.field_value(lead, c) for c in columns]) for lead in page]
    ctx = {"filter": filterset, "page": page, "rows": rows,
           "headers": [(c, display.field_label(Lead, c)) for c in columns], "q": request.GET.get("q", ""),
           "sort": request.GET.get("sort", "-created")}
    template = "leads/lead_list.html#results" if request.htmx and not request.htmx.boosted else "leads/lead_list.html"
    return render(request, template, ctx)


@login_required
def lead_detail(request, pk):
    lead = get_object_or_404(Lead.objects.visible_to(request.user).select_related("owner", "status", "source"), pk=pk)
    recent_view_touch(user=request.user, record=lead)
    names = [n for _, ns in SECTIONS for n in ns] + ["lifecycle_stage", "score", "created_at"]
    return render(request, "leads/lead_detail.html", {
        "lead": lead,
        "rows": display.detail_rows(lead, names, request.user),
        "custom": display.custom_sections(lead, request.user),
        "history": field_history(lead, request.user),
        "can_edit": not lead.is_converted and Lead.objects.visible_to(request.user, "edit").filter(pk=pk).exists(),
    })


@login_required
def lead_create(request):
    _require(request.user, "create")
    form = LeadForm(request.POST or None, user=request.user, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        lead = services.lead_create(actor=request.user, lead=form.instance)
        messages.success(request, _("Lead %(name)s created.") % {"name": lead})
        return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form}, status=422 if request.method == "POST" else 200)


@login_required
def lead_edit(request, pk):
    lead = get_object_or_404(Lead.objects.visible_to(request.user, "edit"), pk=pk)
    if lead.is_converted:
        raise Http404
    before = services.lead_snapshot(lead)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.lead_update(actor=request.user, lead=form.instance, before=before)
        messages.success(request, _("Lead %(name)s saved.") % {"name": lead})
        return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead}, status=422 if request.method == "POST" else 200)
