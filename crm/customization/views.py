"""Admin pages for custom fields and picklists (right: manage_customization)."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from crm.access.settings_views import client_ip, form_copy, render_settings, right_required
from crm.core import records
from crm.customization import services
from crm.customization.forms import CustomFieldForm, PicklistFormSet, PicklistValueAddForm
from crm.customization.models import CustomField, PicklistValue


def _record_type(key: str):
    try:
        return records.get(key)
    except KeyError:
        raise Http404 from None


@right_required("manage_customization")
def field_list(request, record_type=None):
    types = records.all_types()
    if record_type is None:
        if not types:
            raise Http404
        return redirect("customization:field_list", record_type=types[0].key)
    rt = _record_type(record_type)
    fields = CustomField.objects.filter(record_type=rt.key).order_by("order", "id")
    ctx = {"record_type": rt, "record_types": types, "fields": fields}
    return render_settings(request, "customization/field_list.html", ctx, section="custom_fields")


@right_required("manage_customization")
def field_form(request, record_type, pk=None):
    rt = _record_type(record_type)
    field = get_object_or_404(CustomField, pk=pk, record_type=rt.key) if pk else None
    form = CustomFieldForm(request.POST or None, instance=form_copy(field), record_type=rt.key)
    if request.method == "POST" and form.is_valid():
        if field is None:
            field = services.custom_field_create(actor=request.user, ip=client_ip(request), record_type=rt.key,
                                                 name=form.cleaned_data["name"], **form.service_fields())
            messages.success(request, _("Field %(field)s saved.") % {"field": field.label})
            return redirect("customization:field_list", record_type=rt.key)
        try:
            services.custom_field_update(actor=request.user, ip=client_ip(request), field=field, **form.service_fields())
        except ValueError:
            form.add_error("field_type", _("Records already hold values of this field, so its type cannot change."))
        else:
            messages.success(request, _("Field %(field)s saved.") % {"field": field.label})
            return redirect("customization:field_list", record_type=rt.key)
    ctx = {"form": form, "object": field, "record_type": rt}
    return render_settings(request, "customization/field_form.html", ctx, section="custom_fields")


@right_required("manage_customization")
def field_set_active(request, record_type, pk):
    if request.method != "POST":
        raise Http404
    field = get_object_or_404(CustomField, pk=pk, record_type=record_type)
    active = request.POST.get("active") == "1"
    services.custom_field_set_active(actor=request.user, field=field, active=active, ip=client_ip(request))
    messages.success(request, (_("Field %(field)s is active again.") if active
                               else _("Field %(field)s is deactivated; stored values are kept.")) % {"field": field.label})
    return redirect("customization:field_list", record_type=record_type)


@right_required("manage_customization")
def picklist_list(request):
    picklists = [{"name": name, "title": services.picklist_title(name)} for name in services.picklist_names()]
    return render_settings(request, "customization/picklist_list.html", {"picklists": picklists}, section="picklists")


@right_required("manage_customization")
def picklist_detail(request, name):
    values = PicklistValue.objects.filter(picklist=name).order_by("order", "id")
    if not values.exists():
        raise Http404
    add_form = PicklistValueAddForm(picklist=name, prefix="add")
    formset = PicklistFormSet(queryset=values, prefix="values")
    if request.method == "POST" and request.POST.get("intent") == "add":
        add_form = PicklistValueAddForm(request.POST, picklist=name, prefix="add")
        if add_form.is_valid():
            services.picklist_value_create(
                actor=request.user, ip=client_ip(request), picklist=name, value=add_form.cleaned_data["value"],
                label=add_form.cleaned_data["label"], label_translations=add_form.translations())
            messages.success(request, _("Value added."))
            return redirect("customization:picklist", name=name)
    elif request.method == "POST":
        formset = PicklistFormSet(request.POST, queryset=values, prefix="values")
        if formset.is_valid():
            services.picklist_values_update(actor=request.user, ip=client_ip(request), picklist=name,
                                            rows=[f.row() for f in formset.forms])
            messages.success(request, _("Picklist saved."))
            return redirect("customization:picklist", name=name)
    ctx = {"name": name, "title": services.picklist_title(name), "formset": formset, "add_form": add_form}
    return render_settings(request, "customization/picklist_detail.html", ctx, section="picklists")
