import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.access.models import DateFormat, User


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


def timezone_choices():
    import zoneinfo

    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class PreferencesForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "language", "timezone", "date_format", "use_jalali"]
        widgets = {"date_format": forms.RadioSelect(choices=DateFormat.choices)}


# --- Two-factor authentication -----------------------------------------------------------------

class OTPCodeField(forms.CharField):
    """Six digits; spaces (as apps show them, "123 456") are ignored."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("6-digit code"))
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = re.sub(r"\s", "", super().clean(value) or "")
        if not re.fullmatch(r"\d{6}", value):
            raise ValidationError(_("Enter the 6-digit code from your authenticator app."), code="format")
        return value


def verify_otp_code(device, code: str):
    """The device (freshly loaded) when `code` is right for it; raises ValidationError otherwise.
    Goes through django_otp.verify_token, which locks the row so a code is accepted once and
    repeated failures are throttled."""
    from django_otp import verify_token

    allowed, _info = device.verify_is_allowed()
    if not allowed:
        raise ValidationError(_("Too many wrong codes. Wait a moment, then enter the current code."), code="throttled")
    verified = verify_token(device.user, device.persistent_id, code)
    if verified is None:
        raise ValidationError(_("That code is not correct. Enter the code your authenticator app shows now."),
                              code="invalid")
    return verified


class OTPCodeForm(forms.Form):
    """One code for `device`: confirming a new device, and the second sign-in step."""

    code = OTPCodeField()

    def __init__(self, *args, device, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_code(self):
        self.device = verify_otp_code(self.device, self.cleaned_data["code"])
        return self.cleaned_data["code"]


class TwoFactorDisableForm(forms.Form):
    password = forms.CharField(label=_("Current password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = OTPCodeField(widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))

    def __init__(self, *args, user, device, **kwargs):
        self.user, self.device = user, device
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if "password" in cleaned and not self.user.check_password(cleaned["password"]):
            self.add_error("password", _("Your password was entered incorrectly."))
        # The code is checked only after the password: a wrong password must not use up a valid code.
        elif "password" in cleaned and "code" in cleaned:
            try:
                self.device = verify_otp_code(self.device, cleaned["code"])
            except ValidationError as error:
                self.add_error("code", error)
        return cleaned
