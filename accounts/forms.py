"""Forms of accounts, contacts and contact roles. Related records (the parent account, a contact's account and
whom they report to) are picked by type-ahead among the records the user may see; countries are ISO codes
picked by their names; field-level security and custom fields come from CustomFieldsFormMixin."""
from __future__ import annotations

from functools import lru_cache

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from crm.core.vocabularies import BuyingRole
from crm.core.widgets import FastSelect, LookupSelect
from crm.customization.fields import CustomFieldsFormMixin

ACCOUNT_SECTIONS = [
    (_("Account"), ["name", "account_type", "industry", "parent", "rating", "owner"]),
    (_("Contact details"), ["website", "phone", "fax"]),
    (_("Company"), ["employees", "annual_revenue", "currency", "description"]),
    (_("Billing address"), ["billing_street", "billing_city", "billing_state", "billing_postal_code",
                            "billing_country"]),
    (_("Shipping address"), ["shipping_same", "shipping_street", "shipping_city", "shipping_state",
                             "shipping_postal_code", "shipping_country"]),
]
CONTACT_SECTIONS = [
    (_("Person"), ["salutation", "first_name", "last_name", "title", "department", "account", "reports_to"]),
    (_("Contact details"), ["email", "secondary_email", "phone", "mobile", "preferred_language"]),
    (_("Mailing address"), ["mailing_street", "mailing_city", "mailing_state", "mailing_postal_code",
                            "mailing_country"]),
    (_("Consent"), ["email_opt_in", "email_opt_out", "do_not_call"]),
    (_("More"), ["birthdate", "owner", "description"]),
]
COUNTRY_FIELDS = ("billing_country", "shipping_country", "mailing_country")
# The languages a contact's preference is picked from: ours first, then those common in our customers' markets.
OTHER_LANGUAGES = ("sv", "de", "fr", "es", "it", "nl", "da", "nb", "et", "ru", "pl", "tr", "ar", "zh", "ja", "pt")


