"""Pages every record type with the shared duplicate and merge machinery gets: the "possible duplicates" panel
of its detail page (loaded after the page), the warning while a new record is typed, and the merge screen."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm.access.fls import hidden_fields
from crm.core import display, duplicates, records
from crm.core.merge import MergeRefused, mergeable_fields, record_merge
from crm.lists.engine import HostileInput, check_params


def _type(request, slug: str, action: str = "view"):
    rt = records.by_slug(slug)
    if rt is None or not request.user.can(rt.key, action):
        raise Http404
    return rt


def _locked_ids(rt, ids) -> set[int]:
    from crm.core.locks import locked_ids

    return locked_ids(rt, ids)


def _can_merge(request, rt, record, locked: set[int]) -> bool:
    # A merge deletes one of the two records: it takes the right to delete as well as to edit.
    return (rt.merge is not None and record.pk not in locked and request.user.can(rt.key, "edit")
            and request.user.can(rt.key, "delete")
            and rt.model.objects.visible_to(request.user, "edit").filter(pk=record.pk).exists())


def _merge_value(record, name: str, merged: set[int]):
    """What a merge compares: the stored value, not its display (two owners may share a name). A reference to
    either merged record from the record itself reads as empty: merged, it would point at itself."""
    if name.startswith("cf_"):
        value = (record.custom or {}).get(name[3:])
    else:
        field = record._meta.get_field(name)
        value = getattr(record, field.attname)
        if field.is_relation and field.related_model is type(record) and value in merged:
            value = None
    return "" if value is None else value


def _with_owners(matches: list) -> list:
    """The warning names each match's owner: read in one query, not one per match."""
    prefetch_related_objects([m.record for m in matches], "owner")
    return matches


@login_required
def history(request, slug: str, pk: int):
    """A record page's History tab, loaded when the tab is opened (reading and comparing up to a hundred
    history rows was a tenth of the page)."""
    from crm.core.history import field_history

    rt = _type(request, slug)
    record = get_object_or_404(rt.model.objects.visible_to(request.user), pk=pk)
    return render(request, "core/_history.html", {"history": field_history(record, request.user)})


@login_required
def duplicates_panel(request, slug: str, pk: int):
    """The detail page's "possible duplicates", loaded by htmx after the page: the similar-name search never
    holds the page up. Matches the reader may not see are counted, never shown."""
    rt = _type(request, slug)
    if rt.duplicates is None:
        raise Http404
    record = get_object_or_404(rt.model.objects.visible_to(request.user), pk=pk)
    matches, hidden = duplicates.visible_split(request.user, rt.model, duplicates.find_for(record))
    locked = _locked_ids(rt, [pk, *(m.record.pk for m in matches)])
    if pk in locked:  # a read-only record (a converted lead) has nothing to merge
        matches, hidden = [], 0
    for m in matches:
        m.locked = m.record.pk in locked
    return render(request, "records/_duplicates_panel.html", {
        "rt": rt, "record": record, "duplicates": matches, "hidden_duplicates": hidden,
        "can_merge": bool(matches) and _can_merge(request, rt, record, locked)})


@login_required
def duplicate_check(request, slug: str):
    """htmx from a create form: possible duplicates of what is typed so far."""
    rt = _type(request, slug, "create")
    if rt.duplicates is None:
        raise Http404
    try:
        check_params(request.GET)
    except HostileInput:
        return render(request, "records/_duplicates.html", {"rt": rt, "duplicates": [], "hidden_duplicates": 0})
    spec = rt.duplicates
    names = {f for f in (spec.email, *spec.phones, spec.country, *spec.similar) if f}
    values = {n: request.GET.get(n, "")[:200] for n in names}
    matches, hidden = duplicates.visible_split(request.user, rt.model, duplicates.find(rt.model, values))
    return render(request, "records/_duplicates.html", {"rt": rt, "duplicates": _with_owners(matches),
                                                        "hidden_duplicates": hidden})


def duplicate_warning(request, rt, form) -> tuple[list, int]:
    """Possible duplicates of what a create or edit form holds (visible ones listed, the rest counted)."""
    spec = rt.duplicates
    if spec is None:
        return [], 0
    names = {f for f in (spec.email, *spec.phones, spec.country, *spec.similar) if f}
    values = {n: form.cleaned_data.get(n, "") for n in names}
    matches, hidden = duplicates.visible_split(request.user, rt.model,
                                               duplicates.find(rt.model, values, exclude_pk=form.instance.pk))
    return _with_owners(matches), hidden


@login_required
def merge(request, slug: str, pk: int):
    rt = _type(request, slug, "edit")
    if rt.merge is None:
        raise Http404
    editable = rt.model.objects.visible_to(request.user, "edit")
    survivor = get_object_or_404(editable, pk=pk)
    other_pk = request.GET.get("other") or request.POST.get("other") or ""
    other = get_object_or_404(editable, pk=int(other_pk) if other_pk.isdigit() else 0)
    locked = _locked_ids(rt, [survivor.pk, other.pk])
    if not _can_merge(request, rt, survivor, locked) or not _can_merge(request, rt, other, locked) or other.pk == survivor.pk:
        messages.error(request, _("These records cannot be merged."))
        return redirect(survivor.get_absolute_url())
    hidden = hidden_fields(request.user, rt.key)
    merged = {survivor.pk, other.pk}
    rows = []
    for name in mergeable_fields(rt, request.user):
        if name in hidden:
            continue
        left_value, right_value = _merge_value(survivor, name, merged), _merge_value(other, name, merged)
        if left_value != right_value:
            left = display.field_value(survivor, name) if left_value != "" else ""
            right = display.field_value(other, name) if right_value != "" else ""
            rows.append({"name": name, "label": display.field_label(rt.model, name), "left": left, "right": right,
                         "pick_right": not left and bool(right)})
    if request.method == "POST":
        take = {r["name"] for r in rows if request.POST.get(f"pick_{r['name']}") == "other"}
        try:
            record_merge(actor=request.user, survivor=survivor, other=other, take_from_other=take)
        except (MergeRefused, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": survivor})
            return redirect(survivor.get_absolute_url())
    return render(request, "records/merge.html", {"rt": rt, "record": survivor, "other": other, "rows": rows})
