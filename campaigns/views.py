"""Pages of the campaigns app: segments (list, page, create and edit with the live count, copy, delete) and what
their pages ask for after loading (counts, the segment type-ahead of the record lists)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import selectors
from campaigns.forms import MAX_CONDITIONS_TEXT, SegmentForm
from campaigns.models import CAMPAIGN_MEMBER_TYPES, Segment
from campaigns.services import (
    SegmentInvalid,
    segment_add_to_campaign,
    segment_copy,
    segment_create,
    segment_delete,
    segment_update,
)
from crm.core import conditions
from crm.core.cached_relations import attach
from crm.core.formatting import format_number
from crm.core.pagination import ListPage

PER_PAGE = 50
LOOKUP_LIMIT = 20


@login_required
def campaigns_home(request):
    """The Campaigns section opens on its segments (campaign planning and marketing lists join them here)."""
    return redirect("campaigns:segment_list")


# --- the list ---------------------------------------------------------------------------------------------

@dataclass
class Header:
    name: str
    label: str
    sort: str  # the sort parameter a click sets
    direction: str = ""  # aria-sort

    @property
    def secondary(self) -> bool:
        """Left out on phone-width screens."""
        return self.name in ("owner", "shared", "updated_at")


def _headers(sort: str) -> list[Header]:
    labels = {"name": _("Name"), "record_type": _("Segment of"), "members": _("Members you can see"),
              "owner": _("Owner"), "shared": _("Sharing"), "updated_at": _("Updated")}
    current, descending = sort.removeprefix("-"), sort.startswith("-")
    headers = []
    for name, label in labels.items():
        if name not in selectors.SEGMENT_SORTS:  # counted after the page is shown: not sortable
            headers.append(Header(name, label, ""))
        elif name == current:
            headers.append(Header(name, label, name if descending else f"-{name}",
                                  "descending" if descending else "ascending"))
        else:
            headers.append(Header(name, label, name))
    return headers


@login_required
def segment_list(request):
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    record_type = request.GET.get("type", "")
    types = selectors.segment_types(user=request.user)
    if record_type not in {rt.key for rt in types}:
        record_type = ""
    sort = request.GET.get("sort", "name")
    if sort.removeprefix("-") not in selectors.SEGMENT_SORTS or sort.startswith("--"):
        sort = "name"
    mine = request.GET.get("mine") == "1"
    qs = selectors.segment_list(user=request.user, query=query, record_type=record_type, mine=mine, sort=sort)
    page = ListPage(qs, request.GET.get("page"), PER_PAGE)
    rows = list(page)
    attach(rows, "owner")
    labels = {rt.key: str(rt.label_plural).capitalize() for rt in types}
    return render(request, "campaigns/segment_list.html", {
        "page": page, "segments": [(s, labels.get(s.record_type, s.record_type)) for s in rows],
        "headers": _headers(sort), "sort": sort, "q": query, "type": record_type, "mine": mine,
        "types": [(rt.key, labels[rt.key]) for rt in types], "can_create": bool(types),
        "count_ids": ",".join(str(s.pk) for s in rows),
    })


def _count_text(rt, result: selectors.SegmentCount) -> str:
    if rt.list.count_text is None:  # a type whose list does not name its rows
        text = format_number(result.count)
    else:
        text = rt.list.count_text % {"count": result.count, "n": format_number(result.count)}
    return _("More than %(count)s") % {"count": text} if result.capped else text


@login_required
def segment_counts(request):
    """The members' counts of the list's segments, asked for once the list is shown: one span per segment,
    swapped into its row out of band."""
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isascii() and i.isdigit() and len(i) <= 18]
    segments = Segment.objects.visible_to(request.user).filter(pk__in=ids[:PER_PAGE])
    parts = []
    for segment in segments:
        rt = selectors.segment_type(segment.record_type)
        problem = selectors.segment_problem(segment=segment, user=request.user)
        if problem:
            text = f'<span class="text-muted" title="{escape(problem)}">—</span>' \
                   f'<span class="visually-hidden">{escape(problem)}</span>'
        else:
            count = escape(_count_text(rt, selectors.segment_count(segment=segment, user=request.user)))
            text = f'<a href="{escape(rt.list_url())}?segment={segment.pk}">{count}</a>'
        parts.append(f'<span id="segment-count-{segment.pk}" data-segment-count="{segment.pk}" hx-swap-oob="true">'
                     f'{text}</span>')
    return HttpResponse("".join(parts))


# --- one segment ------------------------------------------------------------------------------------------

def _visible(request, pk: int, action: str = "view") -> Segment:
    return get_object_or_404(Segment.objects.visible_to(request.user, action), pk=pk)


@login_required
def segment_detail(request, pk: int):
    segment = _visible(request, pk)
    rt = selectors.segment_type(segment.record_type)
    problem = selectors.segment_problem(segment=segment, user=request.user)
    can_edit = request.user.is_crm_admin or segment.owner_id == request.user.pk
    context = {
        "segment": segment, "rt": rt, "problem": problem,
        "description": selectors.segment_description(segment=segment, user=request.user) if rt else "",
        "can_edit": can_edit,
        # Conditions on fields hidden from the reader are not shown to them, so not offered for editing either
        "can_change": can_edit and rt is not None and not selectors.hidden_in(
            segment.conditions, segment.record_type, user=request.user),
        "can_export": rt is not None and request.user.can(rt.key, "export"),
        "campaigns": (list(selectors.open_campaigns(user=request.user).values_list("pk", "name"))
                      if segment.record_type in CAMPAIGN_MEMBER_TYPES and not problem else []),
    }
    attach(segment, "owner")
    if not problem:
        from crm.lists.engine import RecordList

        listing = RecordList(rt, request.user, QueryDict(f"segment={segment.pk}"))
        members = listing.page()
        context.update(members=members, member_headers=[h.label for h in listing.headers()],
                       members_url=f"{rt.list_url()}?segment={segment.pk}")
    return render(request, "campaigns/segment_detail.html", context)


@login_required
def segment_count(request, pk: int):
    """The members' count of one segment, asked for by its page once shown."""
    segment = _visible(request, pk)
    problem = selectors.segment_problem(segment=segment, user=request.user)
    rt = selectors.segment_type(segment.record_type)
    text = problem or _count_text(rt, selectors.segment_count(segment=segment, user=request.user))
    return render(request, "campaigns/segment_detail.html#count", {"count_text": text, "problem": problem})


