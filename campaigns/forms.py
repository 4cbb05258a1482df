"""Forms of the campaigns app: a segment, with the shared AND/OR condition builder over the fields the user
may see of the chosen record type."""
from __future__ import annotations

import json
import re

from django import forms
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.forms import ConditionBuilder, ConditionField

MAX_CONDITIONS_TEXT = 20_000  # characters of JSON: 50 conditions with long lists of values fit easily


class SegmentConditionBuilder(ConditionBuilder):
    """The shared builder, offering only the fields the reader may see. Model fields are chosen through
    `names`; the custom fields the shared widget always adds, so the hidden ones are taken out of its field
    list here. (Interim: crm.core.forms.ConditionBuilder has no way to leave fields out; the report of the
    segments work asks for an `exclude` argument, which would replace this class.)"""

    hidden: frozenset = frozenset()

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        hidden = {n for n in self.hidden if n.startswith("cf_")}
        if not hidden:
            return html
        field_id = self.build_attrs(self.attrs, attrs).get("id", f"id_{name}")
        script = re.compile(r'<script id="%s" type="application/json">(.*?)</script>' % re.escape(f"{field_id}-meta"),
                            re.S)
        match = script.search(html)
        if match is None:  # the shared widget changed its markup: offer nothing rather than a hidden field
            return mark_safe("")
        meta = json.loads(match.group(1))
        meta["fields"] = [f for f in meta["fields"] if f["name"] not in hidden]
        return mark_safe(html[:match.start()] + json_script(meta, f"{field_id}-meta") + html[match.end():])


class SegmentConditionField(ConditionField):
    default_error_messages = {"too_long": gettext_lazy("The conditions are too long.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", SegmentConditionBuilder(sql=True))
        super().__init__(sql=True, **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and len(value) > MAX_CONDITIONS_TEXT:
            raise forms.ValidationError(self.error_messages["too_long"], code="too_long")
        try:
            return super().to_python(value)
        except RecursionError:  # JSON nested past what the parser takes
            raise forms.ValidationError(self.error_messages["invalid_json"], code="invalid_json") from None

    def validate(self, value):
        try:
            super().validate(value)
        except (AttributeError, TypeError, KeyError, RecursionError):  # a tree of the wrong shape
            raise forms.ValidationError(self.error_messages["invalid_json"], code="invalid_json") from None

    def clean(self, value):
        try:
            return super().clean(value)
        except (AttributeError, TypeError, KeyError, RecursionError):
            raise forms.ValidationError(self.error_messages["invalid_json"], code="invalid_json") from None

    def offer(self, *, record_type: str, user) -> None:
        """Build conditions over `record_type`, with the fields hidden from `user` left out."""
        from crm.access.fls import hidden_fields
        from crm.core import records

        hidden = frozenset(hidden_fields(user, record_type))
        visible = tuple(n for n in records.get(record_type).fields if n not in hidden)
        # An empty `names` means "every registry field" to the shared code: name none that exists instead.
        self.names = self.widget.names = visible or ("-",)
        self.widget.hidden = hidden
        self.set_record_type(record_type)


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    record_type = forms.ChoiceField(label=gettext_lazy("Segment of"))
    shared = forms.BooleanField(
        label=gettext_lazy("Share with everyone"), required=False,
        help_text=gettext_lazy("Everyone who may view these records can use a shared segment, and each sees "
                               "only the members they may see. Only you and admins can change it."))
    conditions = SegmentConditionField(label=gettext_lazy("Members are the records where"))

    def __init__(self, *args, user, record_type: str, **kwargs):
        from campaigns.selectors import segment_types

        super().__init__(*args, **kwargs)
        self.user = user
        types = segment_types(user=user)
        self.fields["record_type"].choices = [(rt.key, str(rt.label_plural).capitalize()) for rt in types]
        keys = [rt.key for rt in types]
        posted = self.data.get(self.add_prefix("record_type")) if self.is_bound else None
        chosen = posted if posted in keys else record_type if record_type in keys else (keys[0] if keys else "")
        self.record_type = chosen
        if chosen:
            self.fields["conditions"].offer(record_type=chosen, user=user)

    def clean_conditions(self):
        from campaigns.selectors import SegmentNotUsable, segment_conditions_check

        value = self.cleaned_data["conditions"]
        record_type = self.cleaned_data.get("record_type") or self.record_type
        try:
            return segment_conditions_check(user=self.user, record_type=record_type, condition=value)
        except SegmentNotUsable as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if not self.fields["record_type"].choices:
            raise forms.ValidationError(_("You may not view any record type segments are built over."))
        return data
