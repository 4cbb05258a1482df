"""Stage history, sales velocity and win/loss pages: thin views over opportunities.analytics."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from opportunities import analytics
from opportunities.forecasts import amounts_hidden, parse_period
from opportunities.forms_forecasts import DateRangeForm
from opportunities.models import PeriodKind, Pipeline

RT = "opportunities.opportunity"


def require_view(user) -> None:
    if not user.can(RT, "view"):
        raise Http404


@login_required
def stage_history(request):
    user = request.user
    require_view(user)
    pipelines = list(Pipeline.objects.all())
    if not pipelines:
        raise Http404
    pipeline = next((p for p in pipelines if str(p.pk) == request.GET.get("pipeline")), None) or next(
        (p for p in pipelines if p.is_default), pipelines[0])
    kind, last_start = parse_period(request.GET.get("kind"), None)
    periods = analytics.velocity(user, kind, last_start, pipeline=pipeline)
    # By rep and by team: the chosen period, by default the last complete one (the current one has barely begun).
    try:
        chosen = min(max(int(request.GET.get("period", len(periods) - 2)), 0), len(periods) - 1)
    except ValueError:
        chosen = len(periods) - 2
    reps, teams = analytics.velocity_groups(periods[chosen])
    hidden = amounts_hidden(user)
    chart = {"labels": [p.label for p in periods],
             "values": [None if hidden or p.total.velocity is None else float(p.total.velocity) for p in periods],
             "label": str(PeriodKind(kind).label)}
    return render(request, "opportunities/analytics/stage_history.html", {
        "pipelines": pipelines, "pipeline": pipeline, "kind": kind, "kinds": PeriodKind.choices,
        "stages": analytics.stage_history(user, pipeline), "periods": periods, "chosen": chosen,
        "period": periods[chosen], "overall": analytics.pooled(periods), "reps": reps, "teams": teams,
        "amounts_hidden": hidden, "chart": chart, "rep_trend": [] if hidden else analytics.rep_trend(periods),
        "section": "analytics",
    })


@login_required
def win_loss(request):
    user = request.user
    require_view(user)
    start, end = DateRangeForm.default_range(timezone.localdate())
    form = DateRangeForm(request.GET or None, initial={"start": start, "end": end})
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif not request.GET:
        form = DateRangeForm(initial={"start": start, "end": end})
    return render(request, "opportunities/analytics/win_loss.html", {
        "form": form, "start": start, "end": end, "amounts_hidden": amounts_hidden(user),
        "section": "win_loss", **analytics.win_loss(user, start, end),
    })
