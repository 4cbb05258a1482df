"""Settings pages of workflow rules (admins with the customization right): the rules, their editor and
versions, "Test this rule" and its replay, "apply to existing records", the execution log, Failed runs with
Retry, and the health panel. Views parse, call a service or the engine, and render."""
from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.settings_views import client_ip, paginate, render_settings, right_required
from crm.automation import engine, rule_services
from crm.automation.actions import describe_action
from crm.automation.models_rules import ActionRun, AutomationSettings, RuleRun, Trigger, WorkflowRule
from crm.automation.rule_forms import (
    ActionsEditor,
    AutomationSettingsForm,
    FailedRunFilter,
    RecordTypeForm,
    ReplayForm,
    RuleForm,
    RuleRunFilter,
    TestRecordForm,
)
from crm.core import conditions, records
from crm.core.forms import errors_to_form

RIGHT = "manage_customization"


def trigger_text(version, record_type: str) -> str:
    """The trigger in words: "When Rating changes", "2 days after Close date"."""
    if version is None:
        return ""
    if version.trigger == Trigger.FIELD_CHANGED:
        field = conditions.fields_for(record_type).get(version.trigger_field)
        return _("When %(field)s changes") % {"field": field.label if field else version.trigger_field}
    if version.trigger == Trigger.TIME_BASED:
        label = dict(engine.time_fields(record_type)).get(version.trigger_field, version.trigger_field)
        if not version.offset_amount:
            return _("At %(field)s") % {"field": label}
        return _("%(amount)s %(unit)s %(direction)s %(field)s") % {
            "amount": version.offset_amount, "unit": version.get_offset_unit_display(),
            "direction": version.get_offset_direction_display(), "field": label}
    return version.get_trigger_display()


def _type_label(key: str) -> str:
    try:
        return str(records.get(key).label_plural)
    except KeyError:
        return key


@right_required(RIGHT)
def rule_list(request):
    last_run = RuleRun.objects.filter(rule=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    rules = list(WorkflowRule.objects.select_related("current_version").annotate(last_run=Subquery(last_run)))
    rows = [{"rule": r, "type": _type_label(r.record_type), "trigger": trigger_text(r.current_version, r.record_type),
             "criteria": conditions.describe(r.current_version.criteria, r.record_type) if r.current_version else "",
             "actions": [describe_action(a, r.record_type) for a in (r.current_version.actions if r.current_version
                                                                      else [])]} for r in rules]
    return render_settings(request, "automation/rules/list.html", {"rows": rows}, section="workflow_rules")


@right_required(RIGHT)
def rule_create(request):
    record_type = request.GET.get("record_type") or request.POST.get("record_type") or ""
    try:
        records.get(record_type)
    except KeyError:
        return render_settings(request, "automation/rules/pick_type.html", {"form": RecordTypeForm()},
                               section="workflow_rules")
    return _rule_form(request, None, record_type)


@right_required(RIGHT)
def rule_edit(request, pk):
    rule = get_object_or_404(WorkflowRule.objects.select_related("current_version"), pk=pk)
    return _rule_form(request, rule, rule.record_type)


def _rule_form(request, rule, record_type: str):
    if request.method == "POST":
        form = RuleForm(request.POST, record_type=record_type)
        editor = ActionsEditor(request.POST, record_type=record_type)
        if not request.POST.get("add") and form.is_valid() and editor.is_valid():
            fields = form.cleaned_data
            try:
                if rule is None:
                    rule = rule_services.rule_create(
                        actor=request.user, record_type=record_type, name=fields["name"],
                        description=fields["description"], order=fields["order"] or 0,
                        is_active=fields["is_active"], spec=form.spec(editor.configs()), ip=client_ip(request))
                else:
                    rule = rule_services.rule_update(
                        actor=request.user, rule=rule, name=fields["name"], description=fields["description"],
                        order=fields["order"] or 0, is_active=fields["is_active"], spec=form.spec(editor.configs()),
                        ip=client_ip(request))
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Workflow rule saved (version %(n)s).") % {
                    "n": rule.current_version.number})
                return redirect("automation:rule_edit", rule.pk)
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule) if rule else None, record_type=record_type)
        editor = ActionsEditor(record_type=record_type,
                               actions=rule.current_version.actions if rule and rule.current_version else [])
    versions = []
    if rule is not None:
        versions = [{"version": v, "trigger": trigger_text(v, rule.record_type),
                     "criteria": conditions.describe(v.criteria, rule.record_type),
                     "actions": [describe_action(a, rule.record_type) for a in v.actions or []],
                     "runs": v.run_count}
                    for v in rule.versions.select_related("created_by").annotate(run_count=Count("runs"))[:20]]
    return render_settings(request, "automation/rules/form.html", {
        "form": form, "editor": editor, "rule": rule, "record_type": record_type,
        "record_type_label": _type_label(record_type), "versions": versions,
    }, section="workflow_rules")


