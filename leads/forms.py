from django import forms
from django.utils.translation import gettext_lazy as _

from crm.customization.fields import CustomFieldsFormMixin
from leads.models import STATUS_PICKLIST, SOURCE_PICKLIST, Lead
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
