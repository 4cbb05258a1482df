"""Forms of the escalation-rule settings pages: the rule (criteria and stop condition through the one AND/OR
condition builder), its levels (each a time and the workflow rules' action forms, through the rule editor's
ActionsEditor under a level prefix), the record-type choice and the log's filters."""
from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy

from crm.automation.escalations import clock_fields, record_types
from crm.automation.models_escalations import EscalationDue, EscalationRule
from crm.automation.rule_forms import DATE_WIDGET, ActionsEditor, AutomationLogFilter
from crm.core.forms import ConditionField

UNITS = [("minutes", gettext_lazy("business minutes")), ("hours", gettext_lazy("business hours"))]


class EscalationTypeForm(forms.Form):
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = record_types()


class EscalationRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=100000, initial=100)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    calendar = forms.ChoiceField(label=gettext_lazy("Business hours"), required=False, help_text=gettext_lazy(
        "The clock runs only in this calendar's working hours, skipping its holidays. Empty: around the clock."))
    clock_field = forms.ChoiceField(label=gettext_lazy("The clock starts at"), help_text=gettext_lazy(
        "When this date changes, the clock starts again from the new date."))
    criteria = ConditionField(label=gettext_lazy("Watch records where (empty: every record)"), sql=True)
    stop_criteria = ConditionField(label=gettext_lazy("Stop when (empty: only when the records no longer match)"))
    stop_on_activity = forms.BooleanField(label=gettext_lazy("Stop when someone logs an activity on the record"),
                                          required=False, initial=True, help_text=gettext_lazy(
                                              "A call, meeting, e-mail, note or task a person logs. What automation "
                                              "writes does not count."))

    def __init__(self, *args, record_type: str, **kwargs):
        from crm.automation.models import BusinessCalendar

        super().__init__(*args, **kwargs)
        self.record_type = record_type
        self.fields["criteria"].set_record_type(record_type)
        self.fields["criteria"].widget.sql = True
        self.fields["stop_criteria"].set_record_type(record_type)
        self.fields["clock_field"].choices = clock_fields(record_type)
        self.fields["calendar"].choices = [("", gettext_lazy("Around the clock (24/7)"))] + [
            (str(pk), name) for pk, name in BusinessCalendar.objects.order_by("name").values_list("pk", "name")]

    @staticmethod
    def initial_for(rule: EscalationRule) -> dict:
        return {"name": rule.name, "order": rule.order, "is_active": rule.is_active,
                "calendar": str(rule.calendar_id or ""), "clock_field": rule.clock_field, "criteria": rule.criteria,
                "stop_criteria": rule.stop_criteria, "stop_on_activity": rule.stop_on_activity}

    def values(self) -> dict:
        from crm.automation.models import BusinessCalendar

        data = self.cleaned_data
        return {"name": data["name"], "order": data["order"] or 0, "is_active": data["is_active"],
                "calendar": BusinessCalendar.objects.filter(pk=data["calendar"]).first() if data["calendar"] else None,
                "clock_field": data["clock_field"], "criteria": data["criteria"],
                "stop_criteria": data["stop_criteria"], "stop_on_activity": data["stop_on_activity"]}


class _Prefixed:
    """The posted data under one level's prefix, as ActionsEditor reads it ("l0-actions-count" → "actions-count")."""

    def __init__(self, data, prefix: str):
        self.data, self.prefix = data, prefix

    def get(self, key, default=None):
        return self.data.get(self.prefix + key, default)


class LevelActionsEditor(ActionsEditor):
    """The rule editor's actions, under a level's prefix: the same forms, names "l0-a1-subject"."""

    def __init__(self, data=None, *, prefix: str, record_type: str, actions=None):
        self.prefix, self.full = prefix, data
        super().__init__(_Prefixed(data, prefix) if data is not None else None, record_type=record_type,
                         actions=actions)

    def _add(self, action, index: int, *, data=None, initial=None, removed: bool = False) -> None:
        name = f"{self.prefix}a{index}"
        form = action.form(data=self.full if data is not None else None, initial=initial or {}, prefix=name,
                           record_type=self.record_type)
        self.items.append({"kind": action.kind, "label": action.label, "form": form, "removed": removed,
                           "index": index, "name": name})


class LevelForm(forms.Form):
    after_amount = forms.IntegerField(label=gettext_lazy("After"), min_value=1, max_value=100000)
    after_unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=UNITS, initial="hours")

    def minutes(self) -> int:
        amount = self.cleaned_data["after_amount"]
        return amount * 60 if self.cleaned_data["after_unit"] == "hours" else amount


class LevelsEditor:
    """The rule's levels, each a LevelForm and its actions, prefixed l0-, l1-, …; "Add a level" posts the page back
    with one more, a ticked "Remove" drops one on saving (no JavaScript needed)."""

    def __init__(self, data=None, *, record_type: str, levels=None):
        self.record_type, self.items = record_type, []
        if data is not None:
            count = _int(data.get("levels-count"))
            for index in range(count):
                if data.get(f"l{index}-present"):
                    self._add(index, data=data, removed=bool(data.get(f"l{index}-remove")))
            if data.get("add_level"):
                self._add(count)
        else:
            for index, level in enumerate(levels or []):
                minutes = level.after_minutes
                initial = ({"after_amount": minutes // 60, "after_unit": "hours"} if minutes % 60 == 0
                           else {"after_amount": minutes, "after_unit": "minutes"})
                self._add(index, initial=initial, actions=level.actions)
            if not self.items:
                self._add(0)

    def _add(self, index: int, *, data=None, initial=None, actions=None, removed: bool = False) -> None:
        prefix = f"l{index}-"
        form = LevelForm(data=data, initial=initial or {"after_unit": "hours"}, prefix=f"l{index}")
        editor = LevelActionsEditor(data, prefix=prefix, record_type=self.record_type, actions=actions)
        self.items.append({"index": index, "prefix": prefix, "form": form, "actions": editor, "removed": removed})

    @property
    def count(self) -> int:
        return max([i["index"] for i in self.items] + [-1]) + 1

    @property
    def adding(self) -> bool:
        """The post only asked for one more level or action: show the page again, save nothing."""
        return any(i["actions"].full is not None and i["actions"].full.get(f"{i['prefix']}add")
                   for i in self.items)

    def is_valid(self) -> bool:
        live = [i for i in self.items if not i["removed"]]
        return all(i["form"].is_valid() and i["actions"].is_valid() for i in live)

    def levels(self) -> list[dict]:
        return [{"after_minutes": i["form"].minutes(), "actions": i["actions"].configs()}
                for i in self.items if not i["removed"]]


def _int(value) -> int:
    try:
        return max(0, min(int(value), 20))
    except (TypeError, ValueError):
        return 0


class EscalationDueFilter(AutomationLogFilter):
    date_field = "due_at"

    rule = django_filters.ModelChoiceFilter(label=gettext_lazy("Escalation rule"),
                                            queryset=EscalationRule.objects.order_by("name"),
                                            empty_label=gettext_lazy("All"))
    state = django_filters.ChoiceFilter(label=gettext_lazy("State"), choices=EscalationDue.State.choices,
                                        empty_label=gettext_lazy("All"))
    record = django_filters.CharFilter(label=gettext_lazy("Record (id or name)"), method="filter_record")
    date_from = django_filters.DateFilter(label=gettext_lazy("Due from"), method="filter_from", widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(label=gettext_lazy("Due until"), method="filter_to", widget=DATE_WIDGET)

    class Meta:
        model = EscalationDue
        fields = ["rule", "state", "record", "date_from", "date_to"]
