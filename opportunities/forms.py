"""Forms of opportunities: the record form (create, edit, one field in place), the few fields a stage asks for
before a move, contact roles and the board's filters. Accounts, contacts and campaigns are picked by type-ahead
among the records the user may see; field-level security and custom fields come from CustomFieldsFormMixin."""
from __future__ import annotations

from functools import lru_cache

import django_filters
from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.core.vocabularies import BuyingRole
from crm.core.widgets import FastSelect, LookupSelect
from crm.customization.fields import CustomFieldsFormMixin
from opportunities.models import LOSS_REASON_PICKLIST, Opportunity, Pipeline, Stage

RT = "opportunities.opportunity"
SECTIONS = [
    (_("Opportunity"), ["name", "account", "contact", "opportunity_type", "owner"]),
    (_("Stage and amount"), ["pipeline", "stage", "probability", "amount", "currency", "close_date"]),
    (_("Selling"), ["lead_source", "campaign", "next_step", "competitors", "loss_reason"]),
    (_("More"), ["description"]),
]
# The fields a stage may require (Settings › Pipelines); custom fields come on top, as "custom.<name>".
REQUIRABLE = ["account", "contact", "amount", "close_date", "opportunity_type", "lead_source", "campaign",
              "next_step", "competitors", "loss_reason", "description"]
# Currencies offered first; any other ISO 4217 code Babel knows may be picked too.
COMMON_CURRENCIES = ("EUR", "USD", "SEK", "GBP", "NOK", "DKK", "CHF", "JPY", "IRR")


@lru_cache(maxsize=8)
def currency_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, "EUR · Euro") of the common currencies, then every other one Babel knows, by code."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import list_currencies

    try:
        names = Locale.parse(language.replace("-", "_")).currencies
    except (UnknownLocaleError, ValueError):
        names = Locale.parse("en").currencies
    codes = [*COMMON_CURRENCIES, *sorted(c for c in list_currencies() if c not in COMMON_CURRENCIES)]
    return tuple((code, f"{code} · {names.get(code, code)}") for code in codes)


def loss_reasons():
    from crm.customization.models import PicklistValue

    return PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST, is_active=True).order_by("order", "id")


class OpportunityForm(CustomFieldsFormMixin, forms.ModelForm):
    """The whole opportunity; `only(name)` keeps one field (inline edit) or a few (what a stage asks for)."""

    currency = forms.ChoiceField(label=_("Currency"), choices=(), widget=FastSelect(attrs={"data-tom-select": ""}))

    class Meta:
        model = Opportunity
        fields = [n for _title, names in SECTIONS for n in names]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "competitors": forms.TextInput()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        from accounts.models import Account, Contact
        from campaigns.models import Campaign

        for name, model in (("account", Account), ("contact", Contact), ("campaign", Campaign)):
            if name in self.fields:
                field = self.fields[name]
                field.queryset = model.objects.visible_to(user) if user is not None else model.objects.none()
                field.widget = LookupSelect()
                field.widget.choices = field.choices
        if "owner" in self.fields:
            from crm.access.models import User

            self.fields["owner"].queryset = User.objects.filter(is_active=True)
            self.fields["owner"].widget = FastSelect()
            self.fields["owner"].widget.choices = self.fields["owner"].choices
        if "pipeline" in self.fields:
            self.fields["pipeline"].queryset = Pipeline.objects.all()
            self.fields["pipeline"].empty_label = None
        if "stage" in self.fields:
            # Every pipeline's stages, grouped by pipeline; clean() checks the stage belongs to the pipeline.
            field = self.fields["stage"]
            field.queryset = Stage.objects.select_related("pipeline").order_by("pipeline__order", "pipeline_id",
                                                                              "order", "id")
            groups: dict = {}
            for stage in field.queryset:
                groups.setdefault(str(stage.pipeline), []).append((stage.pk, str(stage)))
            import json

            probabilities = json.dumps({str(stage.pk): stage.probability for stage in field.queryset})
            field.widget = forms.Select(choices=[("", "---------"), *groups.items()],
                                        attrs={"data-probabilities": probabilities})
            field.help_text = _("Only the stages of the chosen pipeline can be picked.")
        if "currency" in self.fields:
            field = self.fields["currency"]
            current = self.initial.get("currency") or self.instance.currency
            choices = list(currency_choices(get_language() or "en"))
            if current and current not in {code for code, _label in choices}:
                choices.append((current, current))
            field.choices = choices
            if not self.instance.pk and not self.initial.get("currency"):
                field.initial = getattr(settings, "CORPORATE_CURRENCY", "EUR")
        if "probability" in self.fields:
            self.fields["probability"].required = False
            self.fields["probability"].help_text = _("Empty: the stage's probability. A probability left at the "
                                                     "stage's follows the stage when it changes.")
        if "loss_reason" in self.fields:
            self.fields["loss_reason"].queryset = loss_reasons()
            self.fields["loss_reason"].help_text = _("Required to close the opportunity as lost.")
        if "amount" in self.fields:
            self.fields["amount"].widget.attrs.setdefault("dir", "ltr")

    def sections(self):
        result = [(title, [self[n] for n in names if n in self.fields]) for title, names in SECTIONS]
        result += [(title, [self[n] for n in names]) for title, names in self.custom_sections()]
        return [(t, fields) for t, fields in result if fields]

    def only(self, *names: str) -> None:
        """Keep these fields only: the inline edit keeps one, a stage's prompt the ones it needs."""
        keep = {n if not n.startswith("custom.") else "cf_" + n.removeprefix("custom.") for n in names}
        for other in list(self.fields):
            if other not in keep:
                del self.fields[other]

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean(self):
        data = super().clean()
        pipeline, stage = data.get("pipeline"), data.get("stage")
        if "pipeline" in self.fields and "stage" in self.fields and pipeline and stage \
                and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("Pick a stage of the pipeline “%(pipeline)s”.") % {"pipeline": pipeline})
        if "probability" in self.fields and data.get("probability") is None and "probability" not in self.errors:
            chosen = stage or (self.instance.stage if self.instance.stage_id else None)
            data["probability"] = chosen.probability if chosen else 0
        elif not self.instance.pk and stage is not None and "probability" in self.fields:
            # A new deal's probability left at the first stage's follows the stage picked instead (as an edit's
            # does in the service).
            first = self.initial.get("stage")
            if first and stage.pk != first and data.get("probability") == self.initial.get("probability"):
                data["probability"] = stage.probability
        return data


