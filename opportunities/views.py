"""Opportunity pages: detail (key facts, the clickable stage path, inline edit, contact roles, stage history,
the panels other parts plug in, the 360° timeline), create, edit, delete, and the move to another stage that the
stage path and the board share. The list is the shared list engine's (crm.lists), configured in
opportunities/records.py; the board is views_board.py. Every record is read through visibility (404 for what
the user may not see), every field through field-level security, every write through opportunities.services."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.rendering import details_html
from accounts.selectors import visible_ids
from crm.access.fls import hidden_fields, readonly_fields
from crm.core.forms import errors_to_form
from crm.core import display
from crm.core.formatting import format_money, ltr
from crm.core.services import recent_view_touch
from crm.core.urls_safe import safe_next
from opportunities import services
from opportunities.forms import ContactRoleForm, OpportunityForm
from opportunities.models import Opportunity, OpportunityContactRole, Stage

RT = "opportunities.opportunity"
DETAIL_FIELDS = ["name", "account", "contact", "opportunity_type", "pipeline", "stage", "amount", "currency",
                 "amount_corporate", "probability", "expected_revenue", "close_date", "lead_source", "campaign",
                 "next_step", "competitors", "loss_reason", "description", "owner", "created_at"]
INLINE = ["opportunity_type", "amount", "currency", "probability", "close_date", "lead_source", "next_step",
          "competitors", "owner"]
MONEY_IN_CORPORATE = ("amount_corporate", "expected_revenue")


# Kept by the database from the amount (and the probability): hidden wherever the amount is.
DERIVED_FROM_AMOUNT = ("amount_corporate", "expected_revenue")


def hidden_for(user) -> set[str]:
    """The fields hidden from `user` by field-level security, with the amounts that derive from a hidden amount."""
    hidden = set(hidden_fields(user, RT))
    if "amount" in hidden:
        hidden.update(DERIVED_FROM_AMOUNT)
    if "probability" in hidden:
        hidden.add("expected_revenue")
    return hidden


def _require(user, action: str) -> None:
    if not user.can(RT, action):
        raise Http404


def _editable(user, pk: int) -> bool:
    """May `user` edit the opportunity `pk`? Worked out once per request (the page's panels ask too)."""
    from crm.core.request_memo import memo

    return memo(("opportunities.editable", user.pk, pk),
                lambda: user.can(RT, "edit") and Opportunity.objects.visible_to(user, "edit").filter(pk=pk).exists())


def _form_status(request) -> int:
    return 422 if request.method == "POST" else 200


def _rows(opportunity: Opportunity, user) -> list:
    """The detail rows, with amounts in their currencies and the corporate ones in the corporate currency."""
    from django.conf import settings

    corporate = getattr(settings, "CORPORATE_CURRENCY", "EUR")
    rows = []
    hidden = hidden_for(user)
    for label, value, name in display.detail_rows(opportunity, DETAIL_FIELDS, user):
        if name in hidden:
            continue
        if name == "amount":
            value = ltr(format_money(opportunity.amount, opportunity.currency)) if opportunity.amount is not None else ""
        elif name in MONEY_IN_CORPORATE:
            amount = getattr(opportunity, name)
            value = ltr(format_money(amount, corporate)) if amount is not None else ""
        rows.append((label, value, name))
    return rows


def _stage_history(opportunity: Opportunity) -> list:
    """The stage changes, newest first, each with the days the deal had spent in the stage it left."""
    changes = list(opportunity.stage_changes.select_related("from_stage", "to_stage", "actor")
                   .order_by("created_at", "id"))
    previous = None
    for change in changes:
        change.days_before = (change.created_at - previous.created_at).days if previous is not None else None
        previous = change
    return list(reversed(changes))[:200]


@login_required
def opportunity_detail(request, pk):
    user = request.user
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(user).select_related("owner", "account", "contact", "pipeline", "stage",
                                                            "campaign", "loss_reason"),
        pk=pk,
    )
    recent_view_touch(user=user, record=opportunity)
    hidden = hidden_for(user)
    can_edit = _editable(user, pk)
    inline = set() if not can_edit else set(INLINE) - hidden - readonly_fields(user, RT)
    field_url = reverse("opportunities:field", args=[pk, "__name__"])
    can_view_contacts = user.can("accounts.contact", "view")
    roles = None
    if can_view_contacts:
        from accounts.models import Contact

        roles = list(opportunity.contact_roles.filter(contact__in=Contact.objects.visible_to(user).values("pk"))
                     .select_related("contact").order_by("-is_primary", "id"))
    return render(request, "opportunities/opportunity_detail.html", {
        "opportunity": opportunity,
        "hidden": hidden,
        "amount": format_money(opportunity.amount, opportunity.currency) if opportunity.amount is not None else "",
        "account_visible": opportunity.account_id in visible_ids(user=user, kind="account", ids=[opportunity.account_id]),
        "contact_visible": opportunity.contact_id in visible_ids(user=user, kind="contact", ids=[opportunity.contact_id]),
        "stages": [] if "stage" in hidden else list(Stage.objects.filter(pipeline_id=opportunity.pipeline_id)),
        "stage_path_editable": can_edit and "stage" not in readonly_fields(user, RT),
        "stage_changes": _stage_history(opportunity),
        "details": details_html(_rows(opportunity, user), inline, lambda name: field_url.replace("__name__", name)),
        "inline_fields": inline,
        "custom": display.custom_sections(opportunity, user),
        "can_edit": can_edit,
        "can_delete": can_edit and user.can(RT, "delete"),
        "roles": roles,
        "role_form": ContactRoleForm(user=user) if can_edit and can_view_contacts else None,
        "timeline_url": reverse("opportunities:timeline", args=[pk]),
    })


