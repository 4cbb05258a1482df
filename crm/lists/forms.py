from django import forms

from crm.lists.models import SavedView


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "shared"]
