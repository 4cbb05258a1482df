from django import forms
from django.utils.translation import gettext_lazy as _

from crm.imports.models import ImportJob


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (.csv, .xlsx or .vcf)"))


class OptionsForm(forms.ModelForm):
    class Meta:
        model = ImportJob
        fields = ["duplicates", "mode", "assign_by_rules", "campaign"]
        widgets = {"duplicates": forms.RadioSelect, "mode": forms.RadioSelect}

    def __init__(self, *args, user=None, record_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        spec = record_type.imports
        if spec.assign is None:
            del self.fields["assign_by_rules"]
        if spec.supports_campaign:
            from campaigns.selectors import open_campaigns

            self.fields["campaign"].queryset = open_campaigns(user=user)
            self.fields["campaign"].label = _("Campaign (adds a touch to every imported record)")
        else:
            del self.fields["campaign"]
