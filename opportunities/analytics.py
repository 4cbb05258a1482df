"""Stage history and sales analytics: time in stage, sales cycle, stage-to-stage conversion, sales velocity per
rep, team and period, and win/loss analysis. Reads only, each one SQL statement (or a few GROUP BYs) over the
opportunities the reader may see, so the number of queries does not grow with reps or deals.

Definitions (the pages' help text says the same):
- time in stage: for each stay in a stage (a StageChange into it, ended by the deal's next StageChange, found
  with LEAD() over the deal's changes ordered by time), the days between the two; average and median per stage
  over finished stays only (a deal still in the stage is not counted).
- sales cycle: days from a deal's creation to its close, over the deals won in the period.
- conversion: of the deals that reached stage X (a stage change into X, or being in X now), the share that
  reached any later stage of the pipeline (won included), and the share that were won.
- sales velocity for a period: open deals at the period's end × average won deal size in the period × win
  rate in the period (won ÷ (won + lost) closed in it) ÷ average sales cycle of the deals won in it (days).
  A money amount per day. A deal is dated by when it closed (closed_at), not by its close date field."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from crm.access.models import Team
from opportunities.forecasts import local_midnight, period_end, period_label, shift, visible_sql
from opportunities.models import Opportunity, Pipeline, Stage

# When a deal closed: closed_at, which the services stamp; for rows written around them (old imports), the
# time it entered its closed stage.
_CLOSED_AT = "CASE WHEN s.outcome <> 'open' THEN COALESCE(o.closed_at, o.stage_entered_at) END"


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.1"))


# --- stage history ------------------------------------------------------------------------------------------

@dataclass
class StageStats:
    stage: Stage
    stays: int = 0
    average_days: Decimal | None = None
    median_days: Decimal | None = None
    reached: int = 0
    moved_on: int = 0
    won: int = 0

    @property
    def moved_on_rate(self) -> Decimal | None:
        return _dec(Decimal(self.moved_on) * 100 / self.reached) if self.reached else None

    @property
    def won_rate(self) -> Decimal | None:
        return _dec(Decimal(self.won) * 100 / self.reached) if self.reached else None


def _pipeline_visible(user, pipeline: Pipeline) -> tuple[str, tuple]:
    return visible_sql(user, Opportunity.objects.visible_to(user).filter(pipeline=pipeline))


def _visible_rows(qs, *columns: str) -> tuple[str, tuple]:
    """`columns` of the opportunities of `qs` (visibility and filters applied), as SQL to select FROM: read
    directly rather than as `o.id IN (visible ids)`, which made PostgreSQL scan every opportunity and keep the
    visible ones (an index on owner, pipeline and stage that includes these columns answers it alone)."""
    from django.core.exceptions import EmptyResultSet

    try:
        return qs.order_by().values(*columns).query.sql_with_params()
    except EmptyResultSet:
        return f"SELECT {', '.join(f'NULL AS {c}' for c in columns)} WHERE false", ()


# Deals are grouped by the set of open stages they reached, as bits of a bigint (one per open stage).
_MASK_BITS = 62


def stage_history(user, pipeline: Pipeline) -> list[StageStats]:
    """Time in stage and conversion for each open stage of `pipeline`, over the visible deals (one query: the
    deals' stage changes are read once, for both)."""
    stages = list(pipeline.stages.filter(outcome=Stage.Outcome.OPEN).order_by("order", "id"))
    stats = {stage.pk: StageStats(stage) for stage in stages}
    rows, params = _visible_rows(Opportunity.objects.visible_to(user).filter(pipeline=pipeline), "id", "stage_id")
    # ch: each deal's stage changes with the days until its next one, the window run per deal on the covering
    # index's order (opportunity, created_at, id), so nothing is sorted (a LEAD over all the changes sorted
    # 54,000 rows, on disk, for a manager). stays: the finished ones (days not null).
    # deal: per deal (a hash aggregate) the open stages it reached (in a change or now) as bits, the furthest
    # stage it reached (lost stages aside) and whether it was won; combos: the deals counted per distinct
    # (stages reached, furthest, won), a few dozen rows, which each open stage then sums over.
    reach = """
        deal AS (
            SELECT bit_or(1::bigint << st.bit) FILTER (WHERE st.outcome = 'open') AS reached,
                   max(st.position) FILTER (WHERE st.outcome <> 'lost') AS furthest, bool_or(st.outcome = 'won') AS won
              FROM (SELECT opp, stage_id FROM ch UNION ALL SELECT id, stage_id FROM v) x JOIN st ON st.id = x.stage_id
             GROUP BY x.opp),
        combos AS MATERIALIZED (
            SELECT reached, furthest, won, count(*) AS n FROM deal WHERE reached IS NOT NULL GROUP BY 1, 2, 3),
        reach AS (
            SELECT st.id AS stage_id, sum(c.n) AS reached,
                   sum(c.n) FILTER (WHERE c.furthest > st.position) AS moved_on, sum(c.n) FILTER (WHERE c.won) AS won
              FROM combos c JOIN st ON st.outcome = 'open' AND c.reached & (1::bigint << st.bit) <> 0
             GROUP BY st.id)"""
    if len(stages) > _MASK_BITS:  # more open stages than bits: each (deal, stage) it reached, joined to its deal
        reach = """
        r AS (
            SELECT DISTINCT x.opp, st.id AS stage_id, st.position, st.outcome
              FROM (SELECT opp, stage_id FROM ch UNION ALL SELECT id, stage_id FROM v) x JOIN st ON st.id = x.stage_id),
        deal AS (
            SELECT opp, max(position) FILTER (WHERE outcome <> 'lost') AS furthest, bool_or(outcome = 'won') AS won
              FROM r GROUP BY opp),
        reach AS (
            SELECT r.stage_id, count(*) AS reached, count(*) FILTER (WHERE d.furthest > r.position) AS moved_on,
                   count(*) FILTER (WHERE d.won) AS won
              FROM r JOIN deal d ON d.opp = r.opp WHERE r.outcome = 'open' GROUP BY r.stage_id)"""
    found = _fetch(f"""
        WITH v AS MATERIALIZED ({rows}),
        st AS MATERIALIZED (
            SELECT id, "order" AS position, outcome,
                   (row_number() OVER (PARTITION BY outcome = 'open' ORDER BY "order", id) - 1)::int AS bit
              FROM opportunities_stage WHERE pipeline_id = %s),
        ch AS MATERIALIZED (
            SELECT v.id AS opp, sc.stage_id, sc.days
              FROM v CROSS JOIN LATERAL (
                   SELECT c.to_stage_id AS stage_id,
                          EXTRACT(EPOCH FROM LEAD(c.created_at) OVER (ORDER BY c.created_at, c.id) - c.created_at)
                          / 86400 AS days
                     FROM opportunities_stagechange c WHERE c.opportunity_id = v.id) sc),
        stay_stats AS (
            SELECT stage_id, count(*) AS stays, avg(days) AS average,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median
              FROM ch WHERE days IS NOT NULL GROUP BY stage_id),{reach}
        SELECT COALESCE(a.stage_id, b.stage_id), a.stays, a.average, a.median, b.reached, b.moved_on, b.won
          FROM stay_stats a FULL JOIN reach b ON b.stage_id = a.stage_id""", [*params, pipeline.pk])
    for stage_id, stays, average, median, reached, moved_on, won in found:
        if stage_id in stats:
            stat = stats[stage_id]
            stat.stays, stat.average_days, stat.median_days = stays or 0, _dec(average), _dec(median)
            stat.reached, stat.moved_on, stat.won = int(reached or 0), int(moved_on or 0), int(won or 0)
    return [stats[stage.pk] for stage in stages]


# --- velocity -----------------------------------------------------------------------------------------------

@dataclass
class Velocity:
    open_n: int = 0
    won_n: int = 0
    lost_n: int = 0
    won_amount: Decimal = Decimal(0)
    won_with_amount: int = 0
    cycle_days: Decimal = Decimal(0)

    def add(self, other: "Velocity") -> None:
        for name in ("open_n", "won_n", "lost_n", "won_amount", "won_with_amount", "cycle_days"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def average_deal(self) -> Decimal | None:
        return (self.won_amount / self.won_with_amount).quantize(Decimal("0.01")) if self.won_with_amount else None

    @property
    def win_rate(self) -> Decimal | None:
        """Percent units."""
        closed = self.won_n + self.lost_n
        return _dec(Decimal(self.won_n) * 100 / closed) if closed else None

    @property
    def cycle(self) -> Decimal | None:
        return _dec(self.cycle_days / self.won_n) if self.won_n else None

    @property
    def velocity(self) -> Decimal | None:
        """(open deals × average deal size × win rate) ÷ average cycle, per day; None when a factor is
        unknown (no deal won in the period) or the cycle is zero. Computed from unrounded factors."""
        if not self.won_n or not self.won_with_amount or not self.cycle_days:
            return None
        closed = self.won_n + self.lost_n
        size = self.won_amount / self.won_with_amount
        cycle = self.cycle_days / self.won_n
        return (self.open_n * size * self.won_n / closed / cycle).quantize(Decimal("0.01"))


@dataclass
class Period:
    start: dt.date
    end: dt.date
    label: str
    total: Velocity
    reps: dict  # owner id -> Velocity


def velocity(user, kind: str, last_start: dt.date, *, count: int = 6, pipeline: Pipeline | None = None) -> list[Period]:
    """Sales velocity's factors for the `count` periods ending with the one starting at `last_start`, per owner
    and in total, over the visible deals (of one pipeline, if given). One query."""
    starts = [shift(last_start, kind, -i) for i in range(count - 1, -1, -1)]
    periods = [Period(s, period_end(s, kind), period_label(s, kind), Velocity(), {}) for s in starts]
    qs = Opportunity.objects.visible_to(user).filter(created_at__lt=local_midnight(periods[-1].end))
    visible, params = _visible_rows(qs.filter(pipeline=pipeline) if pipeline else qs, "owner_id", "created_at",
                                    "amount_corporate", "stage_id", "closed_at", "stage_entered_at")
    # One scan of the deals, grouped by owner, outcome and the periods they were created and closed in (their
    # buckets among the periods' bounds: 0 before the first, i + 1 in period i, count + 1 after the last, and
    # count + 2 for not closed); then each period's six figures from those few groups. Filtered aggregates per
    # period over the deals themselves evaluated six conditions per period for every deal.
    bounds = [local_midnight(periods[0].start)] + [local_midnight(p.end) for p in periods]
    rows = _fetch(f"""
        WITH d AS (
            SELECT o.owner_id, o.created_at, o.amount_corporate, s.outcome, {_CLOSED_AT} AS closed
              FROM ({visible}) o JOIN opportunities_stage s ON s.id = o.stage_id),
        g AS MATERIALIZED (
            SELECT d.owner_id, d.outcome, width_bucket(d.created_at, %s::timestamptz[]) AS cb,
                   COALESCE(width_bucket(d.closed, %s::timestamptz[]), %s) AS xb, count(*) AS n,
                   sum(d.amount_corporate) AS amount, count(d.amount_corporate) AS with_amount,
                   sum(EXTRACT(EPOCH FROM d.closed - d.created_at) / 86400) AS cycle
              FROM d WHERE d.closed IS NULL OR d.closed >= %s
             GROUP BY 1, 2, 3, 4)
        SELECT g.owner_id, p.i,
               COALESCE(sum(g.n) FILTER (WHERE g.cb <= p.i + 1 AND g.xb >= p.i + 2), 0)::bigint,
               COALESCE(sum(g.n) FILTER (WHERE g.outcome = 'won' AND g.xb = p.i + 1), 0)::bigint,
               COALESCE(sum(g.n) FILTER (WHERE g.outcome = 'lost' AND g.xb = p.i + 1), 0)::bigint,
               COALESCE(sum(g.amount) FILTER (WHERE g.outcome = 'won' AND g.xb = p.i + 1), 0),
               COALESCE(sum(g.with_amount) FILTER (WHERE g.outcome = 'won' AND g.xb = p.i + 1), 0)::bigint,
               COALESCE(sum(g.cycle) FILTER (WHERE g.outcome = 'won' AND g.xb = p.i + 1), 0)
          FROM g CROSS JOIN generate_series(0, %s) AS p(i)
         GROUP BY g.owner_id, p.i""",
        [*params, bounds, bounds, len(periods) + 2, bounds[0], len(periods) - 1])
    for owner_id, i, open_n, won_n, lost_n, won_amount, won_with_amount, cycle_days in rows:
        period = periods[i]
        v = Velocity(open_n, won_n, lost_n, Decimal(won_amount), won_with_amount, Decimal(cycle_days))
        if open_n or won_n or lost_n:
            period.reps[owner_id] = v
        period.total.add(v)
    return periods


def pooled(periods: list[Period]) -> Velocity:
    """The periods' won and lost deals together: the win rate, average deal size and sales cycle over all of
    them (open deals are not added up: each period counts its own)."""
    result = Velocity()
    for period in periods:
        result.add(period.total)
    result.open_n = periods[-1].total.open_n if periods else 0
    return result


def _names() -> dict[int, str]:
    """Users' names as str(user) gives them, from the user directory (kept per process until a user is saved):
    no query, where reading the users joined their role and profile."""
    from crm.access.directory import choices

    return dict(choices(active_only=False))


def rep_trend(periods: list[Period]) -> list[tuple[str, list]]:
    """Each rep's velocity in each period (None where it cannot be computed), by name."""
    owner_ids = sorted({owner for p in periods for owner in p.reps if owner})
    names = _names()
    rows = [(names.get(owner, "—"), [p.reps[owner].velocity if owner in p.reps else None for p in periods])
            for owner in owner_ids]
    return sorted(rows, key=lambda row: row[0].lower())


@dataclass
class Group:
    label: str
    figures: Velocity
    user_id: int | None = None
    team_id: int | None = None


def velocity_groups(period: Period) -> tuple[list[Group], list[Group]]:
    """One period's velocity per rep and per team (a team pools its members' deals: its velocity is computed
    from the pooled factors, not summed from the members' velocities). One query."""
    owner_ids = [i for i in period.reps if i]
    names = _names()
    reps = sorted((Group(names.get(owner_id, "—"), v, user_id=owner_id) for owner_id, v in period.reps.items()),
                  key=lambda g: g.label.lower())
    teams: dict[int, Group] = {}
    for team_id, team_name, member_id in (Team.members.through.objects.filter(user_id__in=owner_ids)
                                          .values_list("team_id", "team__name", "user_id")):
        group = teams.setdefault(team_id, Group(team_name, Velocity(), team_id=team_id))
        group.figures.add(period.reps[member_id])
    return reps, sorted(teams.values(), key=lambda g: g.label.lower())


# --- win/loss -----------------------------------------------------------------------------------------------

@dataclass
class WinLoss:
    label: str
    won_n: int
    lost_n: int
    won_amount: Decimal
    lost_amount: Decimal
    key: object = None

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won_n + self.lost_n
        return _dec(Decimal(self.won_n) * 100 / closed) if closed else None


def closed_between(user, start: dt.date, end: dt.date):
    """The visible deals won or lost from `start` up to and including `end` (by when they closed)."""
    return (Opportunity.objects.visible_to(user)
            .exclude(stage__outcome=Stage.Outcome.OPEN)
            .annotate(closed=Coalesce("closed_at", "stage_entered_at"))
            .filter(closed__gte=local_midnight(start), closed__lt=local_midnight(end + dt.timedelta(days=1))))


def _win_loss_by(qs, key: str, extra: tuple = ()) -> list[tuple]:
    won, lost = Q(stage__outcome=Stage.Outcome.WON), Q(stage__outcome=Stage.Outcome.LOST)
    return list(qs.values(key, *extra).annotate(
        won_n=Count("id", filter=won), lost_n=Count("id", filter=lost),
        won_amount=Sum("amount_corporate", filter=won, default=Decimal(0)),
        lost_amount=Sum("amount_corporate", filter=lost, default=Decimal(0))).order_by())


def win_loss(user, start: dt.date, end: dt.date) -> dict:
    """Win rates by rep, lead source and campaign, loss reasons, and the stage deals were lost from (constant
    number of queries)."""
    from django.utils.translation import gettext as _

    qs = closed_between(user, start, end)
    by_rep = [WinLoss(" ".join(filter(None, (r["owner__first_name"], r["owner__last_name"]))) or r["owner__email"]
                      or _("No owner"), r["won_n"], r["lost_n"], r["won_amount"], r["lost_amount"], r["owner_id"])
              for r in _win_loss_by(qs, "owner_id", ("owner__first_name", "owner__last_name", "owner__email"))]
    # An opportunity's lead source is text; a value that is a key of the leads' source picklist shows its label.
    from crm.customization import picklists

    source_labels = {v.value: v.display_label for v in picklists.values("leads.source", active_only=False)}
    by_source = [WinLoss(source_labels.get(r["lead_source"], r["lead_source"]) or _("No lead source"), r["won_n"],
                         r["lost_n"], r["won_amount"], r["lost_amount"], r["lead_source"])
                 for r in _win_loss_by(qs, "lead_source")]
    by_campaign = [WinLoss(r["campaign__name"] or _("No campaign"), r["won_n"], r["lost_n"], r["won_amount"],
                           r["lost_amount"], r["campaign_id"])
                   for r in _win_loss_by(qs, "campaign_id", ("campaign__name",))]
    lost = qs.filter(stage__outcome=Stage.Outcome.LOST)
    reasons_rows = list(lost.values("loss_reason_id").annotate(
        n=Count("id"), amount=Sum("amount_corporate", default=Decimal(0))).order_by("-n", "loss_reason_id"))
    labels = {r["loss_reason_id"]: picklists.get(r["loss_reason_id"]).display_label
              for r in reasons_rows if r["loss_reason_id"] and picklists.get(r["loss_reason_id"])}
    reasons = [(labels.get(r["loss_reason_id"], _("No reason given")), r["n"], r["amount"]) for r in reasons_rows]
    visible, params = visible_sql(user, lost)
    # The stage each lost deal was lost from: the from_stage of its latest change into a lost stage.
    stage_rows = _fetch(f"""
        WITH last_loss AS (
            SELECT DISTINCT ON (sc.opportunity_id) sc.opportunity_id, sc.from_stage_id
              FROM opportunities_stagechange sc JOIN opportunities_stage t ON t.id = sc.to_stage_id
             WHERE t.outcome = 'lost' AND sc.opportunity_id IN ({visible})
             ORDER BY sc.opportunity_id, sc.created_at DESC, sc.id DESC)
        SELECT l.from_stage_id, count(*), COALESCE(sum(o.amount_corporate), 0)
          FROM last_loss l JOIN opportunities_opportunity o ON o.id = l.opportunity_id
         GROUP BY l.from_stage_id""", params)
    stages = {s.pk: s for s in Stage.objects.filter(pk__in=[r[0] for r in stage_rows if r[0]])
              .select_related("pipeline")}
    lost_at = sorted(((stages.get(stage_id), n, amount) for stage_id, n, amount in stage_rows),
                     key=lambda r: (r[0] is None, r[0].pipeline.order if r[0] else 0, r[0].order if r[0] else 0))
    total = WinLoss(_("All"), sum(r.won_n for r in by_rep), sum(r.lost_n for r in by_rep),
                    sum((r.won_amount for r in by_rep), Decimal(0)), sum((r.lost_amount for r in by_rep), Decimal(0)))
    key = lambda r: (-(r.won_n + r.lost_n), str(r.label).lower())  # noqa: E731
    return {"total": total, "by_rep": sorted(by_rep, key=key), "by_source": sorted(by_source, key=key),
            "by_campaign": sorted(by_campaign, key=key), "reasons": reasons, "lost_at": lost_at}

