"""The list pages of every record type, and what they post to: bulk actions,
saved views, and the type-ahead lookup that pickers of related records use.

An app's urls.py points its list URL here: `path("", record_list, {"record_type": "leads.lead"}, name="list")`."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.access.fls import hidden_fields
from crm.access.models import AuditLog
from crm.access.services import audit
from crm.core import records
from crm.core.middleware import client_ip
from crm.core.widgets import select_html
from crm.lists import services
from crm.lists.engine import HostileInput, RecordList, check_params
from crm.lists.export import export_response
from crm.lists.forms import SavedViewForm
from crm.lists.models import SavedView

LOOKUP_LIMIT = 20


def _type(request, record_type: str, action: str = "view"):
    try:
        rt = records.get(record_type) if "." in record_type else records.by_slug(record_type)
    except KeyError:
        rt = None
    if rt is None or rt.list is None or not request.user.can(rt.key, action):
        raise Http404
    return rt


@login_required
def record_list(request, record_type: str):
    rt = _type(request, record_type)
    try:
        listing = RecordList(rt, request.user, request.GET)
    except HostileInput as exc:
        return render(request, "lists/refused.html", {"rt": rt, "message": str(exc)}, status=400)
    fmt = request.GET.get("export")
    if fmt in ("csv", "xlsx"):
        if not request.user.can(rt.key, "export"):
            raise Http404
        audit(actor=request.user, action=AuditLog.Action.EXPORT, target_type=rt.key, ip=client_ip(request),
              data={"format": fmt, "query": listing.current_query()})
        return export_response(listing, fmt)
    if request.GET.get("count"):  # the count line, asked for by the page once it is shown
        return render(request, "lists/list.html#count", {"rt": rt, "spec": rt.list, "paginator": listing.count()})
    context = _context(request, rt, listing)
    if request.htmx and not request.htmx.boosted:
        # The results alone; with them, out of band, the parts outside that hold the query (the exports'
        # links, "Save this view"), or they would export and save the list as it was before the filter.
        return render(request, "lists/list.html#results", {**context, "fragment": True})
    return render(request, rt.list.template, context)


def _context(request, rt, listing: RecordList) -> dict:
    user, spec = request.user, rt.list
    actions = [a for a in services.bulk_actions(rt) if user.can(rt.key, a.permission)]
    page = listing.page(selectable=bool(actions))
    current = listing.current_query()
    import_url = reverse("imports:start", args=[rt.slug]) if rt.imports is not None else ""
    return {
        "rt": rt, "spec": spec, "listing": listing, "filter": listing.filterset, "page": page, "rows": page.rows,
        "headers": listing.headers(), "q": listing.query, "sort": listing.sort, "current_query": current,
        "list_messages": listing.messages,
        "column_choices": _column_choices(listing), "filters_html": _filters_html(listing),
        "builtin_views": spec.views, "saved_views": services.saved_views(user=user, record_type=rt.key),
        "bulk_actions": [(a, select_html(a.choices(user), name=f"value_{a.key}", id=f"bulk-{a.key}", empty=a.prompt)
                          if a.choices else None) for a in actions],
        "can_create": user.can(rt.key, "create") and bool(rt.create_url()),
        "can_import": bool(import_url) and user.can(rt.key, "import"), "import_url": import_url,
        "can_export": user.can(rt.key, "export"),
        "view_form": SavedViewForm(),
    }


_filter_html: dict[tuple, str] = {}


def _filters_html(listing: RecordList) -> str:
    """The filter panel's fields. Written once per process for each query, language, set of hidden fields and
    version of what the choices come from (picklists, users, custom fields), then reused: the panel is the
    same for everyone in those, and writing it was a tenth of the page. Not kept when a choice comes from
    elsewhere (a model's rows the type's ListSpec.cached_choices does not cover, a record picked in a look-up)
    or the input has errors."""
    from django import forms
    from django.utils.translation import get_language

    from crm.access.directory import users_config
    from crm.core.templatetags.crm import filter_fields
    from crm.core.widgets import LookupSelect
    from crm.customization.fields import custom_fields_config
    from crm.customization.picklists import picklist_config

    form = listing.filterset.form
    key = None
    data = form.data if form.is_bound else {}
    # A type's own version tokens may cover some model-choice filters (the opportunity list's pipelines,
    # stages and teams): those do not stop the panel from being kept.
    cached = listing.rt.list.cached_choices
    covered, versions = cached() if cached is not None else (frozenset(), ())
    keep = not (form.is_bound and form.errors) and not any(
        isinstance(field, forms.ModelChoiceField) and (not isinstance(field.widget, LookupSelect) or data.get(name))
        and not (name in covered and not isinstance(field.widget, LookupSelect))
        for name, field in form.fields.items())
    if keep:
        values = data.getlist if hasattr(data, "getlist") else (lambda name: [data[name]])
        given = tuple((name, tuple(values(name))) for name in form.fields if name in data)
        key = (listing.rt.key, get_language(), listing.hidden, custom_fields_config.version(),
               picklist_config.version(), users_config.version(), versions, given)
        html = _filter_html.get(key)
        if html is not None:
            return html
    html = filter_fields(form)
    if key is not None:
        if len(_filter_html) >= 500:
            _filter_html.clear()
        _filter_html[key] = html
    return html


def _column_choices(listing: RecordList) -> list[dict]:
    """The column chooser's rows: the shown columns in their order, then the others; labels translated
    here, not by a template tag per row."""
    shown = {c.name for c in listing.columns}
    up, down = _("Move %(name)s up"), _("Move %(name)s down")
    columns = [*listing.columns, *(c for c in listing.available.values() if c.name not in shown)]
    return [{"name": c.name, "label": c.label, "shown": c.name in shown, "up": up % {"name": c.label},
             "down": down % {"name": c.label}} for c in columns]


@login_required
@require_POST
def bulk(request, record_type: str):
    rt = _type(request, record_type)
    back = services.list_back_url(request, rt)
    # ASCII digits only ("²".isdigit() is true, and int() refuses it), and no more than an id can be.
    ids = [int(i) for i in request.POST.getlist("ids") if i.isascii() and i.isdigit() and len(i) <= 18][:10_000]
    action = next((a for a in services.bulk_actions(rt) if a.key == request.POST.get("action")), None)
    if action is None:
        messages.error(request, _("Choose an action."))
        return redirect(back)
    if not request.user.can(rt.key, action.permission):
        raise Http404
    if not ids:
        messages.warning(request, _("Select at least one record."))
        return redirect(back)
    value = None
    if action.choices is not None:
        raw = request.POST.get(f"value_{action.key}", "")
        value = next((v for v, _label in action.choices(request.user) if str(v) == raw), None)
        if value is None:
            messages.error(request, _("Choose a value for “%(action)s”.") % {"action": action.label})
            return redirect(back)
    selected = len(ids)
    if action.permission in ("edit", "delete"):  # locked records (awaiting approval...) are left as they are
        from crm.core.locks import locked_ids

        locked = locked_ids(rt, ids)
        ids = [i for i in ids if i not in locked]
    count = action.run(actor=request.user, ids=ids, value=value)
    label = next((str(lbl) for v, lbl in action.choices(request.user) if v == value), "") if action.choices else ""
    messages.success(request, action.done % {"count": count, "value": label})
    if selected > count:
        unchanged = selected - count
        messages.info(request, ngettext(
            "%(count)s of the selected records was left unchanged (no change needed, or not yours to change).",
            "%(count)s of the selected records were left unchanged (no change needed, or not yours to change).",
            unchanged) % {"count": unchanged})
    return redirect(back)


@login_required
@require_POST
def view_save(request, record_type: str):
    rt = _type(request, record_type)
    form = SavedViewForm(request.POST)
    back = rt.list_url()
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(back)
    query = request.POST.get("query", "")
    try:  # a view the list would refuse to open is no view
        check_params(QueryDict(query[:2000]))
    except HostileInput as exc:
        messages.error(request, str(exc))
        return redirect(back)
    view = services.saved_view_create(owner=request.user, record_type=rt.key, name=form.cleaned_data["name"],
                                      shared=form.cleaned_data["shared"], query=query)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{back}?{view.query}" if view.query else back)


@login_required
@require_POST
def view_delete(request, pk: int):
    view = get_object_or_404(SavedView, pk=pk, owner=request.user)
    rt = _type(request, view.record_type)
    services.saved_view_delete(view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(rt.list_url())


@login_required
def lookup(request, record_type: str):
    """Type-ahead for pickers of a related record (Tom Select): the visible records whose search fields,
    those the reader may see, contain every typed word. JSON [{value, text}]."""
    rt = _type(request, record_type)
    try:
        check_params(request.GET)
    except HostileInput as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    query = request.GET.get("q", "").strip()[:100]
    hidden = hidden_fields(request.user, rt.key)
    paths = [p for p in (rt.list.search_fields or rt.search_fields) if p.split("__", 1)[0] not in hidden]
    qs = rt.model.objects.visible_to(request.user)
    if query:
        if not paths:
            return JsonResponse({"results": []})
        for word in query.split():
            condition = Q()
            for path in paths:
                condition |= Q(**{f"{path}__icontains": word})
            qs = qs.filter(condition)
    results = [{"value": obj.pk, "text": str(obj)} for obj in qs.order_by(*rt.model._meta.ordering or ["pk"])[:LOOKUP_LIMIT]]
    return JsonResponse({"results": results})