@lru_cache(maxsize=8)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name in `language`) of every country the shared lookup knows, by name."""
    from babel import Locale, UnknownLocaleError

    from crm.imports.countries import country_code

    english = Locale.parse("en").territories
    try:
        names = Locale.parse(language.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError):
        names = english
    codes = [code for code in english if len(code) == 2 and code.isalpha() and country_code(code) == code]
    return tuple(sorted(((code, names.get(code, english[code])) for code in codes), key=lambda c: c[1]))


@lru_cache(maxsize=8)
def language_choices(language: str) -> tuple[tuple[str, str], ...]:
    from babel import Locale, UnknownLocaleError

    try:
        names = Locale.parse(language.replace("-", "_")).languages
    except (UnknownLocaleError, ValueError):
        names = Locale.parse("en").languages
    ours = [code for code, _label in settings.LANGUAGES]
    return tuple((code, names.get(code, code)) for code in [*ours, *OTHER_LANGUAGES])


class CountryField(forms.ChoiceField):
    """A country as its ISO code, picked by name; a name or code typed or posted by another program is read
    with the shared country lookup (crm.imports.countries)."""

    def __init__(self, **kwargs):
        for name in ("max_length", "min_length", "empty_value", "strip"):  # what a model CharField passes
            kwargs.pop(name, None)
        kwargs.setdefault("required", False)
        super().__init__(choices=(), widget=FastSelect(attrs={"data-tom-select": ""}), **kwargs)

    def prepare(self):
        self.choices = [("", "---------"), *country_choices(get_language() or "en")]

    def to_python(self, value):
        from crm.imports.countries import country_code

        value = super().to_python(value).strip()
        return country_code(value) or value

    def validate(self, value):
        if value and not any(value == code for code, _label in country_choices("en")):
            raise forms.ValidationError(_("Pick a country from the list."), code="invalid_choice")
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class _RecordForm(CustomFieldsFormMixin, forms.ModelForm):
    sections_spec: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in COUNTRY_FIELDS:
            field = self.fields.get(name)
            if isinstance(field, CountryField):
                field.prepare()
        if "owner" in self.fields:
            from crm.access.models import User

            self.fields["owner"].queryset = User.objects.filter(is_active=True)
            self.fields["owner"].widget = FastSelect()
            self.fields["owner"].widget.choices = self.fields["owner"].choices

    def sections(self):
        result = [(title, [self[n] for n in names if n in self.fields]) for title, names in self.sections_spec]
        result += [(title, [self[n] for n in names]) for title, names in self.custom_sections()]
        return [(t, fields) for t, fields in result if fields]

    def only(self, name: str) -> None:
        """Keep one field: the inline edit of the record page edits one at a time."""
        for other in list(self.fields):
            if other != name:
                del self.fields[other]


class AccountForm(_RecordForm):
    sections_spec = ACCOUNT_SECTIONS

    shipping_same = forms.BooleanField(label=_("Shipping address is the billing address"), required=False)

    class Meta:
        model = Account
        fields = [n for _title, names in ACCOUNT_SECTIONS for n in names if n != "shipping_same"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"billing_country": CountryField, "shipping_country": CountryField}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if "parent" in self.fields:
            field = self.fields["parent"]
            field.queryset = Account.objects.visible_to(user) if user is not None else Account.objects.none()
            field.widget = LookupSelect()
            field.widget.choices = field.choices
        if "currency" in self.fields:
            self.fields["currency"].help_text = _("Empty: the organisation's currency (%(code)s).") % {
                "code": getattr(settings, "CORPORATE_CURRENCY", "EUR")}
            self.fields["currency"].widget.attrs.update(maxlength=3, size=3, autocomplete="off")

    def clean_currency(self):
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if code and not (len(code) == 3 and code.isascii() and code.isalpha()):
            raise forms.ValidationError(_("Give the currency as its three-letter code, such as EUR or USD."))
        return code

    def clean_parent(self):
        from accounts.services import hierarchy_loop

        parent = self.cleaned_data.get("parent")
        if parent is not None and hierarchy_loop(account_id=self.instance.pk, parent_id=parent.pk):
            raise forms.ValidationError(_("An account cannot be its own parent or sit under one of its own "
                                          "subsidiaries."))
        return parent

    def clean(self):
        data = super().clean()
        if data.get("shipping_same"):
            for part in ("street", "city", "state", "postal_code", "country"):
                if f"shipping_{part}" in self.fields and f"billing_{part}" in data:
                    data[f"shipping_{part}"] = data[f"billing_{part}"]
                    setattr(self.instance, f"shipping_{part}", data[f"billing_{part}"])
        return data


class AccountCreateForm(AccountForm):
    confirm_duplicates = forms.BooleanField(label=_("Save anyway: this is not a duplicate"), required=False)


class ContactForm(_RecordForm):
    sections_spec = CONTACT_SECTIONS

    class Meta:
        model = Contact
        fields = [n for _title, names in CONTACT_SECTIONS for n in names]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "birthdate": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        field_classes = {"mailing_country": CountryField}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        for name, model in (("account", Account), ("reports_to", Contact)):
            if name in self.fields:
                field = self.fields[name]
                field.queryset = model.objects.visible_to(user) if user is not None else model.objects.none()
                if name == "reports_to" and self.instance.pk:
                    field.queryset = field.queryset.exclude(pk=self.instance.pk)
                field.widget = LookupSelect()
                field.widget.choices = field.choices
        if "preferred_language" in self.fields:
            current = self.initial.get("preferred_language") or getattr(self.instance, "preferred_language", "")
            choices = [("", "---------"), *language_choices(get_language() or "en")]
            if current and current not in {code for code, _label in choices}:
                choices.append((current, current))  # an imported value we do not list: kept
            disabled = self.fields["preferred_language"].disabled  # read-only for this user: stays so
            self.fields["preferred_language"] = forms.ChoiceField(
                label=self.fields["preferred_language"].label, choices=choices, required=False, widget=FastSelect(),
                disabled=disabled)
        for flag, help_text in (("email_opt_in", _("Agreed to receive marketing email.")),
                                ("email_opt_out", _("Asked not to receive marketing email (withdraws an opt-in).")),
                                ("do_not_call", _("Asked not to be called."))):
            if flag in self.fields:
                when = getattr(self.instance, f"{flag}_at", None)
                if when:
                    from crm.core.formatting import format_datetime

                    source = self.instance._meta.get_field(f"{flag}_source")
                    label = dict(source.flatchoices).get(getattr(self.instance, f"{flag}_source"), "")
                    help_text = _("%(help)s Last changed %(when)s (%(source)s).") % {
                        "help": help_text, "when": format_datetime(when), "source": label}
                self.fields[flag].help_text = help_text

    def clean_reports_to(self):
        boss = self.cleaned_data.get("reports_to")
        if boss is not None and self.instance.pk and boss.pk == self.instance.pk:
            raise forms.ValidationError(_("A contact cannot report to themselves."))
        return boss

    def clean(self):
        data = super().clean()
        if data.get("email_opt_in") and data.get("email_opt_out"):
            self.add_error("email_opt_in", _("A contact cannot both opt in to email and opt out of it."))
        return data


class ContactCreateForm(ContactForm):
    confirm_duplicates = forms.BooleanField(label=_("Save anyway: this is not a duplicate"), required=False)


class RoleForm(forms.Form):
    """A contact's role on an account, added from either record's page: the other record is picked by type-ahead
    among those the user may see."""

    record = forms.ModelChoiceField(queryset=None, widget=LookupSelect())
    role = forms.ChoiceField(label=_("Role"), choices=[("", "---------"), *BuyingRole.choices], widget=FastSelect())
    is_primary = forms.BooleanField(label=_("Primary contact of the account"), required=False)

    def __init__(self, *args, user, pick, **kwargs):
        super().__init__(*args, **kwargs)
        model = Contact if pick == "contact" else Account
        field = self.fields["record"]
        field.queryset = model.objects.visible_to(user)
        field.label = _("Contact") if pick == "contact" else _("Account")
        field.widget.choices = field.choices
        field.error_messages["required"] = _("Pick a contact.") if pick == "contact" else _("Pick an account.")
        field.error_messages["invalid_choice"] = field.error_messages["required"]
        self.fields["role"].error_messages["required"] = _("Choose a role.")