@login_required
def segment_create_view(request):
    """A new segment: over the record type asked for (?type=), or, when there is a choice, the page that
    chooses it first."""
    types = selectors.segment_types(user=request.user)
    if not types:
        raise Http404
    asked = request.GET.get("type")
    chosen = next((rt for rt in types if rt.key == asked), None)
    if asked and chosen is None:  # a type they may not view, or none segments are built over
        raise Http404
    if chosen is None and len(types) == 1:
        chosen = types[0]
    if chosen is None:
        hints = {"accounts.contact": _("People at your accounts: “contacts whose title contains CTO”."),
                 "leads.lead": _("Prospects not yet converted: “hot leads from the trade show”."),
                 "accounts.account": _("Companies: “customers in Finland with more than 50 employees”.")}
        choices = [{"key": rt.key, "icon": rt.icon, "label_plural": rt.label_plural, "hint": hints.get(rt.key, "")}
                   for rt in types]
        return render(request, "campaigns/segment_type.html", {"choices": choices})
    return _segment_form(request, None, chosen)


@login_required
def segment_edit(request, pk: int):
    segment = _visible(request, pk, "edit")
    if selectors.hidden_in(segment.conditions, segment.record_type, user=request.user):
        # Its conditions test fields hidden from this user: the form would show their values.
        messages.error(request, selectors.segment_problem(segment=segment, user=request.user))
        return redirect("campaigns:segment_detail", segment.pk)
    rt = selectors.segment_type(segment.record_type)
    if rt is None:
        raise Http404
    return _segment_form(request, segment, rt)


