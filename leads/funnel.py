"""The lead funnel: of the leads created since a day, how many reached marketing qualified (MQL), sales
accepted (SAL) and sales qualified (SQL), and how many became an opportunity that was won.

A lead reached a step if it is at that step or a later one now, or its lifecycle history
(LifecycleTransition) shows it there once: a lead that went MQL → SQL → unqualified still counts at MQL
and SQL. Converted counts as past SQL. "Won": its converted opportunity is closed won. `funnel()` counts in
one query; `reached_q()` is the same rule as a filter, so a figure's link lists exactly the leads it
counts."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from leads.models import Lead, LifecycleStage, LifecycleTransition

STEPS = ("mql", "sal", "sql")
# Each step and the lifecycle stages at or past it.
AT_OR_PAST = {
    "mql": (LifecycleStage.MQL, LifecycleStage.SAL, LifecycleStage.SQL, LifecycleStage.CONVERTED),
    "sal": (LifecycleStage.SAL, LifecycleStage.SQL, LifecycleStage.CONVERTED),
    "sql": (LifecycleStage.SQL, LifecycleStage.CONVERTED),
}


def step_choices() -> list[tuple[str, str]]:
    return [(step, LifecycleStage(step).label) for step in STEPS] + [("won", _("Won"))]


def reached_q(step: str) -> Q:
    if step == "won":
        return Q(converted_opportunity__stage__outcome="won")
    stages = [str(s) for s in AT_OR_PAST[step]]
    return Q(lifecycle_stage__in=stages) | Q(Exists(LifecycleTransition.objects.filter(
        lead=OuterRef("pk"), to_stage__in=stages)))


@dataclass
class Funnel:
    since: dt.date
    created: int
    mql: int
    sal: int
    sql: int
    won: int

    def steps(self) -> list[tuple[str, str, int]]:
        """(key, label, count) for MQL, SAL, SQL and won, in order."""
        return [(key, label, getattr(self, key)) for key, label in step_choices()]


def has_history() -> bool:
    """Whether any lead has lifecycle history yet: the dashboard shows the funnel only then."""
    return LifecycleTransition.objects.exists()


def funnel(user, since: dt.date) -> Funnel:
    """The visible leads created on or after `since`, counted at each step (one query)."""
    from crm.lists.filters import day_start

    leads = Lead.objects.visible_to(user).filter(created_at__gte=day_start(since)).order_by()
    sql, params = leads.values("id").query.sql_with_params()
    rank = " ".join(f"WHEN '{stage}' THEN {i}" for i, stage in enumerate(
        ("mql", "sal", "sql", "converted"), start=1))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH l AS (
                SELECT l.id, l.converted_opportunity_id,
                       GREATEST(CASE l.lifecycle_stage {rank} ELSE 0 END,
                                COALESCE((SELECT max(CASE t.to_stage {rank} ELSE 0 END)
                                            FROM leads_lifecycletransition t WHERE t.lead_id = l.id), 0)) AS r
                  FROM leads_lead l WHERE l.id IN ({sql}))
            SELECT count(*), count(*) FILTER (WHERE r >= 1), count(*) FILTER (WHERE r >= 2),
                   count(*) FILTER (WHERE r >= 3), count(s.id)
              FROM l LEFT JOIN opportunities_opportunity o ON o.id = l.converted_opportunity_id
                     LEFT JOIN opportunities_stage s ON s.id = o.stage_id AND s.outcome = 'won'""", params)
        created, mql, sal, sql_n, won = cursor.fetchone()
    return Funnel(since, created, mql, sal, sql_n, won)
