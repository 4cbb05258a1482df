"""Forms of the auto-responder settings pages: the responder (criteria through the one AND/OR condition builder),
the record-type choice, the sent log's filters, the test page's record search."""
from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.autoresponders import record_types
from crm.automation.models_autoresponders import AutoResponder, AutoResponse
from crm.automation.rule_forms import DATE_WIDGET, AutomationLogFilter
from crm.core.forms import ConditionField


class ResponderTypeForm(forms.Form):
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = record_types()


class AutoResponderForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=100000, initial=100,
                               help_text=gettext_lazy("Tried in this order (lowest first): the first that matches "
                                                      "answers, the others do not."))
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    template = forms.ChoiceField(label=gettext_lazy("E-mail template"), help_text=gettext_lazy(
        "Sent in the recipient's language when the template has it, else in English."))
    sender_user = forms.ChoiceField(label=gettext_lazy("From a user"), required=False, help_text=gettext_lazy(
        "Their name on the CRM's address; replies go to them. Empty: the record's owner."))
    from_name = forms.CharField(label=gettext_lazy("Or from a name"), max_length=100, required=False)
    from_email = forms.EmailField(label=gettext_lazy("and address"), required=False, help_text=gettext_lazy(
        "Replaces the user as sender, e.g. Sales team <sales@example.com>."))
    criteria = ConditionField(label=gettext_lazy("Only new records where (empty: every new record)"), sql=True)

    def __init__(self, *args, record_type: str, **kwargs):
        from crm.access.models import User
        from crm.mail.models import EmailTemplate

        super().__init__(*args, **kwargs)
        self.record_type = record_type
        self.fields["criteria"].set_record_type(record_type)
        self.fields["criteria"].widget.sql = True
        self.fields["template"].choices = [("", "---------")] + [
            (str(pk), name) for pk, name in EmailTemplate.objects.filter(record_type=record_type, is_active=True)
            .order_by("name").values_list("pk", "name")]
        self.fields["sender_user"].choices = [("", _("The record's owner"))] + [
            (str(u.pk), u.get_full_name() or u.email) for u in User.objects.filter(is_active=True)
            .order_by("first_name", "last_name", "email")]

    @staticmethod
    def initial_for(responder: AutoResponder) -> dict:
        return {"name": responder.name, "order": responder.order, "is_active": responder.is_active,
                "template": str(responder.template_id or ""), "sender_user": str(responder.sender_user_id or ""),
                "from_name": responder.from_name, "from_email": responder.from_email, "criteria": responder.criteria}

    def values(self) -> dict:
        """The cleaned data as the service takes it."""
        from crm.access.models import User
        from crm.mail.models import EmailTemplate

        data = self.cleaned_data
        return {"name": data["name"], "order": data["order"] or 0, "is_active": data["is_active"],
                "template": EmailTemplate.objects.filter(pk=data["template"]).first() if data["template"] else None,
                "sender_user": User.objects.filter(pk=data["sender_user"]).first() if data["sender_user"] else None,
                "from_name": data["from_name"], "from_email": data["from_email"], "criteria": data["criteria"]}


class RecordSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Record (id or name)"), max_length=100)


class AutoResponseFilter(AutomationLogFilter):
    search_fields = ("record_repr", "to_address", "subject")

    responder = django_filters.ModelChoiceFilter(label=gettext_lazy("Auto-responder"),
                                                 queryset=AutoResponder.objects.order_by("name"),
                                                 empty_label=gettext_lazy("All"))
    outcome = django_filters.ChoiceFilter(label=gettext_lazy("Outcome"), choices=AutoResponse.Outcome.choices,
                                          empty_label=gettext_lazy("All"))
    record = django_filters.CharFilter(label=gettext_lazy("Record, address or subject"), method="filter_record")
    date_from = django_filters.DateFilter(label=gettext_lazy("From"), method="filter_from", widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(label=gettext_lazy("To"), method="filter_to", widget=DATE_WIDGET)

    class Meta:
        model = AutoResponse
        fields = ["responder", "outcome", "record", "date_from", "date_to"]
