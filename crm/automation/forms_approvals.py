"""Forms of the approvals pages and of Settings → Approval processes."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.models_approvals import ApprovalProcess, ApprovalStep
from crm.core import conditions
from crm.core.forms import ConditionField

UPDATES_HELP = gettext_lazy("One per line: field = value (for example: stage = 7). Empty: none.")


class FieldUpdatesField(forms.CharField):
    """A process's field updates as "field = value" lines, stored as [{"field", "value"}]."""

    widget = forms.Textarea(attrs={"rows": 2, "class": "font-monospace"})

    def __init__(self, *, record_type: str, **kwargs):
        self.record_type = record_type
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", UPDATES_HELP)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{u.get('field')} = {u.get('value')}" for u in value)
        return value

    def clean(self, value):
        text = super().clean(value) or ""
        fields = conditions.fields_for(self.record_type)
        updates = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, raw = line.partition("=")
            name, raw = name.strip(), raw.strip()
            if not sep or name not in fields:
                raise forms.ValidationError(_("Line %(n)s: “%(line)s” is not “field = value” with one of this "
                                              "record type's fields.") % {"n": number, "line": line.strip()})
            updates.append({"field": name, "value": raw})
        return updates


class ProcessForm(forms.ModelForm):
    class Meta:
        model = ApprovalProcess
        fields = ["name", "description", "entry_criteria", "order", "is_active", "on_submit", "on_approve",
                  "on_reject", "on_recall"]

    def __init__(self, *args, record_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry_criteria"] = ConditionField(
            label=gettext_lazy("Records that enter this process (empty: every record submitted)"),
            record_type=record_type)
        for name, label in (("on_submit", gettext_lazy("Field updates when submitted")),
                            ("on_approve", gettext_lazy("Field updates when approved")),
                            ("on_reject", gettext_lazy("Field updates when rejected")),
                            ("on_recall", gettext_lazy("Field updates when recalled"))):
            self.fields[name] = FieldUpdatesField(record_type=record_type, label=label)


class StepForm(forms.ModelForm):
    class Meta:
        model = ApprovalStep
        fields = ["name", "order", "criteria", "approver_kind", "approver_user", "approver_team", "mode",
                  "remind_after_hours", "escalate_after_hours", "escalate_to"]

    def __init__(self, *args, record_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criteria"] = ConditionField(
            label=gettext_lazy("Run this step only for records where (empty: always)"), record_type=record_type)
        from crm.access.models import User

        active = User.objects.filter(is_active=True).order_by("first_name", "last_name", "email")
        self.fields["approver_user"].queryset = active
        self.fields["escalate_to"].queryset = active

    def clean(self):
        data = super().clean()
        kind = data.get("approver_kind")
        if kind == ApprovalStep.Approver.USER and not data.get("approver_user"):
            self.add_error("approver_user", _("Choose the user who approves."))
        if kind == ApprovalStep.Approver.TEAM and not data.get("approver_team"):
            self.add_error("approver_team", _("Choose the team that approves."))
        return data


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(label=gettext_lazy("Approves for me"), queryset=None)
    starts = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from crm.access.models import User

        self.fields["delegate"].queryset = User.objects.filter(is_active=True).exclude(pk=user.pk).order_by(
            "first_name", "last_name", "email")
