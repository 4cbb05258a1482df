"""Settings pages for leads (admins with the customization right): qualification
policies, scoring rules and assignment rules. All audited."""
from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access.models import AuditLog, Team, User
from crm.access.services import audit
from crm.access.settings_views import render_settings, right_required
from crm.core.middleware import client_ip
from crm.core.forms import ConditionField
from leads.models import AssignmentRule, Framework, Lead, LifecycleStage, QualificationPolicy, ScoringRule
from leads.qualification import CRITERIA, default_criteria
from leads.records import RULE_FIELDS
from leads.tasks import lead_score_many_task

RIGHT = "manage_customization"


def _audit(request, what: str, obj, data: dict):
    audit(actor=request.user, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=obj, ip=client_ip(request),
          data={"what": what, **data})


# --- qualification -------------------------------------------------------------------------------------------

class PolicyForm(forms.Form):
    framework = forms.ChoiceField(label=gettext_lazy("Framework"), choices=Framework.choices)

    def __init__(self, *args, policy: QualificationPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["framework"] = policy.framework
        current = {**default_criteria(policy.framework), **(policy.criteria or {})}
        self.criteria = []
        for framework, criteria in CRITERIA.items():
            for c in criteria:
                conf = current.get(c.key, default_criteria(framework)[c.key])
                self.fields[f"{c.key}_points"] = forms.IntegerField(label=gettext_lazy("Points"), min_value=0,
                                                                    max_value=1000, initial=conf.get("points", 25))
                self.fields[f"{c.key}_sql"] = forms.BooleanField(label=gettext_lazy("Needed for SQL"), required=False,
                                                                 initial=conf.get("sql", True))
                self.fields[f"{c.key}_convert"] = forms.BooleanField(label=gettext_lazy("Needed for conversion"),
                                                                     required=False, initial=conf.get("convert", True))
                self.criteria.append((framework, c))

    def rows(self):
        return [{"framework": f, "criterion": c, "points": self[f"{c.key}_points"], "sql": self[f"{c.key}_sql"],
                 "convert": self[f"{c.key}_convert"]} for f, c in self.criteria]

    def criteria_json(self) -> dict:
        framework = self.cleaned_data["framework"]
        return {c.key: {"points": self.cleaned_data[f"{c.key}_points"], "sql": self.cleaned_data[f"{c.key}_sql"],
                        "convert": self.cleaned_data[f"{c.key}_convert"]} for c in CRITERIA[framework]}


@right_required(RIGHT)
def qualification_settings(request):
    team = get_object_or_404(Team, pk=request.GET["team"]) if request.GET.get("team") else None
    policy = QualificationPolicy.objects.filter(team=team).first() or QualificationPolicy(
        team=team, framework=Framework.BANT, criteria=default_criteria(Framework.BANT))
    form = PolicyForm(request.POST or None, policy=policy, prefix="p")
    if request.method == "POST":
        if request.POST.get("remove") and policy.pk and team is not None:
            policy.delete()
            _audit(request, "qualification_policy_removed", team, {"team": team.name})
            messages.success(request, _("Team %(team)s now follows the global policy.") % {"team": team})
            return redirect("leads:setup_qualification")
        if form.is_valid():
            policy.framework = form.cleaned_data["framework"]
            policy.criteria = form.criteria_json()
            policy.save()
            _audit(request, "qualification_policy", policy, {"team": team.name if team else None,
                                                            "framework": policy.framework, "criteria": policy.criteria})
            messages.success(request, _("Qualification policy saved."))
            return redirect(request.get_full_path())
    return render_settings(request, "leads/setup/qualification.html", {
        "form": form, "policy": policy, "team": team, "teams": Team.objects.order_by("name"),
        "team_policies": QualificationPolicy.objects.filter(team__isnull=False).select_related("team"),
    }, section="lead_qualification")


# --- scoring -------------------------------------------------------------------------------------------------

class ScoringRuleForm(forms.ModelForm):
    conditions = ConditionField(label=gettext_lazy("The lead matches"), record_type="leads.lead", sql=True,
                                names=RULE_FIELDS)

    class Meta:
        model = ScoringRule
        fields = ["name", "kind", "conditions", "engagement", "within_days", "points", "max_points", "order", "is_active"]

    def clean(self):
        from crm.core.conditions import leaves

        data = super().clean()
        kind = data.get("kind")
        if kind == ScoringRule.Kind.FIT:
            if "conditions" in data and not leaves(data["conditions"]):
                self.add_error("conditions", _("A fit rule needs at least one condition."))
        else:
            data["conditions"] = {}
        if kind == ScoringRule.Kind.ENGAGEMENT and not data.get("engagement"):
            self.add_error("engagement", _("Choose what the rule counts."))
        elif kind == ScoringRule.Kind.DECAY and not data.get("within_days"):
            self.add_error("within_days", _("Give the length of one period in days."))
        return data


@right_required(RIGHT)
def scoring_rules(request):
    return render_settings(request, "leads/setup/scoring_list.html", {
        "rules": ScoringRule.objects.all()}, section="lead_scoring")


@right_required(RIGHT)
def scoring_rule_edit(request, pk=None):
    return _rule_edit(
        request, get_object_or_404(ScoringRule, pk=pk) if pk else ScoringRule(), ScoringRuleForm,
        list_url="leads:setup_scoring", template="leads/setup/scoring_form.html", section="lead_scoring",
        audit_action="scoring_rule", audit_data=lambda r: {"name": r.name, "kind": r.kind, "points": r.points},
        saved=_("Scoring rule saved. Use “Recompute all scores” to apply it to existing leads."),
        deleted=_("Scoring rule deleted. Scores change as leads are recomputed."))


def _rule_edit(request, rule, form_class, *, list_url, template, section, audit_action, audit_data, saved, deleted):
    """Create, edit or delete one scoring or assignment rule; every change is audited."""
    if request.method == "POST" and request.POST.get("delete") and rule.pk:
        _audit(request, f"{audit_action}_deleted", rule, {"name": rule.name})
        rule.delete()
        messages.success(request, deleted)
        return redirect(list_url)
    form = form_class(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        _audit(request, audit_action, rule, audit_data(rule))
        messages.success(request, saved)
        return redirect(list_url)
    return render_settings(request, template, {"form": form, "rule": rule}, section=section)


@right_required(RIGHT)
def scoring_rescore(request):
    """Queue a recomputation of every open lead (workers do it in the background)."""
    if request.method != "POST":
        return redirect("leads:setup_scoring")
    ids = list(Lead.objects.exclude(lifecycle_stage=LifecycleStage.CONVERTED).values_list("pk", flat=True))
    # One message for all of them: a worker splits it into batches (one task per lead flooded the queue).
    transaction.on_commit(lambda: lead_score_many_task.delay(ids))
    messages.info(request, _("%(count)s leads queued for rescoring.") % {"count": len(ids)})
    return redirect("leads:setup_scoring")


# --- assignment ----------------------------------------------------------------------------------------------

class AssignmentRuleForm(forms.ModelForm):
    conditions = ConditionField(label=gettext_lazy("Only leads that match (empty: every lead)"),
                                record_type="leads.lead", sql=True, names=RULE_FIELDS)

    class Meta:
        model = AssignmentRule
        fields = ["name", "order", "is_active", "conditions", "target", "user", "team", "countries"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True)

    def clean_countries(self):
        codes = [c.strip().upper() for c in self.cleaned_data.get("countries", "").split(",") if c.strip()]
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise forms.ValidationError(_("Use two-letter country codes: %(bad)s is not one.") % {"bad": ", ".join(bad)})
        return ", ".join(codes)

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == AssignmentRule.Target.USER and not data.get("user"):
            self.add_error("user", _("Choose the user."))
        if target in (AssignmentRule.Target.ROUND_ROBIN, AssignmentRule.Target.TERRITORY) and not data.get("team"):
            self.add_error("team", _("Choose the team whose members take turns."))
        if target == AssignmentRule.Target.TERRITORY and not data.get("countries"):
            self.add_error("countries", _("List the countries of the territory."))
        return data


@right_required(RIGHT)
def assignment_rules(request):
    return render_settings(request, "leads/setup/assignment_list.html", {
        "rules": AssignmentRule.objects.select_related("user", "team")}, section="lead_assignment")


@right_required(RIGHT)
def assignment_rule_edit(request, pk=None):
    return _rule_edit(
        request, get_object_or_404(AssignmentRule, pk=pk) if pk else AssignmentRule(), AssignmentRuleForm,
        list_url="leads:setup_assignment", template="leads/setup/assignment_form.html", section="lead_assignment",
        audit_action="assignment_rule",
        audit_data=lambda r: {"name": r.name, "target": r.target, "conditions": r.conditions},
        saved=_("Assignment rule saved."), deleted=_("Assignment rule deleted."))
