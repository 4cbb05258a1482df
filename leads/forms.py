from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.widgets import FastSelect, FastTextInput
from crm.customization.fields import CustomFieldsFormMixin
from leads.models import SOURCE_PICKLIST, STATUS_PICKLIST, Lead, LifecycleStage
from crm.customization.models import PicklistValue

SECTIONS = [
    (_("Person"), ["first_name", "last_name", "title", "email", "phone", "mobile"]),
    (_("Company"), ["company", "website", "industry", "employees", "annual_revenue", "currency"]),
    (_("Address"), ["street", "city", "state", "postal_code", "country"]),
    (_("Lead"), ["status", "source", "rating", "owner", "description", "competitors", "objections"]),
]


class LeadForm(CustomFieldsFormMixin, forms.ModelForm):
    class Meta:
        model = Lead
        fields = [name for _, names in SECTIONS for name in names]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "competitors": forms.Textarea(attrs={"rows": 2}),
                   "objections": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            self.fields["status"].queryset = PicklistValue.objects.filter(picklist=STATUS_PICKLIST, is_active=True)
        if "source" in self.fields:
            self.fields["source"].queryset = PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, is_active=True)
        if "owner" in self.fields:
            from crm.access.models import User

            self.fields["owner"].queryset = User.objects.filter(is_active=True)

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").upper()

    def sections(self):
        result = [(title, [self[n] for n in names if n in self.fields]) for title, names in SECTIONS]
        result += [(title, [self[n] for n in names]) for title, names in self.custom_sections()]
        return [(t, fields) for t, fields in result if fields]


class LeadCreateForm(LeadForm):
    """The create form adds the choices the save makes: assignment rules and accepting duplicates."""

    assign_by_rules = forms.BooleanField(label=_("Assign using active rules"), required=False)
    confirm_duplicates = forms.BooleanField(label=_("Save anyway: this is not a duplicate"), required=False)


BANT_FIELDS = ["budget_confirmed", "budget_amount", "authority_role", "need_pain_points", "need_requirements",
               "need_desired_outcome", "timeline_urgency", "timeline_timeframe"]
CHAMP_FIELDS = ["champ_challenges", "champ_authority", "champ_money", "champ_prioritization"]


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = BANT_FIELDS + CHAMP_FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in
                   ("need_pain_points", "need_requirements", "need_desired_outcome", "champ_challenges")}

    def __init__(self, *args, framework="bant", user=None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = BANT_FIELDS if framework == "bant" else CHAMP_FIELDS
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if user is not None:
            from crm.access.fls import apply_to_form

            apply_to_form(self, user, "leads.lead")


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=[
        (s.value, s.label) for s in (LifecycleStage.NEW, LifecycleStage.MQL, LifecycleStage.SAL, LifecycleStage.SQL,
                                     LifecycleStage.UNQUALIFIED)], widget=FastSelect(attrs={"class": "form-select form-select-sm"}))
    reason = forms.CharField(label=_("Reason (when unqualified)"), max_length=255, required=False,
                             widget=FastTextInput(attrs={"class": "form-control form-control-sm"}))


class ConvertForm(forms.Form):
    account_choice = forms.ChoiceField(label=_("Account"), widget=forms.RadioSelect)
    account_name = forms.CharField(label=_("New account name"), max_length=200, required=False)
    contact_choice = forms.ChoiceField(label=_("Contact"), widget=forms.RadioSelect)
    create_opportunity = forms.BooleanField(label=_("Create an opportunity"), required=False, initial=True)
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, required=False, min_value=0)
    close_date = forms.DateField(label=_("Close date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=None, required=False)

    def __init__(self, *args, accounts=(), contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        from opportunities.models import Stage

        self.fields["account_choice"].choices = [("new", _("Create a new account"))] + [
            (str(a.pk), _("Link to existing: %(name)s") % {"name": a}) for a in accounts]
        self.fields["contact_choice"].choices = [("new", _("Create a new contact"))] + [
            (str(c.pk), _("Link to existing: %(name)s") % {"name": c}) for c in contacts]
        self.fields["stage"].queryset = Stage.objects.filter(pipeline__is_default=True, outcome="open").order_by("order")

    def clean(self):
        data = super().clean()
        if data.get("create_opportunity"):
            if not (data.get("opportunity_name") or "").strip():
                self.add_error("opportunity_name", _("Name the opportunity."))
            if not data.get("close_date"):
                self.add_error("close_date", _("Give the expected close date."))
            if not data.get("stage") and not self.fields["stage"].queryset.exists():
                self.add_error("create_opportunity", _(
                    "No sales pipeline with open stages is set up. Ask an administrator to add one, or convert "
                    "without an opportunity."))
        return data
