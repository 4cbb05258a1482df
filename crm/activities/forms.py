from django import forms
from django.utils.translation import gettext_lazy as _

from crm.activities.models import Activity

FIELDS_BY_KIND = {
    Activity.Kind.TASK: ["subject", "body", "due_at", "priority"],
    Activity.Kind.CALL: ["subject", "body", "direction", "duration_minutes", "outcome"],
    Activity.Kind.MEETING: ["subject", "body", "due_at", "duration_minutes"],
    Activity.Kind.EMAIL: ["subject", "body", "direction"],
    Activity.Kind.NOTE: ["subject", "body"],
}


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["subject", "body", "due_at", "priority", "direction", "duration_minutes", "outcome"]
        widgets = {
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "body": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"due_at": _("Due / starts")}

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in list(self.fields):
            if name not in FIELDS_BY_KIND[kind]:
                del self.fields[name]
        self.fields["subject"].required = True
        if "direction" in self.fields:
            self.fields["direction"].required = False
