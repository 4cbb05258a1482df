"""The kanban at /opportunities/board/: one board per pipeline, a column per stage with its count and total in the
corporate currency, cards moved by drag and drop (SortableJS posts the move through htmx) or by each card's
"Move to" select. Every move is checked again on the server (visibility, edit rights, locks, the stage's
required fields); a refused move re-renders the board, so the card snaps back, with the reason; a stage that
needs fields asks for them in a dialog and moves once they are given."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.access.fls import readonly_fields
from crm.access.models import User
from crm.core.formatting import format_money, localize_digits
from opportunities.board import Column, board_columns, column_cards, board_pipeline, board_queryset
from opportunities.forms import BoardFilter
from opportunities.models import Opportunity, Pipeline, Stage
from opportunities.rendering import cards_html
from opportunities.views import RT, MoveRefused, _int, _require, editable_or_refuse, hidden_for, move


def _filters(params, *, user, pipeline: Pipeline, hidden: set[str]) -> BoardFilter:
    """The board's filters. The owner select lists every active user."""
    filters = BoardFilter(params, queryset=board_queryset(user=user, pipeline=pipeline) if pipeline else None)
    filters.filters["owner"].queryset = (User.objects.filter(is_active=True).select_related(None)
                                         .only("id", "first_name", "last_name", "email"))
    for name in ("amount_min", "amount_max") if "amount" in hidden else ():
        del filters.filters[name]  # a range on a hidden amount would tell it
    # The owner select's options from the user directory (the same names, no query): read from the users they
    # cost a query and 200 model instances on every board. A chosen owner is still checked against the users.
    owner = filters.form.fields["owner"]
    owner.widget.choices = [("", owner.empty_label), *User.objects.choices(active_only=True)]
    return filters


FILTER_PARAMS = ("owner", "team", "close_from", "close_to", "amount_min", "amount_max")
# The same filters as the list names them, for a column's "N more in the list" link.
LIST_PARAMS = {"owner": "owner", "team": "team", "close_from": "close_date_after", "close_to": "close_date_before",
               "amount_min": "amount_corporate_min", "amount_max": "amount_corporate_max"}


def _context(request, *, params, pipeline: Pipeline | None, notice: str = "", notice_level: str = "success",
             ask=None, pipelines: list[Pipeline] | None = None) -> dict:
    user = request.user
    hidden = hidden_for(user)
    filters = _filters(params, user=user, pipeline=pipeline, hidden=hidden)
    columns = []
    if pipeline is not None:
        stages = list(pipeline.stages.all())
        queryset = filters.qs if filters.is_valid() else board_queryset(user=user, pipeline=pipeline).none()
        columns = board_columns(queryset=queryset, stages=stages)
    corporate = getattr(settings, "CORPORATE_CURRENCY", "EUR")
    for column in columns:
        column.total_text = format_money(column.total, corporate)
        column.count_text = ngettext("%(n)s deal", "%(n)s deals", column.count) % {
            "n": localize_digits(str(column.count))}
    stage_options = "".join(f'<option value="{column.stage.pk}">{escape(str(column.stage))}</option>'
                            for column in columns)
    kept = [(name, params.get(name)) for name in FILTER_PARAMS if params.get(name)]
    can_move = user.can(RT, "edit") and "stage" not in hidden and "stage" not in readonly_fields(user, RT)
    options = mark_safe(f'<option value="">{escape(_("Move to…"))}</option>{stage_options}')
    for column in columns:
        column.cards_html = cards_html(request, column.cards, hidden=hidden, can_move=can_move,
                                       stage_options=options)
    return {
        "pipeline": pipeline, "pipelines": list(Pipeline.objects.all()) if pipelines is None else pipelines,
        "columns": columns, "filter": filters,
        "hidden": hidden,
        "can_move": can_move,
        "corporate": corporate,
        "filter_query": urlencode([(LIST_PARAMS[name], value) for name, value in kept]),
        "board_query": urlencode(kept), "notice": notice, "notice_level": notice_level, "ask": ask,
        "list_url": reverse("opportunities:list"),
        "filtered": bool(kept),
        "can_create": user.can(RT, "create"),
    }


