"""Lead pages: detail (tabs, inline edit, lifecycle, qualification, score), create
and edit with duplicate warnings, conversion and merge. The list is the shared
list engine's (crm.lists), configured in leads/records.py."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.fls import hidden_fields, readonly_fields
from crm.core import display
from crm.core.cached_relations import attach
from leads.rendering import details_html
from crm.core.history import field_history
from crm.core.services import recent_view_touch
from campaigns.selectors import touches_for
from crm.core import records
from crm.core.record_views import duplicate_warning
from leads import services
from leads.conversion import ConversionRefused, lead_convert
from leads.forms import SECTIONS, ConvertForm, LeadCreateForm, LeadForm, QualificationForm, StageForm
from leads.models import Lead, LifecycleStage
from leads.qualification import progress

RT = "leads.lead"
# Fields the detail page edits in place.
INLINE_FIELDS = ["status", "rating", "owner", "title", "email", "phone", "mobile", "company"]


def _require(user, action):
    if not user.can(RT, action):
        raise Http404


def _lead_for(request, pk, action="view"):
    # No joins: the owner, status and source come from the process caches, and the campaigns and
    # conversion links, mostly empty, cost nothing when they are.
    lead = get_object_or_404(Lead.objects.visible_to(request.user, action), pk=pk)
    attach(lead, "owner", "status", "source")
    return lead


def _can_edit(request, lead) -> bool:
    return (not lead.is_converted and request.user.can(RT, "edit")
            and Lead.objects.visible_to(request.user, "edit").filter(pk=lead.pk).exists())


def _conversion_visible(user, lead) -> set[str]:
    """Which of a converted lead's account, contact and opportunity `user` may open (the others are shown as
    names, not links to a 404)."""
    visible = set()
    for name in ("converted_account", "converted_contact", "converted_opportunity"):
        pk = getattr(lead, f"{name}_id")
        model = Lead._meta.get_field(name).related_model
        if pk and model._default_manager.visible_to(user).filter(pk=pk).exists():
            visible.add(name)
    return visible


@login_required
def lead_detail(request, pk):
    lead = _lead_for(request, pk)
    recent_view_touch(user=request.user, record=lead)
    names = [n for _, ns in SECTIONS for n in ns] + ["lifecycle_stage", "unqualified_reason", "score",
                                                     "first_touch_campaign", "last_touch_campaign", "created_at"]
    can_edit = _can_edit(request, lead)
    qualification = progress(lead)
    transitions = list(lead.lifecycle_transitions.order_by("-created_at", "-id")[:20])
    attach(transitions, "actor")
    editable = set(INLINE_FIELDS) - hidden_fields(request.user, RT) - readonly_fields(request.user, RT) if can_edit else set()
    return render(request, "leads/lead_detail.html", {
        "lead": lead,
        "details": details_html(lead, display.detail_rows(lead, names, request.user), editable),
        "custom": display.custom_sections(lead, request.user),
        # The History tab loads when opened, unless the page opens on it.
        "history": field_history(lead, request.user) if request.GET.get("tab") == "history" else None,
        "can_edit": can_edit,
        "conversion_visible": _conversion_visible(request.user, lead) if lead.is_converted else set(),
        "can_delete": can_edit and request.user.can(RT, "delete"),
        "inline_fields": editable,
        "qualification": qualification,
        "stage_form": StageForm(initial={"stage": lead.lifecycle_stage}),
        "transitions": transitions,
        "touches": touches_for(lead),
        "can_convert": can_edit and lead.lifecycle_stage != LifecycleStage.UNQUALIFIED,
        "tab": request.GET.get("tab", "details"),
    })


@login_required
def lead_create(request):
    _require(request.user, "create")
    form = LeadCreateForm(request.POST or None, user=request.user, initial={"owner": request.user.pk})
    ctx = {"form": form}
    if request.method == "POST" and form.is_valid():
        dupes, hidden = duplicate_warning(request, records.get(RT), form)
        if (dupes or hidden) and not form.cleaned_data.get("confirm_duplicates"):
            ctx.update(duplicates=dupes, hidden_duplicates=hidden)
            return render(request, "leads/lead_form.html", ctx, status=409)
        lead = services.lead_create(actor=request.user, lead=form.instance,
                                    assign_by_rules=form.cleaned_data.get("assign_by_rules", False))
        messages.success(request, _("Lead %(name)s created.") % {"name": lead})
        return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", ctx, status=422 if request.method == "POST" else 200)


@login_required
def lead_edit(request, pk):
    lead = get_object_or_404(Lead.objects.visible_to(request.user, "edit"), pk=pk)
    _require(request.user, "edit")
    if lead.is_converted:
        raise Http404
    before = services.lead_snapshot(lead)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.lead_update(actor=request.user, lead=form.instance, before=before)
        messages.success(request, _("Lead %(name)s saved.") % {"name": lead})
        return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead}, status=422 if request.method == "POST" else 200)


@login_required
def lead_delete(request, pk):
    lead = get_object_or_404(Lead.objects.visible_to(request.user, "edit"), pk=pk)
    _require(request.user, "delete")
    if request.method == "POST":
        services.lead_delete(actor=request.user, lead=lead)
        messages.success(request, _("Lead %(name)s deleted.") % {"name": lead})
        return redirect("leads:list")
    return render(request, "leads/lead_confirm_delete.html", {"lead": lead})


@login_required
def lead_field(request, pk, name):
    """htmx: one field of the detail page, shown, edited in place and saved."""
    lead = _lead_for(request, pk)
    if name not in INLINE_FIELDS or name in hidden_fields(request.user, RT):
        raise Http404
    editable = _can_edit(request, lead) and name not in readonly_fields(request.user, RT)
    ctx = {"lead": lead, "name": name, "label": display.field_label(Lead, name),
           "value": display.field_html(lead, name), "editable": editable}
    if request.method == "GET" and request.GET.get("edit") != "1" or not editable:
        return render(request, "leads/_inline_field.html", ctx)
    before = services.lead_snapshot(lead)
    data = request.POST if request.method == "POST" else None
    form = LeadForm(data, instance=lead, user=request.user)
    for other in list(form.fields):
        if other != name:
            del form.fields[other]
    if request.method == "POST" and form.is_valid():
        services.lead_update(actor=request.user, lead=form.instance, before=before)
        lead = _lead_for(request, pk)
        ctx.update(lead=lead, value=display.field_html(lead, name), saved=True)
        return render(request, "leads/_inline_field.html", ctx)
    ctx["form"] = form
    return render(request, "leads/_inline_field.html", ctx, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def lead_stage(request, pk):
    lead = _lead_for(request, pk, "edit")
    _require(request.user, "edit")
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            services.lead_stage_set(actor=request.user, lead=lead, stage=form.cleaned_data["stage"],
                                    reason=form.cleaned_data["reason"])
            messages.success(request, _("Lifecycle stage is now %(stage)s.") % {
                "stage": LifecycleStage(form.cleaned_data["stage"]).label})
        except services.TransitionRefused as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Choose a lifecycle stage."))
    return redirect("leads:detail", pk=lead.pk)


@login_required
def lead_qualify(request, pk):
    lead = _lead_for(request, pk, "edit")
    _require(request.user, "edit")
    if lead.is_converted:
        raise Http404
    if request.method == "GET" and not request.htmx:  # the form is loaded into the lead page's tab
        return redirect(reverse("leads:detail", args=[lead.pk]) + "?tab=qualification")
    qualification = progress(lead)
    before = services.lead_snapshot(lead)
    form = QualificationForm(request.POST or None, instance=lead, framework=qualification.framework, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.lead_update(actor=request.user, lead=form.instance, before=before)
            lead = _lead_for(request, pk)
            qualification = progress(lead)
            form = QualificationForm(instance=lead, framework=qualification.framework, user=request.user)
            if not request.htmx:
                messages.success(request, _("Qualification saved."))
                return redirect(reverse("leads:detail", args=[lead.pk]) + "?tab=qualification")
        else:
            status = 422
    ctx = {"lead": lead, "qualification": qualification, "qualification_form": form, "can_edit": True,
           "saved": request.method == "POST" and status == 200}
    return render(request, "leads/_qualification.html", ctx, status=status)


def _conversion_candidates(request, lead):
    """Accounts and contacts the lead may already be, by their own duplicate rules, among those the user sees."""
    from accounts.selectors import conversion_candidates

    return conversion_candidates(user=request.user, company=lead.company, email=lead.email, phone=lead.phone,
                                 country=lead.country)


@login_required
def lead_convert_view(request, pk):
    lead = _lead_for(request, pk, "edit")
    _require(request.user, "edit")
    if lead.is_converted:
        messages.info(request, _("This lead is already converted."))
        return redirect("leads:detail", pk=lead.pk)
    accounts, contacts = _conversion_candidates(request, lead)
    form = ConvertForm(request.POST or None, accounts=accounts, contacts=contacts, initial={
        "account_choice": str(accounts[0].pk) if accounts else "new", "account_name": lead.company or lead.full_name,
        "contact_choice": str(contacts[0].pk) if contacts else "new",
        "opportunity_name": f"{lead.company or lead.full_name} – {lead.title or _('new business')}",
        "amount": lead.budget_amount or lead.champ_money})
    qualification = progress(lead)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account = next((a for a in accounts if str(a.pk) == data["account_choice"]), None)
        contact = next((c for c in contacts if str(c.pk) == data["contact_choice"]), None)
        try:
            result = lead_convert(
                actor=request.user, lead=lead, account=account, account_name=data["account_name"], contact=contact,
                create_opportunity=data["create_opportunity"], opportunity_name=data["opportunity_name"],
                amount=data["amount"], close_date=data["close_date"], stage=data["stage"])
        except (ConversionRefused, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Lead converted: account %(account)s, contact %(contact)s.") % {
                "account": result.account, "contact": result.contact})
            return redirect("accounts:detail", pk=result.account.pk)
    return render(request, "leads/lead_convert.html", {"lead": lead, "form": form, "qualification": qualification},
                  status=422 if request.method == "POST" else 200)
