"""Form fields the platform shares. `ConditionField` is the one AND/OR condition
builder of the CRM: sharing rules, scoring, assignment and later workflow rules,
approvals and segments all edit their conditions with it."""
from __future__ import annotations

import json

from django import forms
from django.utils.html import escape, json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core import conditions


class ConditionBuilder(forms.Widget):
    """The condition as JSON in a textarea (what the form posts, and all a browser without JavaScript
    shows), turned into groups of field / operator / value rows by static/js/conditions.js."""

    def __init__(self, *, record_type: str = "", sql: bool = False, names=None, exclude=(), attrs=None):
        super().__init__(attrs)
        self.record_type, self.sql, self.names = record_type, sql, names
        self.exclude = frozenset(exclude)  # fields not offered (custom fields too): those hidden from the user

    class Media:
        js = ["js/conditions.js"]

    def format_value(self, value):
        if value in (None, ""):
            return json.dumps({"all": []})
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        field_id = attrs.get("id", f"id_{name}")
        fields = conditions.fields_for(self.record_type, self.names, with_choices=True) if self.record_type else {}
        fields = {key: field for key, field in fields.items() if key not in self.exclude}
        meta = {
            "fields": [{"name": f.name, "label": f.label, "kind": f.kind, "choices": list(f.choices),
                        "operators": [op for op in f.operators]} for f in fields.values()],
            "operators": {op: str(label) for op, label in conditions.OPERATORS.items()
                          if not (self.sql and op in conditions.CHANGE_OPERATORS)},
            "changeOperators": [] if self.sql else sorted(conditions.CHANGE_OPERATORS),
            "text": {"all": _("all of these"), "any": _("any of these"), "match": _("Match"),
                     "add": _("Add condition"), "addGroup": _("Add group"), "remove": _("Remove"),
                     "field": _("Field"), "operator": _("Operator"), "value": _("Value"),
                     "choose": _("Choose…"), "none": _("No conditions: every record matches."),
                     "listHint": _("Separate values with commas.")},
        }
        help_text = escape(_('Conditions as JSON, e.g. {"all": [{"field": "industry", "op": "equals", '
                             '"value": "technology"}]}.'))
        return mark_safe(
            f'<div class="condition-builder" data-condition-builder data-for="{escape(field_id)}">'
            f'{json_script(meta, f"{field_id}-meta")}'
            f'<textarea name="{escape(name)}" id="{escape(field_id)}" class="form-control font-monospace small" rows="3"'
            f' data-condition-input aria-describedby="{escape(field_id)}-help">{escape(self.format_value(value))}</textarea>'
            f'<div class="form-text" id="{escape(field_id)}-help">'
            f'{help_text}'
            f'</div><div data-condition-tree></div></div>')

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class ConditionField(forms.Field):
    """A condition tree (crm.core.conditions), validated against the record type's fields."""

    default_error_messages = {"invalid_json": gettext_lazy("The conditions could not be read.")}

    def __init__(self, *, record_type: str = "", sql: bool = False, names=None, **kwargs):
        self.record_type, self.sql, self.names = record_type, sql, names
        kwargs.setdefault("widget", ConditionBuilder(record_type=record_type, sql=sql, names=names))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def set_record_type(self, record_type: str) -> None:
        self.record_type = self.widget.record_type = record_type

    def to_python(self, value):
        if value in (None, ""):
            return {"all": []}
        if isinstance(value, (dict, list)):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid_json"], code="invalid_json") from None

    def validate(self, value):
        super().validate(value)
        if not isinstance(value, (dict, list)):
            raise forms.ValidationError(self.error_messages["invalid_json"], code="invalid_json")
        fields = conditions.fields_for(self.record_type, self.names)
        try:
            conditions.validate(value, self.record_type, sql=self.sql, fields=fields)
        except conditions.InvalidCondition as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self, value):
        value = super().clean(value)
        return conditions.normalize(value)


class EventReplayForm(forms.Form):
    subscriber = forms.ChoiceField(label=gettext_lazy("Subscriber"))
    since = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, subscribers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscriber"].choices = [(s, s) for s in sorted(subscribers)]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", _("The end comes before the start."))
        return data

    def since_start(self):
        from crm.lists.filters import day_start

        return day_start(self.cleaned_data["since"])

    def until_end(self):
        from datetime import timedelta

        from crm.lists.filters import day_start

        return day_start(self.cleaned_data["until"] + timedelta(days=1))


def errors_to_form(form, exc) -> None:
    """Put a service's ValidationError on the form's fields: a field the form has takes its errors, a custom
    field named "custom.<name>" its form field "cf_<name>", anything else the form as a whole."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        custom = "cf_" + name.removeprefix("custom.")
        target = name if name in form.fields else custom if name.startswith("custom.") and custom in form.fields else None
        form.add_error(target, errors)