@right_required(RIGHT)
@require_POST
def rule_toggle(request, pk):
    rule = get_object_or_404(WorkflowRule, pk=pk)
    rule = rule_services.rule_set_active(actor=request.user, rule=rule, active=not rule.is_active, ip=client_ip(request))
    messages.success(request, _("The rule is active.") if rule.is_active else _("The rule is inactive."))
    return redirect(request.POST.get("next") or "automation:rule_list")


@right_required(RIGHT)
@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(WorkflowRule, pk=pk)
    rule_services.rule_delete(actor=request.user, rule=rule, ip=client_ip(request))
    messages.success(request, _("Workflow rule deleted."))
    return redirect("automation:rule_list")


def _find_records(rule, user, text: str, limit: int = 20) -> list:
    rt = records.get(rule.record_type)
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
def rule_test(request, pk):
    """Without changing anything: would the rule fire on this record, each criterion's outcome, what it would do;
    and how often it would have fired in the last N days."""
    rule = get_object_or_404(WorkflowRule.objects.select_related("current_version"), pk=pk)
    version = rule.current_version
    if request.GET.get("version"):
        version = get_object_or_404(rule.versions, number=request.GET["version"])
    if version is None:
        raise Http404
    search = TestRecordForm(request.GET if "q" in request.GET else None)
    found, result, record, replay = [], None, None, None
    if search.is_valid():
        found = _find_records(rule, request.user, search.cleaned_data["q"])
    if request.GET.get("record", "").isdigit():
        record = next(iter(_find_records(rule, request.user, request.GET["record"])), None)
        if record is not None and record.pk == int(request.GET["record"]):
            result = engine.dry_run(rule, version, record)
        else:
            record = None
    replay_form = ReplayForm(request.GET if "days" in request.GET else None)
    if replay_form.is_valid():
        replay = engine.replay_count(rule, version, days=replay_form.cleaned_data["days"])
    return render_settings(request, "automation/rules/test.html", {
        "rule": rule, "version": version, "search": search, "found": found, "record": record, "result": result,
        "replay_form": replay_form, "replay": replay, "trigger": trigger_text(version, rule.record_type),
        "record_url": records.get(rule.record_type).detail_url(record.pk) if record is not None else "",
    }, section="workflow_rules")


@right_required(RIGHT)
def rule_apply(request, pk):
    """A time-based rule's "apply to existing records": the count first, then the confirmation."""
    rule = get_object_or_404(WorkflowRule.objects.select_related("current_version"), pk=pk)
    if rule.current_version is None or rule.current_version.trigger != Trigger.TIME_BASED:
        raise Http404
    if request.method == "POST":
        try:
            rule_services.rule_apply_to_existing(actor=request.user, rule=rule, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The rule is being applied to the existing records; their runs show in "
                                        "the log within a minute or two."))
        return redirect("automation:rule_edit", rule.pk)
    return render_settings(request, "automation/rules/apply.html", {
        "rule": rule, "count": engine.past_due_count(rule), "trigger": trigger_text(rule.current_version,
                                                                                    rule.record_type),
    }, section="workflow_rules")


