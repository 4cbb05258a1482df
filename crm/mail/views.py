"""Settings → E-mail templates: the list, editing a template in each language with a preview, deleting."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.settings_views import render_settings, right_required
from crm.core.middleware import client_ip
from crm.mail import selectors, services, templating
from crm.mail.forms import EmailTemplateForm
from crm.mail.models import EmailTemplate

RIGHT = "manage_customization"


@right_required(RIGHT)
def template_list(request):
    return render_settings(request, "mail/template_list.html", {"templates": selectors.template_list()},
                           section="email_templates")


@right_required(RIGHT)
def template_edit(request, pk: int | None = None):
    template = get_object_or_404(EmailTemplate.objects.prefetch_related("variants"), pk=pk) if pk else None
    form = EmailTemplateForm(request.POST if request.method == "POST" else None, template=template)
    previews = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            for code, label in _languages():
                subject, body = form.variants()[code]
                if subject or body:
                    previews.append((label, services.mail_render_text(
                        subject=subject, body_html=body, record=None, reader=request.user,
                        record_type=data["record_type"], language=code, sample=True)))
        else:
            try:
                template = services.template_save(
                    actor=request.user, name=data["name"], record_type=data["record_type"],
                    variants=form.variants(), description=data["description"], is_active=data["is_active"],
                    template=template, ip=client_ip(request))
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
                return redirect("mail:template_edit", pk=template.pk)
    record_type = (form.data.get("record_type") if form.is_bound else None) or (template.record_type if template else "") \
        or (form.fields["record_type"].choices[0][0] if form.fields["record_type"].choices else "")
    response = render_settings(request, "mail/template_edit.html", {
        "form": form, "template": template, "previews": previews, **_merge_context(request, record_type),
    }, section="email_templates")
    if request.method == "POST" and not previews:
        response.status_code = 422
    return response


def _merge_context(request, record_type: str) -> dict:
    alias = templating.record_alias(record_type) if record_type else "record"
    first = (templating.exposed_fields(record_type) or ["name"])[0] if record_type else "name"
    return {"merge_fields": templating.available(record_type, request.user) if record_type else [],
            "example": "{{ %s.%s }}" % (alias, first), "fallback": '{{ %s.%s|default:"…" }}' % (alias, first)}


@right_required(RIGHT)
def merge_fields(request):
    """The merge fields of the record type just chosen (htmx, beside the template form)."""
    from crm.mail.forms import record_type_choices

    record_type = request.GET.get("record_type", "")
    if record_type not in {key for key, _label in record_type_choices()}:
        record_type = ""
    return render(request, "mail/template_edit.html#merge_fields", _merge_context(request, record_type))


@right_required(RIGHT)
@require_POST
def template_delete(request, pk: int):
    template = get_object_or_404(EmailTemplate, pk=pk)
    name = template.name
    services.template_delete(actor=request.user, template=template, ip=client_ip(request))
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": name})
    return redirect("mail:template_list")


def _languages():
    from django.conf import settings

    return [(code, _(label)) for code, label in settings.LANGUAGES]
