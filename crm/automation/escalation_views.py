"""Settings pages of escalation rules (admins with the customization right, as the workflow-rule pages): the
list with each rule's waiting rows and firings of the last 30 days, the editor (criteria and stop condition with
the condition builder, levels with the workflow rules' action forms), activate, delete, "apply to existing
records" with its count first, and the searchable log of waiting, fired, failed and cancelled escalations with
Retry for failed ones. Views parse, call crm.automation.escalations, and render."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.access.settings_views import client_ip, paginate, render_settings, right_required
from crm.automation import escalations as service
from crm.automation.actions import describe_action
from crm.automation.escalation_forms import EscalationDueFilter, EscalationRuleForm, EscalationTypeForm, LevelsEditor
from crm.automation.models_escalations import EscalationDue, EscalationRule
from crm.automation.rule_views import RIGHT
from crm.core import conditions, records
from crm.core.forms import errors_to_form

SECTION = "escalations"


def _type_label(key: str) -> str:
    rt = records.find(key)
    return str(rt.label_plural) if rt is not None else key


def after_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("after %(n)s business hour", "after %(n)s business hours", hours) % {"n": hours}
    return ngettext("after %(n)s business minute", "after %(n)s business minutes", minutes) % {"n": minutes}


def _levels(rule) -> list[dict]:
    return [{"level": lv, "after": after_text(lv.after_minutes),
             "actions": [describe_action(a, rule.record_type) for a in lv.actions or []]}
            for lv in sorted(rule.levels.all(), key=lambda lv: lv.number)]


@right_required(RIGHT)
def escalation_list(request):
    rows = []
    for rule in service.rule_rows():
        known = records.find(rule.record_type) is not None
        rows.append({"rule": rule, "type": _type_label(rule.record_type), "levels": _levels(rule) if known else [],
                     "criteria": conditions.describe(rule.criteria, rule.record_type) if known else ""})
    return render_settings(request, "automation/escalations/list.html", {"rows": rows}, section=SECTION)


@right_required(RIGHT)
def escalation_create(request):
    record_type = request.GET.get("record_type") or request.POST.get("record_type") or ""
    if records.find(record_type) is None:
        return render_settings(request, "automation/escalations/pick_type.html", {"form": EscalationTypeForm()},
                               section=SECTION)
    return _form(request, None, record_type)


@right_required(RIGHT)
def escalation_edit(request, pk):
    rule = get_object_or_404(EscalationRule.objects.prefetch_related("levels"), pk=pk)
    return _form(request, rule, rule.record_type)


def _form(request, rule, record_type: str):
    if request.method == "POST":
        form = EscalationRuleForm(request.POST, record_type=record_type)
        editor = LevelsEditor(request.POST, record_type=record_type)
        adding = bool(request.POST.get("add_level")) or editor.adding
        if not adding and form.is_valid() and editor.is_valid():
            try:
                rule = service.escalation_rule_save(actor=request.user, record_type=record_type, rule=rule,
                                                    levels=editor.levels(), ip=client_ip(request), **form.values())
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Escalation rule saved. Matching records are being planned."))
                return redirect("automation:escalation_edit", rule.pk)
    else:
        form = EscalationRuleForm(initial=EscalationRuleForm.initial_for(rule) if rule else None,
                                  record_type=record_type)
        editor = LevelsEditor(record_type=record_type, levels=list(rule.levels.all()) if rule else None)
    return render_settings(request, "automation/escalations/form.html", {
        "form": form, "editor": editor, "rule": rule, "record_type": record_type,
        "record_type_label": _type_label(record_type),
    }, section=SECTION)


@right_required(RIGHT)
@require_POST
def escalation_toggle(request, pk):
    rule = get_object_or_404(EscalationRule, pk=pk)
    rule = service.escalation_rule_set_active(actor=request.user, rule=rule, active=not rule.is_active,
                                              ip=client_ip(request))
    messages.success(request, _("The escalation rule is active.") if rule.is_active
                     else _("The escalation rule is inactive; its waiting escalations are cancelled."))
    return redirect("automation:escalation_list")


@right_required(RIGHT)
@require_POST
def escalation_delete(request, pk):
    rule = get_object_or_404(EscalationRule, pk=pk)
    service.escalation_rule_delete(actor=request.user, rule=rule, ip=client_ip(request))
    messages.success(request, _("Escalation rule deleted."))
    return redirect("automation:escalation_list")


@right_required(RIGHT)
def escalation_apply(request, pk):
    """"Apply to existing records": how many levels already past would fire, then the confirmation."""
    rule = get_object_or_404(EscalationRule.objects.prefetch_related("levels"), pk=pk)
    if request.method == "POST":
        try:
            service.escalation_apply_to_existing(actor=request.user, rule=rule, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The rule is being applied to the existing records; what is overdue fires "
                                        "within a minute or two."))
        return redirect("automation:escalation_edit", rule.pk)
    return render_settings(request, "automation/escalations/apply.html", {
        "rule": rule, "count": service.past_due_count(rule)}, section=SECTION)


@right_required(RIGHT)
def escalation_log(request):
    queryset = EscalationDue.objects.select_related("rule", "level").order_by("-due_at", "-pk")
    filterset = EscalationDueFilter(request.GET, queryset=queryset)
    page, query = paginate(request, filterset.qs)
    for row in page:
        row.record_url = records.detail_url_of(row.content_type_id, row.object_id)
    return render_settings(request, "automation/escalations/log.html",
                           {"filter": filterset, "page": page, "query": query}, section=SECTION)


@right_required(RIGHT)
@require_POST
def escalation_retry(request, pk):
    due = get_object_or_404(EscalationDue, pk=pk)
    if service.escalation_retry(actor=request.user, due=due, ip=client_ip(request)):
        messages.success(request, _("The failed actions will run again within a minute."))
    return redirect("automation:escalation_log")


def record_panel(request, record):
    """On a record's page, for admins: its waiting and fired escalations."""
    if not request.user.has_right(RIGHT):
        return None
    dues = service.record_dues(record)
    if not dues:
        return None
    return {"escalation_dues": dues}