@right_required(RIGHT)
def run_list(request):
    queryset = RuleRun.objects.select_related("rule", "version").order_by("-created_at", "-pk")
    if request.GET.get("record_type") and request.GET.get("record_id", "").isdigit():
        try:
            model = records.get(request.GET["record_type"]).model
        except KeyError:
            raise Http404 from None
        queryset = queryset.filter(content_type=ContentType.objects.get_for_model(model),
                                   object_id=int(request.GET["record_id"]))
    filterset = RuleRunFilter(request.GET, queryset=queryset)
    page, query = paginate(request, filterset.qs)
    for run in page:
        run.record_url = records.detail_url_of(run.content_type_id, run.object_id)
    return render_settings(request, "automation/rules/runs.html", {"filter": filterset, "page": page, "query": query},
                           section="automation_health")


@right_required(RIGHT)
def run_detail(request, pk):
    run = get_object_or_404(RuleRun.objects.select_related("rule", "version"), pk=pk)
    actions = list(run.action_runs.order_by("index"))
    configs = run.version.actions or []
    for action_run in actions:
        config = configs[action_run.index] if action_run.index < len(configs) else {}
        action_run.description = describe_action(config, run.rule.record_type)
    return render_settings(request, "automation/rules/run_detail.html", {
        "run": run, "actions": actions, "record_url": records.detail_url_of(run.content_type_id, run.object_id),
        "trigger": trigger_text(run.version, run.rule.record_type),
    }, section="automation_health")


@right_required(RIGHT)
def failed_runs(request):
    queryset = (ActionRun.objects.filter(status=ActionRun.Status.FAILED).select_related("run", "run__rule")
                .order_by("-finished_at", "-pk"))
    filterset = FailedRunFilter(request.GET, queryset=queryset)
    page, query = paginate(request, filterset.qs)
    from crm.automation.models_autoresponders import AutoResponse
    from crm.automation.models_escalations import EscalationDue

    # The other automation that fails on its own rows: pointed to here, so one screen says what needs a look.
    elsewhere = {"escalations": EscalationDue.objects.filter(state=EscalationDue.State.FAILED).count(),
                 "responses": AutoResponse.objects.filter(outcome=AutoResponse.Outcome.FAILED).count()}
    return render_settings(request, "automation/rules/failed.html", {"filter": filterset, "page": page, "query": query,
                                                                     "elsewhere": elsewhere},
                           section="automation_health")


@right_required(RIGHT)
@require_POST
def action_retry(request, pk):
    action_run = get_object_or_404(ActionRun, pk=pk)
    engine.action_run_retry(action_run=action_run, actor=request.user)
    messages.success(request, _("The action will run again in a moment."))
    return redirect(request.POST.get("next") or "automation:failed_runs")


@right_required(RIGHT)
def health(request):
    settings_row = AutomationSettings.get()
    form = AutomationSettingsForm(request.POST or None, initial={"log_retention_days": settings_row.log_retention_days})
    if request.method == "POST" and form.is_valid():
        from crm.access.models import AuditLog
        from crm.access.services import audit

        before = settings_row.log_retention_days
        settings_row.log_retention_days = form.cleaned_data["log_retention_days"]
        settings_row.save()
        audit(actor=request.user, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=settings_row,
              ip=client_ip(request), data={"what": "automation_settings", "log_retention_days":
                                           [before, settings_row.log_retention_days]})
        messages.success(request, _("Automation settings saved."))
        return redirect("automation:health")
    since = timezone.now() - timedelta(days=7)
    outcomes = dict(RuleRun.objects.filter(created_at__gte=since).values_list("outcome").annotate(n=Count("pk"))
                    .values_list("outcome", "n"))
    return render_settings(request, "automation/rules/health.html", {
        "health": engine.health(), "form": form,
        "outcomes": [(label, outcomes.get(value, 0)) for value, label in RuleRun.Outcome.choices],
    }, section="automation_health")


def record_panel(request, record):
    """On a record's page, for admins: the rules of its type with "why did / didn't it fire?" (the test page on
    this record: each criterion's outcome) and its latest runs."""
    if not request.user.has_right(RIGHT):
        return None
    key = records.key_of(record)
    rules = engine.active_rules(key)
    runs = list(RuleRun.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
                .select_related("rule").order_by("-created_at")[:5])
    if not rules and not runs:
        return None
    return {"automation_rules": rules, "automation_runs": runs, "automation_record_type": key}