def _model_values(form) -> dict:
    instance = form.instance
    values = {f.name: getattr(instance, f.name) for f in instance._meta.concrete_fields
              if f.editable and not f.primary_key and f.name not in ("created_at", "updated_at", "created_by")}
    values["custom"] = dict(instance.custom or {})
    return values


@login_required
def opportunity_create(request):
    user = request.user
    _require(user, "create")
    initial = {"owner": user.pk}
    for name in ("account", "contact"):
        raw = request.GET.get(name, "")
        if raw.isascii() and raw.isdigit() and len(raw) < 19:
            initial[name] = int(raw)
    stage = services.default_open_stage()
    if stage is not None:
        initial.update(pipeline=stage.pipeline_id, stage=stage.pk, probability=stage.probability)
    form = OpportunityForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = _model_values(form)
        try:
            opportunity = services.opportunity_create(actor=user, **values)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Opportunity %(name)s created.") % {"name": opportunity})
            return redirect("opportunities:detail", pk=opportunity.pk)
    return render(request, "opportunities/opportunity_form.html", {"form": form}, status=_form_status(request))


@login_required
def opportunity_edit(request, pk):
    user = request.user
    _require(user, "edit")
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user, "edit"), pk=pk)
    before = services.snapshot(opportunity)
    form = OpportunityForm(request.POST or None, instance=opportunity, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(actor=user, opportunity=form.instance, before=before)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Opportunity %(name)s saved.") % {"name": opportunity})
            return redirect("opportunities:detail", pk=opportunity.pk)
    from django.conf import settings

    expected = ""
    if opportunity.expected_revenue is not None and "expected_revenue" not in hidden_for(user):
        expected = ltr(format_money(opportunity.expected_revenue, getattr(settings, "CORPORATE_CURRENCY", "EUR")))
    return render(request, "opportunities/opportunity_form.html", {"form": form, "opportunity": opportunity,
                                                                   "expected_revenue": expected},
                  status=_form_status(request))


@login_required
def opportunity_delete(request, pk):
    user = request.user
    _require(user, "delete")
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user, "edit"), pk=pk)
    if request.method == "POST":
        try:
            services.opportunity_delete(actor=user, opportunity=opportunity)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("opportunities:detail", pk=pk)
        messages.success(request, _("Opportunity %(name)s deleted.") % {"name": opportunity})
        return redirect("opportunities:list")
    return render(request, "accounts/confirm_delete.html", {
        "record": opportunity, "list_url": reverse("opportunities:list"), "list_label": _("Opportunities"),
        "question": _("Delete the opportunity %(name)s? Its stage history and contact roles go with it.")
        % {"name": opportunity}})