def _segment_form(request, segment: Segment | None, rt):
    initial = {}
    if segment is not None:
        initial = {"name": segment.name, "description": segment.description, "shared": segment.shared,
                   "conditions": segment.conditions}
    form = SegmentForm(request.POST if request.method == "POST" else None, user=request.user,
                       record_type=rt.key, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {key: form.cleaned_data[key] for key in ("name", "description", "shared", "conditions")}
        try:
            if segment is None:
                segment = segment_create(actor=request.user, record_type=rt.key, **values)
                messages.success(request, _("Segment “%(name)s” created.") % {"name": segment.name})
            else:
                segment = segment_update(actor=request.user, segment=segment, record_type=rt.key, **values)
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
        except SegmentInvalid as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("campaigns:segment_detail", segment.pk)
    return render(request, "campaigns/segment_form.html", {
        "form": form, "segment": segment, "rt": rt, "rt_label": str(rt.label_plural).capitalize(),
        "can_choose": segment is None and len(selectors.segment_types(user=request.user)) > 1,
    }, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def segment_delete_view(request, pk: int):
    segment = _visible(request, pk, "edit")
    name = segment.name
    segment_delete(actor=request.user, segment=segment)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": name})
    return redirect("campaigns:segment_list")


@login_required
@require_POST
def segment_copy_view(request, pk: int):
    """Copy a segment the user may use into one of their own, and open it for changing."""
    segment = _visible(request, pk)
    try:
        copy = segment_copy(actor=request.user, segment=segment)
    except SegmentInvalid as exc:
        messages.error(request, str(exc))
        return redirect("campaigns:segment_detail", segment.pk)
    messages.success(request, _("Copied “%(name)s”: the copy is yours to change.") % {"name": segment.name})
    return redirect("campaigns:segment_edit", copy.pk)


@login_required
@require_POST
def segment_campaign_view(request, pk: int):
    """Add the segment's members (those the user may edit) to one of the open campaigns."""
    segment = _visible(request, pk)
    chosen = request.POST.get("campaign", "")
    campaign = None
    if chosen.isascii() and chosen.isdigit() and len(chosen) <= 18:
        campaign = selectors.open_campaigns(user=request.user).filter(pk=int(chosen)).first()
    if campaign is None:
        messages.error(request, _("Choose a campaign."))
        return redirect("campaigns:segment_detail", segment.pk)
    try:
        added = segment_add_to_campaign(actor=request.user, segment=segment, campaign=campaign)
    except (SegmentInvalid, selectors.SegmentNotUsable) as exc:
        messages.error(request, str(exc))
    else:
        if added:
            messages.success(request, _("Added to %(campaign)s: %(count)s.") % {
                "campaign": campaign.name, "count": format_number(added)})
        else:
            messages.warning(request, _("None of the members are records you may edit, so none were added."))
    return redirect("campaigns:segment_detail", segment.pk)


# --- the live count of the builder --------------------------------------------------------------------------

def _complete(node, dropped: list):
    """The conditions without the rows still being filled in (no field, operator or value yet), so the count
    follows the builder as it is used; None for a group left empty by that. Each row left out is added to
    `dropped`."""
    if isinstance(node, dict) and ("all" in node or "any" in node):
        key = "all" if "all" in node else "any"
        children = node[key] if isinstance(node[key], list) else []
        kept = [c for c in (_complete(child, dropped) for child in children) if c is not None]
        return {key: kept} if kept else None
    if not isinstance(node, dict):
        return node  # not a condition: left for the check to refuse
    op = node.get("op") or ""
    value = node.get("value")
    empty = value in (None, "", []) or (isinstance(value, str) and not value.strip())
    if not node.get("field") or not op or (op not in conditions.NO_VALUE and empty):
        dropped.append(node)
        return None
    return node


@login_required
@require_POST
def segment_preview(request):
    """How many records the builder's conditions match among those the user may see, or why they cannot be
    counted: the count line of the segment form, posted (debounced) on every change of the builder."""
    record_type = request.POST.get("record_type", "")
    raw = request.POST.get("conditions", "")
    message, text, partial, sample, result = "", "", False, [], None
    try:
        if len(raw) > MAX_CONDITIONS_TEXT:
            raise ValueError
        condition = json.loads(raw) if raw.strip() else {"all": []}
    except (ValueError, RecursionError):
        message = _("The conditions could not be read.")
    else:
        if isinstance(condition, list):
            condition = {"all": condition}
        dropped: list = []
        complete = _complete(condition, dropped)
        partial = bool(dropped)
        if complete is None:
            complete = {"all": []}
        try:
            members = selectors.conditions_members(user=request.user, record_type=record_type, condition=complete)
        except selectors.SegmentNotUsable as exc:
            message = str(exc)
        else:
            result = selectors.capped_count(members)
            text = _count_text(selectors.segment_type(record_type), result)
            if result.count:
                sample = selectors.sample_members(members, user=request.user, record_type=record_type)
    return render(request, "campaigns/segment_form.html#count", {
        "count_text": text, "message": message, "partial": partial, "sample": sample,
        "more": bool(sample) and (result.capped or result.count > len(sample))})


# --- the segment picker of the record lists -----------------------------------------------------------------

@login_required
def segment_lookup(request):
    """Type-ahead of the lists' "Segment" filter: the user's segments of one type that they can use, whose
    name contains every typed word. JSON [{value, text}]."""
    record_type = request.GET.get("type", "")
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if selectors.segment_type(record_type) is None or not request.user.can(record_type, "view"):
        return JsonResponse({"results": []})
    results = []
    for segment in selectors.segment_list(user=request.user, query=query, record_type=record_type)[:LOOKUP_LIMIT * 2]:
        if not selectors.segment_problem(segment=segment, user=request.user):
            results.append({"value": segment.pk, "text": segment.name})
    return JsonResponse({"results": results[:LOOKUP_LIMIT]})

