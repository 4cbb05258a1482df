"""The sales dashboard: a manager's home page (and /opportunities/dashboard/ for everyone who sees deals).

Six figures, each over what the reader may see (a manager their subtree, a rep their own deals), each
linking to the list of records behind it, none cached (a saved change shows on the next load):
- pipeline by stage: the open deals of a pipeline per stage, count, amount and weighted amount;
- forecast against quota: this quarter's closed won, commit, best case and pipeline beside the quota
  (opportunities.forecasts);
- win rate and sales velocity: the last four quarters (opportunities.analytics.velocity, one query for both);
- the lead funnel, MQL → SAL → SQL → won, over the leads created in the last twelve months (leads.funnel),
  once leads have lifecycle history;
- the top open deals by amount.
Amounts are in the corporate currency (the columns the database keeps)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.models import Role
from opportunities import analytics
from opportunities.forecasts import amounts_hidden, forecast, period_end, period_start, shift
from opportunities.models import Opportunity, PeriodKind, Pipeline, Stage

RT = "opportunities.opportunity"
TOP_DEALS = 10
TREND_QUARTERS = 4
FUNNEL_MONTHS = 12


def _list(**params) -> str:
    return reverse("opportunities:list") + "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


@dataclass
class Bar:
    label: str
    count: int
    amount: Decimal
    url: str
    weighted: Decimal | None = None


def pipeline_by_stage(user, pipeline: Pipeline) -> list[Bar]:
    """Each open stage of `pipeline` in order, with its visible deals' count, amount and weighted amount
    (one GROUP BY)."""
    stages = [s for s in pipeline.stages.all() if s.outcome == Stage.Outcome.OPEN]
    totals = {row["stage_id"]: row for row in Opportunity.objects.visible_to(user)
              .filter(pipeline=pipeline, stage__outcome=Stage.Outcome.OPEN).order_by().values("stage_id")
              .annotate(n=Count("id"), amount=Sum("amount_corporate", default=Decimal(0)),
                        weighted=Sum("expected_revenue", default=Decimal(0)))}
    return [Bar(str(stage), totals.get(stage.pk, {}).get("n", 0), totals.get(stage.pk, {}).get("amount", Decimal(0)),
                _list(pipeline=pipeline.pk, stage=stage.pk), totals.get(stage.pk, {}).get("weighted", Decimal(0)))
            for stage in sorted(stages, key=lambda s: (s.order, s.pk))]


def forecast_bars(result, kind: str, start: dt.date) -> list[Bar]:
    deals = reverse("opportunities:forecast_deals")
    total = result.total

    def link(category: str) -> str:
        return deals + "?" + urlencode({"kind": kind, "start": start.isoformat(), "category": category})

    return [Bar(_("Closed won"), total.won_n, total.won, link("won")),
            Bar(_("Commit"), total.commit_n, total.commit, link("commit")),
            Bar(_("Best case"), total.best_case_n, total.best_case, link("best_case")),
            Bar(_("Pipeline"), total.pipeline_n, total.pipeline, link("pipeline"))]


@dataclass
class Trend:
    label: str
    start: dt.date
    end: dt.date  # exclusive
    won_n: int
    lost_n: int
    win_rate: Decimal | None
    velocity: Decimal | None
    won_url: str
    lost_url: str
    velocity_url: str


def trends(user, today: dt.date) -> list[Trend]:
    """Win rate and sales velocity for the last four quarters, this one included (one query)."""
    last = period_start(today, PeriodKind.QUARTER)
    periods = analytics.velocity(user, PeriodKind.QUARTER, last, count=TREND_QUARTERS)
    result = []
    for index, p in enumerate(periods):
        closed = {"closed_after": p.start.isoformat(), "closed_before": (p.end - dt.timedelta(days=1)).isoformat()}
        result.append(Trend(
            p.label, p.start, p.end, p.total.won_n, p.total.lost_n, p.total.win_rate, p.total.velocity,
            _list(won=1, **closed), _list(lost=1, **closed),
            reverse("opportunities:analytics") + "?" + urlencode({"kind": PeriodKind.QUARTER, "period": index})))
    return result


def top_deals(user) -> list[Opportunity]:
    return list(Opportunity.objects.visible_to(user).filter(stage__outcome=Stage.Outcome.OPEN,
                                                             amount_corporate__isnull=False)
                .select_related("account", "owner", "stage").order_by("-amount_corporate", "id")[:TOP_DEALS])


def funnel_context(user, today: dt.date) -> dict | None:
    from leads import funnel

    if not user.can("leads.lead", "view") or not funnel.has_history():
        return None
    since = shift(today.replace(day=1), PeriodKind.MONTH, -(FUNNEL_MONTHS - 1))
    result = funnel.funnel(user, since)
    leads = reverse("leads:list")
    steps = [{"key": key, "label": label, "count": count,
              "url": leads + "?" + urlencode({"reached": key, "created_after": since.isoformat()})}
             for key, label, count in result.steps()]
    return {"since": since, "created": result.created, "steps": steps,
            "created_url": leads + "?" + urlencode({"created_after": since.isoformat()})}


def chart_data(*, stages: list[Bar], forecast_figures: list[Bar], quota, trend: list[Trend], funnel: dict | None) -> dict:
    """What static/js/sales_dashboard.js draws: labels, values and each bar's link (the tables under the
    charts hold the same numbers and links)."""
    return {
        "pipeline": {"labels": [b.label for b in stages], "values": [float(b.amount) for b in stages],
                     "links": [b.url for b in stages], "label": _("Open amount")},
        "forecast": {"labels": [b.label for b in forecast_figures], "values": [float(b.amount) for b in forecast_figures],
                     "links": [b.url for b in forecast_figures], "quota": None if quota is None else float(quota),
                     "label": _("Amount"), "quota_label": _("Quota")},
        "win_rate": {"labels": [t.label for t in trend],
                     "values": [None if t.win_rate is None else float(t.win_rate) for t in trend],
                     "links": [t.won_url for t in trend], "label": _("Win rate %")},
        "velocity": {"labels": [t.label for t in trend],
                     "values": [None if t.velocity is None else float(t.velocity) for t in trend],
                     "links": [t.velocity_url for t in trend], "label": _("Sales velocity per day")},
        "funnel": None if funnel is None else {
            "labels": [s["label"] for s in funnel["steps"]], "values": [s["count"] for s in funnel["steps"]],
            "links": [s["url"] for s in funnel["steps"]], "label": _("Leads")},
    }


def is_manager(user) -> bool:
    """Whoever has roles below theirs (or is an admin): their home page opens with the dashboard."""
    if user.is_crm_admin:
        return True
    return bool(user.role_id) and Role.objects.filter(parent_id=user.role_id).exists()


def dashboard(user, *, pipeline_id: str | None = None, today: dt.date | None = None) -> dict | None:
    """The dashboard's context, or None for a user who may not see deals or their amounts."""
    if not user.can(RT, "view") or amounts_hidden(user):
        return None
    today = today or timezone.localdate()
    pipelines = list(Pipeline.objects.prefetch_related("stages"))
    if not pipelines:
        return None
    pipeline = next((p for p in pipelines if str(p.pk) == str(pipeline_id)), None) or next(
        (p for p in pipelines if p.is_default), pipelines[0])
    stages = pipeline_by_stage(user, pipeline)
    quarter = period_start(today, PeriodKind.QUARTER)
    result = forecast(user, PeriodKind.QUARTER, quarter)
    forecast_figures = forecast_bars(result, PeriodKind.QUARTER, quarter)
    trend = trends(user, today)
    funnel = funnel_context(user, today)
    return {
        "pipelines": pipelines, "pipeline": pipeline, "stages": stages,
        "stages_total": Bar(_("Total"), sum(b.count for b in stages), sum((b.amount for b in stages), Decimal(0)),
                            _list(pipeline=pipeline.pk, open=1), sum((b.weighted for b in stages), Decimal(0))),
        "forecast": result, "forecast_figures": forecast_figures, "quarter": quarter,
        "quarter_end": period_end(quarter, PeriodKind.QUARTER) - dt.timedelta(days=1),
        "forecast_url": reverse("opportunities:forecast") + "?" + urlencode(
            {"kind": PeriodKind.QUARTER, "start": quarter.isoformat()}),
        "trend": trend, "funnel": funnel,
        "top_deals": top_deals(user), "top_deals_url": _list(open=1, sort="-amount_corporate"),
        "chart": chart_data(stages=stages, forecast_figures=forecast_figures, quota=result.total.quota,
                            trend=trend, funnel=funnel),
    }