class ContactRoleForm(forms.Form):
    """A contact's buying role on one opportunity, the contact picked by type-ahead among those the user sees."""

    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, widget=LookupSelect())
    role = forms.ChoiceField(label=_("Role"), choices=[("", "---------"), *BuyingRole.choices], widget=FastSelect())
    is_primary = forms.BooleanField(label=_("Primary contact of the opportunity"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Contact

        field = self.fields["contact"]
        field.queryset = Contact.objects.visible_to(user)
        field.widget.choices = field.choices
        field.error_messages["required"] = field.error_messages["invalid_choice"] = _("Pick a contact.")
        self.fields["role"].error_messages["required"] = _("Choose a role.")


# --- the board's filters --------------------------------------------------------------------------------------

class BoardFilter(django_filters.FilterSet):
    """Owner, team, close-date range and amount range (in the corporate currency, as the columns add up)."""

    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=None, widget=FastSelect())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=None, method="filter_team",
                                            widget=FastSelect())
    close_from = django_filters.DateFilter(field_name="close_date", lookup_expr="gte", label=_("Closing from"),
                                           widget=forms.DateInput(attrs={"type": "date"}))
    close_to = django_filters.DateFilter(field_name="close_date", lookup_expr="lte", label=_("Closing until"),
                                         widget=forms.DateInput(attrs={"type": "date"}))
    amount_min = django_filters.NumberFilter(field_name="amount_corporate", lookup_expr="gte",
                                             label=_("Amount at least"))
    amount_max = django_filters.NumberFilter(field_name="amount_corporate", lookup_expr="lte",
                                             label=_("Amount at most"))

    class Meta:
        model = Opportunity
        fields: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from crm.access.models import Team, User

        owner = self.filters["owner"]
        owner.queryset = User.objects.filter(is_active=True)
        self.filters["team"].queryset = Team.objects.order_by("name")
        currency = getattr(settings, "CORPORATE_CURRENCY", "EUR")
        for name in ("amount_min", "amount_max"):
            self.filters[name].extra["help_text"] = _("In %(currency)s.") % {"currency": currency}

    def filter_team(self, queryset, name, value):
        return queryset.filter(owner__teams=value) if value else queryset
