"""Forms of the analytics and forecast pages: a date range for win/loss, and the quota grid (one amount per
person the reader manages, for one period); a manager's adjustment of a subordinate's forecast."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_INPUT = {"type": "date"}


class DateRangeForm(forms.Form):
    start = forms.DateField(label=_("Closed from"), widget=forms.DateInput(attrs=DATE_INPUT))
    end = forms.DateField(label=_("Closed until"), widget=forms.DateInput(attrs=DATE_INPUT))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start of the period must not be after its end."))
        return data

    @classmethod
    def default_range(cls, today: dt.date) -> tuple[dt.date, dt.date]:
        """The last 365 days, today included."""
        return today - dt.timedelta(days=364), today


class AmountField(forms.DecimalField):
    """A money amount typed as the user's language writes it ("12 500,00", "۱۲٬۵۰۰"), or plainly ("12500.00")."""

    def to_python(self, value):
        from crm.core.formatting import parse_number

        if isinstance(value, str) and value.strip():
            parsed = parse_number(value)
            if parsed is not None:
                value = str(parsed)
        return super().to_python(value)


class ForecastAdjustmentForm(forms.Form):
    """A manager's call on a subordinate's forecast for one period, with the reason (required)."""

    amount = AmountField(label=_("Your call (closed won + commit)"), min_value=0, max_digits=18, decimal_places=2,
                         widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}))
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Why you expect a different figure: it stays in the history."))


class QuotaGridForm(forms.Form):
    """One optional amount per user (field name "quota_<id>"); an emptied amount removes the quota."""

    def __init__(self, *args, users, initial_amounts: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.users = list(users)
        for user in self.users:
            self.fields[f"quota_{user.pk}"] = AmountField(
                label=str(user), required=False, min_value=0, max_digits=18, decimal_places=2,
                initial=initial_amounts.get(user.pk))

    def amounts(self) -> dict:
        return {user.pk: self.cleaned_data.get(f"quota_{user.pk}") for user in self.users}

    def rows(self):
        return [(user, self[f"quota_{user.pk}"]) for user in self.users]