@login_required
def opportunity_field(request, pk, name):
    """htmx: one field of the detail page, shown, opened for editing, and saved (accounts' inline edit)."""
    user = request.user
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user), pk=pk)
    if name not in INLINE or name in hidden_fields(user, RT):
        raise Http404
    editable = _editable(user, pk) and name not in readonly_fields(user, RT)
    url = reverse("opportunities:field", args=[pk, name])
    context = {"record": opportunity, "name": name, "label": display.field_label(Opportunity, name), "url": url,
               "value": _field_value(opportunity, name, user), "editable": editable}
    if not editable or request.method == "GET" and request.GET.get("edit") != "1":
        return render(request, "accounts/_inline_field.html", context)
    before = services.snapshot(opportunity)
    form = OpportunityForm(request.POST if request.method == "POST" else None, instance=opportunity, user=user)
    form.only(name)
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(actor=user, opportunity=form.instance, before=before)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            opportunity = Opportunity.objects.get(pk=pk)
            context.update(record=opportunity, value=_field_value(opportunity, name, user), saved=True)
            return render(request, "accounts/_inline_field.html", context)
    context["form"] = form
    return render(request, "accounts/_inline_field.html", context, status=_form_status(request))


def _field_value(opportunity, name: str, user):
    for _label, value, row_name in _rows(opportunity, user):
        if row_name == name:
            return value
    return ""


@login_required
def opportunity_timeline(request, pk):
    from accounts.views import _timeline

    opportunity = get_object_or_404(Opportunity.objects.visible_to(request.user), pk=pk)
    return _timeline(request, opportunity, reverse("opportunities:timeline", args=[pk]))


# --- moving to a stage (the stage path and the board) ----------------------------------------------------------

class MoveRefused(Exception):
    """A move the user may not make (no edit right, a lock, a field they may not write): the message says why."""


def stage_prompt(*, user, opportunity: Opportunity, stage: Stage, data=None) -> OpportunityForm | None:
    """The form that asks for what `stage` requires and `opportunity` leaves empty, or None when nothing is
    missing. MoveRefused when a missing field is one the user may not write."""
    missing = services.missing_for_stage(opportunity, stage)
    if not missing:
        return None
    form = OpportunityForm(data, instance=opportunity, user=user, prefix="ask")
    form.only(*missing)
    kept = {n if not n.startswith("cf_") else "custom." + n.removeprefix("cf_") for n, f in form.fields.items()
            if not f.disabled}
    blocked = [n for n in missing if n not in kept]
    if blocked:
        raise MoveRefused(_("The stage “%(stage)s” needs %(fields)s, which you may not fill in. Ask someone who "
                            "may.") % {"stage": stage, "fields": ", ".join(services.field_label(n) for n in blocked)})
    for field in form.fields.values():
        field.required = True
    return form


def move(*, user, opportunity: Opportunity, stage: Stage, data) -> tuple[bool, OpportunityForm | None]:
    """Move `opportunity` (read for editing) to `stage` with the posted answers `data` to the stage's prompt.
    (True, None) when moved; (False, form) when the stage asks for fields; MoveRefused when refused."""
    if stage.pk == opportunity.stage_id:
        return True, None
    reason = _lock(opportunity, user)
    if reason:
        raise MoveRefused(reason)
    before = services.snapshot(opportunity)
    form = stage_prompt(user=user, opportunity=opportunity, stage=stage,
                        data=data if data.get("answering") == str(stage.pk) else None)
    if form is not None and not form.is_valid():
        return False, form
    target = form.instance if form is not None else opportunity
    target.pipeline_id, target.stage = stage.pipeline_id, stage
    try:
        services.opportunity_update(actor=user, opportunity=target, before=before)
    except services.StageRequires as exc:
        form = stage_prompt(user=user, opportunity=Opportunity.objects.get(pk=opportunity.pk), stage=stage)
        if form is None:
            raise MoveRefused(" ".join(exc.messages)) from exc
        errors_to_form(form, exc)
        return False, form
    except ValidationError as exc:
        raise MoveRefused(" ".join(exc.messages)) from exc
    return True, None


def _lock(opportunity, user) -> str | None:
    from crm.core.locks import lock_reason

    return lock_reason(opportunity, user)


def editable_or_refuse(user, pk: int) -> Opportunity:
    """The opportunity for a move: 404 when the user may not see it, MoveRefused when they may not edit it."""
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user).select_related("stage", "pipeline"), pk=pk)
    if not _editable(user, pk) or "stage" in hidden_fields(user, RT) or "stage" in readonly_fields(user, RT):
        raise MoveRefused(_("You may not change the stage of “%(name)s”.") % {"name": opportunity})
    return Opportunity.objects.select_related("stage", "pipeline").get(pk=pk)


