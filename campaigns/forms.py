"""Forms of the campaigns app: a segment, with the shared AND/OR condition builder over the fields the user
may see of the chosen record type."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from crm.core.forms import ConditionBuilder, ConditionField

MAX_CONDITIONS_TEXT = 20_000  # characters of JSON: 50 conditions with long lists of values fit easily


class SegmentConditionField(ConditionField):
    default_error_messages = {"too_long": gettext_lazy("The conditions are too long.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", ConditionBuilder(sql=True))
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
        """Build conditions over `record_type`: the fields segments may test, without those hidden from
        `user` (custom fields included)."""
        from campaigns.selectors import segment_field_names
        from crm.access.fls import hidden_fields

        hidden = frozenset(hidden_fields(user, record_type))
        # An empty `names` means "the registry's fields" to the shared code: name none that exists instead.
        self.names = self.widget.names = tuple(n for n in segment_field_names(record_type) if n not in hidden) or ("-",)
        self.widget.exclude = hidden
        self.set_record_type(record_type)


class SegmentForm(forms.Form):
    """A segment over one record type, chosen before the form (as HubSpot and Salesforce have the object of a
    list or report chosen first): its conditions can only be built over that type's fields."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    shared = forms.BooleanField(
        label=gettext_lazy("Share with everyone"), required=False,
        help_text=gettext_lazy("Everyone who may view these records can use a shared segment, and each sees "
                               "only the members they may see. Only you and admins can change it."))
    conditions = SegmentConditionField(label=gettext_lazy("Members are the records where"))

    def __init__(self, *args, user, record_type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.record_type = record_type
        self.fields["conditions"].offer(record_type=record_type, user=user)

    def clean_conditions(self):
        from campaigns.selectors import SegmentNotUsable, segment_conditions_check

        try:
            return segment_conditions_check(user=self.user, record_type=self.record_type,
                                            condition=self.cleaned_data["conditions"])
        except SegmentNotUsable as exc:
            raise forms.ValidationError(str(exc)) from None
