"""Forms of the workflow-rule settings pages: the rule (trigger, criteria through the one AND/OR condition
builder), its actions (one small form per action, each of its registered kind), the log's filters."""
from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.actions import action_kinds, get_action
from crm.automation.models_rules import ActionRun, OffsetDirection, OffsetUnit, RuleRun, Trigger, WorkflowRule
from crm.core import conditions, records
from crm.core.forms import ConditionField


class RecordTypeForm(forms.Form):
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [(rt.key, rt.label_plural) for rt in records.all_types()]


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=255, required=False)
    order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=100000, initial=100,
                               help_text=gettext_lazy("Rules of one record type run in this order (lowest first)."))
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    trigger = forms.ChoiceField(label=gettext_lazy("Runs"), choices=Trigger.choices)
    trigger_field = forms.ChoiceField(label=gettext_lazy("Field"), required=False, help_text=gettext_lazy(
        "For “when a field changes”: the field watched. For a time-based rule: the date it counts from."))
    offset_amount = forms.IntegerField(label=gettext_lazy("Time"), min_value=0, max_value=100000, initial=0,
                                       required=False)
    offset_unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=OffsetUnit.choices, initial=OffsetUnit.DAYS)
    offset_direction = forms.ChoiceField(label=gettext_lazy("Before or after"), choices=OffsetDirection.choices,
                                         initial=OffsetDirection.AFTER)
    criteria = ConditionField(label=gettext_lazy("Only records where (empty: every record)"))

    def __init__(self, *args, record_type: str, **kwargs):
        from crm.automation.engine import time_fields

        super().__init__(*args, **kwargs)
        self.record_type = record_type
        self.fields["criteria"].set_record_type(record_type)
        changeable = [(name, f.label) for name, f in conditions.fields_for(record_type).items()]
        dates = time_fields(record_type)
        self.fields["trigger_field"].choices = [("", "---------"),
                                                (_("Fields"), changeable), (_("Dates"), dates)]

    def spec(self, actions: list[dict]) -> dict:
        data = self.cleaned_data
        return {"trigger": data["trigger"], "trigger_field": data.get("trigger_field") or "",
                "offset_amount": data.get("offset_amount") or 0, "offset_unit": data["offset_unit"],
                "offset_direction": data["offset_direction"], "criteria": data["criteria"], "actions": actions}

    @staticmethod
    def initial_for(rule: WorkflowRule) -> dict:
        version = rule.current_version
        initial = {"name": rule.name, "description": rule.description, "order": rule.order,
                   "is_active": rule.is_active}
        if version is not None:
            initial.update(trigger=version.trigger, trigger_field=version.trigger_field,
                           offset_amount=version.offset_amount, offset_unit=version.offset_unit,
                           offset_direction=version.offset_direction, criteria=version.criteria)
        return initial


class ActionsEditor:
    """The rule's actions as a list of small forms, one per action, each of its kind's registered form,
    prefixed a0, a1, …; "Add" posts the page back with one more (no JavaScript needed), a ticked "Remove"
    drops one on saving."""

    def __init__(self, data=None, *, record_type: str, actions: list[dict] | None = None):
        self.record_type = record_type
        self.items: list[dict] = []
        if data is not None:
            count = _int(data.get("actions-count"))
            for index in range(count):
                action = get_action(data.get(f"a{index}-kind", ""))
                if action is not None:
                    self._add(action, index, data=data, removed=bool(data.get(f"a{index}-remove")))
            added = get_action(data.get("new_kind", "")) if data.get("add") else None
            if added is not None:
                self._add(added, count)
        else:
            for index, config in enumerate(actions or []):
                action = get_action(config.get("kind", ""))
                if action is not None:
                    self._add(action, index, initial=action.form.data_from_config(config))

    def _add(self, action, index: int, *, data=None, initial=None, removed: bool = False) -> None:
        form = action.form(data=data, initial=initial or {}, prefix=f"a{index}", record_type=self.record_type)
        self.items.append({"kind": action.kind, "label": action.label, "form": form, "removed": removed,
                           "index": index})

    @property
    def count(self) -> int:
        return max([i["index"] for i in self.items] + [-1]) + 1

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(a.kind, a.label) for a in action_kinds()]

    def is_valid(self) -> bool:
        return all(item["form"].is_valid() for item in self.items if not item["removed"] and item["form"].is_bound)

    def configs(self) -> list[dict]:
        return [item["form"].to_config() for item in self.items if not item["removed"] and item["form"].is_bound]

    @property
    def has_unbound(self) -> bool:
        return any(not item["form"].is_bound for item in self.items)


def _int(value) -> int:
    try:
        return max(0, min(int(value), 50))
    except (TypeError, ValueError):
        return 0


class TestRecordForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Record (id or name)"), max_length=100)


class ReplayForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Last N days"), min_value=1, max_value=365, initial=7)


class AutomationSettingsForm(forms.Form):
    log_retention_days = forms.IntegerField(label=gettext_lazy("Keep the execution log for (days)"), min_value=1,
                                            max_value=3650)


DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class AutomationLogFilter(django_filters.FilterSet):
    """What the automation logs share: a record by id or by text in `search_fields`, and a day range on
    `date_field` (each day in the site's time zone)."""

    date_field = "created_at"
    search_fields = ("record_repr",)

    def filter_record(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if value.isdigit():
            return queryset.filter(object_id=int(value))
        text = Q()
        for field in self.search_fields:
            text |= Q(**{f"{field}__icontains": value})
        return queryset.filter(text)

    def filter_from(self, queryset, name, value):
        from crm.lists.filters import day_start

        return queryset.filter(**{f"{self.date_field}__gte": day_start(value)})

    def filter_to(self, queryset, name, value):
        from datetime import timedelta

        from crm.lists.filters import day_start

        return queryset.filter(**{f"{self.date_field}__lt": day_start(value + timedelta(days=1))})


class RuleRunFilter(AutomationLogFilter):
    rule = django_filters.ModelChoiceFilter(label=gettext_lazy("Rule"), queryset=WorkflowRule.objects.order_by("name"),
                                            empty_label=gettext_lazy("All"))
    outcome = django_filters.ChoiceFilter(label=gettext_lazy("Outcome"), choices=RuleRun.Outcome.choices,
                                          empty_label=gettext_lazy("All"))
    record = django_filters.CharFilter(label=gettext_lazy("Record (id or name)"), method="filter_record")
    date_from = django_filters.DateFilter(label=gettext_lazy("From"), method="filter_from", widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(label=gettext_lazy("To"), method="filter_to", widget=DATE_WIDGET)

    class Meta:
        model = RuleRun
        fields = ["rule", "outcome", "record", "date_from", "date_to"]


class FailedRunFilter(django_filters.FilterSet):
    rule = django_filters.ModelChoiceFilter(label=gettext_lazy("Rule"), field_name="run__rule",
                                            queryset=WorkflowRule.objects.order_by("name"),
                                            empty_label=gettext_lazy("All"))
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Action"), empty_label=gettext_lazy("All"),
                                       choices=lambda: [(a.kind, a.label) for a in action_kinds()])

    class Meta:
        model = ActionRun
        fields = ["rule", "kind"]