@login_required
@require_POST
def opportunity_move(request, pk):
    """The stage path's buttons: move, or ask for the fields the stage needs (inline, htmx; a page without)."""
    user = request.user
    get_object_or_404(Opportunity.objects.visible_to(user), pk=pk)
    detail = reverse("opportunities:detail", args=[pk])
    try:
        opportunity = editable_or_refuse(user, pk)
        stage = get_object_or_404(Stage, pk=_int(request.POST.get("stage")), pipeline_id=opportunity.pipeline_id)
        moved, form = move(user=user, opportunity=opportunity, stage=stage, data=request.POST)
    except MoveRefused as exc:
        messages.error(request, str(exc))
        return _back(request, detail)
    if moved:
        messages.success(request, _("“%(name)s” moved to %(stage)s.") % {"name": opportunity, "stage": stage})
        return _back(request, detail)
    context = {"opportunity": opportunity, "stage": stage, "ask_form": form,
               "action": reverse("opportunities:move", args=[pk]), "target": "#stage-ask", "cancel_url": detail}
    if request.htmx:
        return render(request, "opportunities/_stage_ask.html", context)
    return render(request, "opportunities/stage_ask.html", context)


def _back(request, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _int(raw) -> int | None:
    raw = str(raw or "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


# --- contact roles ---------------------------------------------------------------------------------------------

@login_required
@require_POST
def opportunity_roles(request, pk):
    """Add a contact's buying role on this opportunity (the contact picked among those the user may see)."""
    user = request.user
    _require(user, "edit")
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user, "edit"), pk=pk)
    form = ContactRoleForm(request.POST, user=user)
    back = reverse("opportunities:detail", args=[pk])
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    reason = _lock(opportunity, user)
    if reason:
        messages.error(request, reason)
        return redirect(back)
    contact, role = form.cleaned_data["contact"], form.cleaned_data["role"]
    try:
        with transaction.atomic():
            if form.cleaned_data["is_primary"]:
                opportunity.contact_roles.filter(is_primary=True).update(is_primary=False)
            created = OpportunityContactRole.objects.create(opportunity=opportunity, contact=contact, role=role,
                                                            is_primary=form.cleaned_data["is_primary"])
            if created.is_primary:
                _primary_contact(user, opportunity, contact)
    except IntegrityError:
        messages.error(request, _("%(contact)s already has this role on the opportunity.") % {"contact": contact})
    else:
        messages.success(request, _("%(contact)s is %(role)s on %(opportunity)s.") % {
            "contact": contact, "role": created.get_role_display(), "opportunity": opportunity})
    return redirect(back)


def _primary_contact(user, opportunity: Opportunity, contact) -> None:
    """The primary role's contact becomes the opportunity's primary contact (through the service: audited)."""
    if opportunity.contact_id == contact.pk:
        return
    fresh = Opportunity.objects.get(pk=opportunity.pk)
    before = services.snapshot(fresh)
    fresh.contact = contact
    services.opportunity_update(actor=user, opportunity=fresh, before=before)


def _role_for(request, pk: int) -> OpportunityContactRole:
    from accounts.models import Contact

    user = request.user
    _require(user, "edit")
    return get_object_or_404(
        OpportunityContactRole.objects.select_related("contact", "opportunity")
        .filter(opportunity__in=Opportunity.objects.visible_to(user, "edit").values("pk"),
                contact__in=Contact.objects.visible_to(user).values("pk")), pk=pk)


@login_required
@require_POST
def role_primary(request, pk):
    role = _role_for(request, pk)
    reason = _lock(role.opportunity, request.user)
    if reason:
        messages.error(request, reason)
    else:
        with transaction.atomic():
            OpportunityContactRole.objects.filter(opportunity_id=role.opportunity_id, is_primary=True).update(
                is_primary=False)
            OpportunityContactRole.objects.filter(pk=role.pk).update(is_primary=True)
            _primary_contact(request.user, role.opportunity, role.contact)
        messages.success(request, _("%(contact)s is the primary contact of %(opportunity)s.") % {
            "contact": role.contact, "opportunity": role.opportunity})
    return redirect(safe_next(request, reverse("opportunities:detail", args=[role.opportunity_id])))


@login_required
@require_POST
def role_remove(request, pk):
    role = _role_for(request, pk)
    reason = _lock(role.opportunity, request.user)
    if reason:
        messages.error(request, reason)
    else:
        role.delete()
        messages.success(request, _("Role removed."))
    return redirect(safe_next(request, reverse("opportunities:detail", args=[role.opportunity_id])))