@login_required
def board(request):
    user = request.user
    _require(user, "view")
    pipelines = list(Pipeline.objects.all())
    pipeline = board_pipeline(request.GET.get("pipeline"), pipelines)
    if request.htmx and request.GET.get("part") == "more" and pipeline is not None:
        return _more(request, pipeline)
    context = _context(request, params=request.GET, pipeline=pipeline, pipelines=pipelines)
    if request.htmx and request.GET.get("part") == "board":
        return render(request, "opportunities/board.html#board", context)
    return render(request, "opportunities/board.html", context)


def _more(request, pipeline: Pipeline):
    """htmx: a column's next cards (appended to it) and its new footer."""
    user = request.user
    stage = get_object_or_404(Stage, pk=_int(request.GET.get("stage")), pipeline=pipeline)
    params = request.GET
    hidden = hidden_for(user)
    filters = _filters(params, user=user, pipeline=pipeline, hidden=hidden)
    queryset = filters.qs if filters.is_valid() else board_queryset(user=user, pipeline=pipeline).none()
    offset = _int(params.get("offset")) or 0
    column = Column(stage, count=queryset.filter(stage=stage).count(), offset=offset)
    column.cards = column_cards(queryset=queryset, stage=stage, offset=offset)
    can_move = user.can(RT, "edit") and "stage" not in hidden and "stage" not in readonly_fields(user, RT)
    options = "".join(f'<option value="{s.pk}">{escape(str(s))}</option>' for s in pipeline.stages.all())
    column.cards_html = cards_html(request, column.cards, hidden=hidden, can_move=can_move,
                                   stage_options=mark_safe(f'<option value="">{escape(_("Move to…"))}</option>{options}'))
    kept = [(name, params.get(name)) for name in FILTER_PARAMS if params.get(name)]
    return render(request, "opportunities/_board_more.html", {
        "column": column, "pipeline": pipeline, "list_url": reverse("opportunities:list"),
        "filter_query": urlencode([(LIST_PARAMS[name], value) for name, value in kept]),
        "board_query": urlencode(kept)})


@login_required
@require_POST
def board_move(request, pk):
    """Move a card: from a drop (htmx, answers with the board) or the card's select (a plain form without
    JavaScript: back to the board, or a page asking for the stage's fields)."""
    user = request.user
    _require(user, "view")
    stage = Stage.objects.select_related("pipeline").filter(pk=_int(request.POST.get("stage"))).first()
    if stage is None:  # the select's "Move to…" submitted as it was
        get_object_or_404(Opportunity.objects.visible_to(user), pk=pk)
        opportunity = Opportunity.objects.select_related("pipeline").get(pk=pk)
        if not request.htmx:
            messages.error(request, _("Choose the stage to move to."))
            return redirect(reverse("opportunities:board") + "?" + urlencode({"pipeline": opportunity.pipeline_id}))
        return render(request, "opportunities/board.html#board", _context(
            request, params=request.POST, pipeline=opportunity.pipeline, notice=_("Choose the stage to move to."),
            notice_level="danger"))
    pipeline = stage.pipeline
    params = request.POST
    ask = None
    try:
        opportunity = editable_or_refuse(user, pk)
        if opportunity.pipeline_id != stage.pipeline_id:
            raise MoveRefused(_("“%(name)s” is in another pipeline.") % {"name": opportunity})
        moved, form = move(user=user, opportunity=opportunity, stage=stage, data=request.POST)
    except MoveRefused as exc:
        notice, level = str(exc), "danger"
    else:
        if moved:
            notice, level = _("“%(name)s” moved to %(stage)s.") % {"name": opportunity, "stage": stage}, "success"
        else:
            notice, level = "", "success"
            ask = {"form": form, "opportunity": opportunity, "stage": stage,
                   "action": reverse("opportunities:board_move", args=[pk])}
    if not request.htmx:
        if ask is not None:
            board_url = reverse("opportunities:board") + "?" + urlencode({"pipeline": pipeline.pk})
            return render(request, "opportunities/stage_ask.html", {
                "opportunity": opportunity, "stage": stage, "ask_form": ask["form"], "action": ask["action"],
                "cancel_url": board_url, "extra": {"pipeline": pipeline.pk}})
        (messages.error if level == "danger" else messages.success)(request, notice)
        query = [("pipeline", pipeline.pk)] + [(n, params.get(n)) for n in FILTER_PARAMS if params.get(n)]
        return redirect(reverse("opportunities:board") + "?" + urlencode(query))
    context = _context(request, params=params, pipeline=pipeline, notice=notice, notice_level=level, ask=ask)
    return render(request, "opportunities/board.html#board", context)
