"""Capture: web-to-lead forms (the builder for admins and the public endpoint anyone may post to). Imports are
the shared import engine's (crm.imports), configured in leads/records.py."""
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from crm.access.models import AuditLog
from crm.access.services import audit
from crm.access.settings_views import render_settings
from crm.activities.services import activity_log
from crm.core import ratelimit
from crm.core.events import emit
from crm.core.middleware import client_ip
from crm.customization.fields import by_key, definitions, form_field, to_json
from leads import services
from leads.models import SOURCE_PICKLIST, Lead, WebForm

RT = "leads.lead"


# --- web-to-lead forms --------------------------------------------------------------------------------------

WEBFORM_FIELDS = ["first_name", "last_name", "email", "phone", "mobile", "company", "title", "website", "street",
                  "city", "state", "postal_code", "country", "industry", "employees", "description",
                  "need_pain_points", "timeline_timeframe"]
HONEYPOT = "contact_me_by_fax"


def _require_webform_admin(user):
    if not user.has_right("manage_customization"):
        raise Http404


def field_choices():
    return ([(n, str(Lead._meta.get_field(n).verbose_name).capitalize()) for n in WEBFORM_FIELDS]
            + [(cf.key, cf.display_label) for cf in definitions(RT)])


class WebFormForm(forms.ModelForm):
    fields_chosen = forms.MultipleChoiceField(label=gettext_lazy("Fields"), widget=forms.CheckboxSelectMultiple)
    required_chosen = forms.MultipleChoiceField(label=gettext_lazy("Required fields"), required=False,
                                                widget=forms.CheckboxSelectMultiple)
    allowed_origins_text = forms.CharField(
        label=gettext_lazy("Sites allowed to embed the form"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One origin per line, e.g. https://www.example.com. Empty: any site may embed it."))

    class Meta:
        model = WebForm
        fields = ["name", "language", "campaign", "source", "default_owner", "thank_you_message", "redirect_url", "is_active"]
        widgets = {"thank_you_message": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from campaigns.models import Campaign
        from crm.access.models import User
        from crm.customization.models import PicklistValue

        choices = field_choices()
        self.fields["fields_chosen"].choices = choices
        self.fields["required_chosen"].choices = choices
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("name")
        self.fields["source"].queryset = PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, is_active=True)
        self.fields["default_owner"].queryset = User.objects.filter(is_active=True)
        if self.instance.pk:
            self.initial.update(fields_chosen=self.instance.fields, required_chosen=self.instance.required_fields,
                                allowed_origins_text="\n".join(self.instance.allowed_origins))
        else:
            self.initial.update(fields_chosen=["first_name", "last_name", "email", "company"],
                                required_chosen=["last_name", "email"])

    def clean_allowed_origins_text(self):
        from urllib.parse import urlsplit

        origins = []
        for line in self.cleaned_data.get("allowed_origins_text", "").splitlines():
            line = line.strip().rstrip("/")
            if not line:
                continue
            parts = urlsplit(line)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise forms.ValidationError(_("“%(origin)s” is not an origin like https://www.example.com.") % {"origin": line})
            origins.append(f"{parts.scheme}://{parts.netloc}")
        return origins

    def clean(self):
        data = super().clean()
        chosen = data.get("fields_chosen") or []
        if "last_name" not in chosen:
            self.add_error("fields_chosen", _("The form must ask for the last name."))
        if any(r not in chosen for r in data.get("required_chosen") or []):
            self.add_error("required_chosen", _("A required field must also be on the form."))
        return data

    def save(self, commit=True):
        form = super().save(commit=False)
        form.fields = self.cleaned_data["fields_chosen"]
        form.required_fields = list(set(self.cleaned_data["required_chosen"]) | {"last_name"})
        form.allowed_origins = self.cleaned_data["allowed_origins_text"]
        if not form.key:
            form.key = secrets.token_urlsafe(12)
        if commit:
            form.save()
        return form


@login_required
def webform_list(request):
    _require_webform_admin(request.user)
    return render_settings(request, "leads/webform_list.html", {"forms": WebForm.objects.select_related("campaign")},
                           section="web_forms")


@login_required
def webform_edit(request, pk=None):
    _require_webform_admin(request.user)
    webform = get_object_or_404(WebForm, pk=pk) if pk else WebForm(created_by=request.user)
    form = WebFormForm(request.POST or None, instance=webform, user=request.user)
    if request.method == "POST" and form.is_valid():
        webform = form.save()
        audit(actor=request.user, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=webform, ip=client_ip(request),
              data={"web_form": webform.name, "fields": webform.fields})
        messages.success(request, _("Web form “%(name)s” saved.") % {"name": webform.name})
        return redirect("leads:webform_edit", pk=webform.pk)
    public_url = request.build_absolute_uri(reverse("leads:webform_public", args=[webform.key])) if webform.pk else ""
    response = render_settings(request, "leads/webform_edit.html", {
        "form": form, "webform": webform, "public_url": public_url,
        "snippet_fields": _public_form_class(webform)() if webform.pk else None}, section="web_forms")
    response.status_code = 422 if request.method == "POST" else 200
    return response


def _public_form_class(webform: WebForm):
    """A form class with the fields the admin picked, validated like the lead form."""
    customs = by_key(RT)
    attrs = {}
    for name in webform.fields:
        if name in customs:
            field = form_field(customs[name])
        elif name in WEBFORM_FIELDS:
            field = Lead._meta.get_field(name).formfield()
        else:
            continue
        field.required = name in webform.required_fields
        attrs[name] = field
    attrs[HONEYPOT] = forms.CharField(required=False, label=gettext_lazy("Leave this empty"))
    return type("PublicLeadForm", (forms.Form,), attrs)


def _embed_headers(response, webform):
    response.xframe_options_exempt = True
    from urllib.parse import urlsplit

    replace = {"frame-ancestors": ["'self'", *webform.allowed_origins] if webform.allowed_origins else ["*"]}
    if webform.redirect_url:  # the redirect after posting must be allowed by form-action
        target = urlsplit(webform.redirect_url)
        replace["form-action"] = ["'self'", f"{target.scheme}://{target.netloc}"]
    response._csp_replace = replace
    return response


@csrf_exempt  # cross-site embedding: no session, no CSRF cookie; the honeypot and the rate limit guard it
@xframe_options_exempt
def webform_public(request, key):
    webform = get_object_or_404(WebForm, key=key, is_active=True)
    with translation.override(webform.language):
        form_class = _public_form_class(webform)
        form = form_class(request.POST or None)
        status = 200
        if request.method == "POST":
            if not ratelimit.hit(f"webform:{webform.pk}:{client_ip(request)}", settings.WEBFORM_RATE_LIMIT):
                response = render(request, "leads/webform_public.html", {
                    "webform": webform, "form": form, "limited": True}, status=429)
                return _embed_headers(response, webform)
            if form.is_valid():
                if not form.cleaned_data.get(HONEYPOT):
                    _submit(webform, form.cleaned_data)
                if webform.redirect_url:
                    return HttpResponseRedirect(webform.redirect_url)
                response = render(request, "leads/webform_public.html", {"webform": webform, "done": True})
                return _embed_headers(response, webform)
            status = 422
        response = render(request, "leads/webform_public.html", {"webform": webform, "form": form}, status=status)
        return _embed_headers(response, webform)


@transaction.atomic
def _submit(webform: WebForm, data: dict) -> Lead:
    """A new lead, or, when the email belongs to a lead already, a returning one: touch and timeline entry."""
    from crm.core.duplicates import find

    customs = by_key(RT)
    existing = None
    if data.get("email"):  # a returning lead: the same email as an open lead
        existing = next((m.record for m in find(Lead, {"email": data["email"]}) if not m.record.is_converted), None)
    if existing is not None:
        lead = existing
    else:
        lead = Lead(source=webform.source or _default_source(), owner=webform.default_owner)
        custom = {}
        for name, value in data.items():
            if name in customs:
                json_value = to_json(customs[name], value)
                if json_value is not None:
                    custom[customs[name].name] = json_value
            elif name in WEBFORM_FIELDS and value not in (None, ""):
                setattr(lead, name, value.upper() if name == "country" else value)
        lead.custom = custom
        lead = services.lead_create(actor=None, lead=lead, assign_by_rules=True, campaign=None)
    if webform.campaign_id:
        from campaigns.services import touch_add

        touch_add(record=lead, campaign=webform.campaign, channel="web_form")
    activity_log(target=lead, verb="web_form", subject=_("Submitted the web form “%(name)s”") % {"name": webform.name},
                 data={"web_form": webform.pk, "returning": existing is not None})
    WebForm.objects.filter(pk=webform.pk).update(submissions=webform.submissions + 1)
    emit("lead.form_submitted", lead, data={"web_form": webform.pk, "returning": existing is not None})
    return lead


def _default_source():
    from crm.customization.models import PicklistValue

    return PicklistValue.objects.filter(picklist=SOURCE_PICKLIST, value="web-form").first()

