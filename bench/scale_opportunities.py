"""Opportunities at scale for the issue-10 benchmark (bench/speed.py --scale issue10), written set-wise
(INSERT … SELECT over generate_series), after seed_scale has written the users, leads, accounts and contacts:

    cd <code> && DATABASE_URL=… python /work/main/bench/scale_opportunities.py --opportunities 300000

Every opportunity belongs to an account of a bench rep and has its owner and its first contact. Four in five are
in the default pipeline ("New business"), the rest in the demo's "Renewals" pipeline (made here when missing).
Two in five are open, spread over the open stages, closing from a month ago to nine months ahead; the rest were
won (two in five) or lost (with a loss reason) over the last two years, closed on their close date. Amounts are
in euros, dollars (one in five) and kronor (one in ten), with exchange rates from before the oldest close date
and a new rate every quarter; the database trigger of migration 0006 computes amount_corporate and
expected_revenue as the rows go in (the rates are written first). A deal in twenty-five carries the rep's
forecast call. Each opportunity has its stage history (opportunities_stagechange): the open stages up to its own
(or up to a picked one and then the closing stage), spread between its creation and its arrival in its stage.
Every bench user has monthly and quarterly quotas from two years back to half a year ahead, and there are two
forecast snapshots, last week's (with a share of its lines changed, so "what moved" has something to show) and
this week's. The values are spread by hashing the row number (hashint8extended), so a seed is the same every
time. The opportunities' and stage changes' indexes are dropped and rebuilt around their loads."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

PRODUCTS = ["platform licence", "analytics add-on", "support plan", "onboarding", "integration project",
            "seat expansion", "data migration", "training days"]
SOURCES = ["web", "referral", "event", "partner"]
NEXT_STEPS = ["Send the proposal", "Book a demo", "Call the CFO", "Agree terms"]
# Units per euro; the first from before the oldest close date, then one change a quarter (a percent or two).
RATES = {"USD": 1.08, "SEK": 11.40, "GBP": 0.86}
TWO_YEARS_DAYS = 730
BIG_ACCOUNT_NAME = "Bench 360 Customer Oy"  # seed_scale's 360° account keeps its own five deals


def _pick(salt: int, n: int, g: str = "g") -> str:
    from bench.scale_customers import pick

    return pick(salt, n, g)


def _rates(cursor) -> None:
    """Rates first: the opportunities' insert trigger reads them (and a new rate would rewrite every
    opportunity of its currency)."""
    cursor.execute("DELETE FROM opportunities_exchangerate")
    for salt, (currency, rate) in enumerate(RATES.items()):
        cursor.execute(f"""
            INSERT INTO opportunities_exchangerate (currency, rate, valid_from, created_at)
            SELECT %s, round((%s * (1 + (({_pick(70 + salt, 5, 'q')}) - 2) / 100.0))::numeric, 8),
                   current_date - {TWO_YEARS_DAYS + 60} + 91 * q, now()
            FROM generate_series(0, {(TWO_YEARS_DAYS + 60) // 91}) q""", [currency, rate])


def _stages(cursor, renewals_id: int, default_id: int) -> dict:
    """seed_stage: every stage of the two pipelines with its place among its pipeline's open stages and the
    open stage before it; and the arrays the opportunities' SELECT picks from."""
    cursor.execute("DROP TABLE IF EXISTS seed_stage")
    cursor.execute("""
        CREATE TEMP TABLE seed_stage AS
        SELECT s.id AS stage_id, s.pipeline_id, s.outcome, s.probability,
               CASE WHEN s.outcome = 'open' THEN row_number() OVER (PARTITION BY s.pipeline_id, s.outcome = 'open'
                                                                      ORDER BY s."order", s.id) - 1 END AS pos
          FROM opportunities_stage s WHERE s.pipeline_id IN (%s, %s)""", [default_id, renewals_id])
    cursor.execute("ALTER TABLE seed_stage ADD COLUMN prev_stage_id bigint")
    cursor.execute("""UPDATE seed_stage s SET prev_stage_id = p.stage_id FROM seed_stage p
                      WHERE p.pipeline_id = s.pipeline_id AND p.pos = s.pos - 1""")
    found = {}
    for key, pipeline in (("d", default_id), ("r", renewals_id)):
        cursor.execute("SELECT array_agg(stage_id ORDER BY pos), array_agg(probability ORDER BY pos) FROM seed_stage "
                       "WHERE pipeline_id = %s AND outcome = 'open'", [pipeline])
        found[f"{key}_open"], found[f"{key}_prob"] = cursor.fetchone()
        for outcome in ("won", "lost"):
            cursor.execute("SELECT min(stage_id) FROM seed_stage WHERE pipeline_id = %s AND outcome = %s",
                           [pipeline, outcome])
            found[f"{key}_{outcome}"] = cursor.fetchone()[0]
    return found


def _opportunities(cursor, n: int, *, default_id: int, renewals_id: int, stages: dict, reasons: list[int]) -> None:
    cursor.execute("DROP TABLE IF EXISTS seed_opp_accounts")
    cursor.execute("""
        CREATE TEMP TABLE seed_opp_accounts AS
        SELECT row_number() OVER (ORDER BY a.id) AS rn, a.id, a.owner_id, a.name,
               (SELECT min(c.id) FROM accounts_contact c WHERE c.account_id = a.id) AS contact_id
          FROM accounts_account a WHERE a.owner_id IS NOT NULL AND a.name <> %s""", [BIG_ACCOUNT_NAME])
    cursor.execute("CREATE UNIQUE INDEX ON seed_opp_accounts (rn)")
    # A second run replaces what the first wrote (nothing else refers to these deals yet).
    seeded = "SELECT o.id FROM opportunities_opportunity o JOIN seed_opp_accounts a ON a.id = o.account_id"
    cursor.execute(f"DELETE FROM opportunities_snapshotline WHERE opportunity_id IN ({seeded})")
    cursor.execute(f"DELETE FROM opportunities_stagechange WHERE opportunity_id IN ({seeded})")
    cursor.execute(f"DELETE FROM opportunities_opportunity WHERE id IN ({seeded})")
    cursor.execute("ANALYZE seed_opp_accounts")
    cursor.execute("SELECT count(*) FROM seed_opp_accounts")
    accounts = cursor.fetchone()[0]
    if not accounts:
        raise SystemExit("no accounts to attach opportunities to: run seed_scale --accounts first")
    d_open, r_open = len(stages["d_open"]), len(stages["r_open"])
    # r: renewals (1 in 5); state: 0 open (2 in 5), 1 won, 2 lost; k: the open stage; cur: the currency.
    cursor.execute(f"""
        INSERT INTO opportunities_opportunity (name, account_id, contact_id, pipeline_id, stage_id, amount, currency,
            probability, close_date, opportunity_type, lead_source, campaign_id, next_step, competitors,
            loss_reason_id, price_book_id, description, forecast_override, stage_entered_at, closed_at,
            owner_id, created_by_id, created_at, updated_at, custom)
        SELECT a.name || ': ' || CASE WHEN r THEN 'renewal ' || extract(year FROM close)::int
                                      ELSE (%(products)s::text[])[1 + {_pick(80, len(PRODUCTS))}] END || ' #' || g,
            a.id, a.contact_id, CASE WHEN r THEN %(renewals)s ELSE %(default)s END::bigint,
            CASE WHEN state = 1 THEN CASE WHEN r THEN %(r_won)s ELSE %(d_won)s END
                 WHEN state = 2 THEN CASE WHEN r THEN %(r_lost)s ELSE %(d_lost)s END
                 WHEN r THEN (%(r_open)s::bigint[])[1 + mod(k, {r_open})] ELSE (%(d_open)s::bigint[])[1 + mod(k, {d_open})]
            END::bigint,
            (1 + {_pick(81, 400)}) * 250, cur,
            CASE WHEN state = 1 THEN 100 WHEN state = 2 THEN 0
                 WHEN r THEN (%(r_prob)s::int[])[1 + mod(k, {r_open})] ELSE (%(d_prob)s::int[])[1 + mod(k, {d_open})] END,
            close, CASE WHEN r THEN 'renewal' WHEN {_pick(82, 5)} = 0 THEN 'upsell' ELSE 'new_business' END,
            (%(sources)s::text[])[1 + {_pick(83, len(SOURCES))}], NULL,
            CASE WHEN state = 0 THEN (%(steps)s::text[])[1 + {_pick(84, len(NEXT_STEPS))}] ELSE '' END,
            CASE {_pick(85, 4)} WHEN 1 THEN 'Northwind' WHEN 2 THEN 'Contoso' ELSE '' END,
            CASE WHEN state = 2 THEN (%(reasons)s::bigint[])[1 + {_pick(86, max(len(reasons), 1))}] END,
            NULL, '',
            CASE WHEN state = 0 AND {_pick(87, 25)} = 0
                 THEN (ARRAY['commit', 'best_case', 'pipeline'])[1 + {_pick(88, 3)}] END,
            entered, CASE WHEN state > 0 THEN entered END, a.owner_id, a.owner_id, created, entered, '{{}}'
        FROM generate_series(1, %(n)s) g
        JOIN seed_opp_accounts a ON a.rn = 1 + {_pick(89, accounts)},
        LATERAL (SELECT {_pick(90, 5)} = 0 AS r,
                        CASE WHEN {_pick(91, 5)} < 2 THEN 0 WHEN {_pick(92, 5)} < 2 THEN 1 ELSE 2 END AS state,
                        {_pick(93, 2520)} AS k,  -- any open stage: 2520 is a multiple of every count up to 10
                        CASE {_pick(94, 10)} WHEN 0 THEN 'USD' WHEN 1 THEN 'USD' WHEN 2 THEN 'SEK' ELSE 'EUR' END
                            AS cur) p,
        LATERAL (SELECT CASE WHEN state = 0 THEN current_date - 30 + {_pick(95, 300)}
                             ELSE current_date - 1 - {_pick(96, TWO_YEARS_DAYS)} END AS close) c,
        LATERAL (SELECT CASE WHEN state = 0 THEN now() - make_interval(days => 5 + {_pick(97, 300)})
                             ELSE (close + time '12:00') - make_interval(days => 10 + {_pick(98, 180)})
                        END AS created) t,
        LATERAL (SELECT CASE WHEN state = 0 THEN created + (now() - created) * ({_pick(99, 100)} / 100.0)
                             ELSE close + time '12:00' END AS entered) e""",
                   dict(n=n, products=PRODUCTS, renewals=renewals_id, default=default_id, sources=SOURCES,
                        steps=NEXT_STEPS, reasons=reasons or [None], **stages))


def _stage_changes(cursor) -> None:
    """Each opportunity's path: its pipeline's open stages from the first up to its own (open) or up to a picked
    one (closed), then the closing stage; times spread from creation to the arrival in the last stage."""
    cursor.execute("""
        INSERT INTO opportunities_stagechange (opportunity_id, from_stage_id, to_stage_id, amount, probability,
            actor_id, created_at)
        WITH d AS (
            SELECT o.id, o.pipeline_id, o.stage_id, o.amount, o.probability, o.owner_id, o.created_at,
                   o.stage_entered_at, cur.outcome <> 'open' AS closed,
                   CASE WHEN cur.outcome = 'open' THEN cur.pos
                        ELSE mod(hashint8extended(o.id, 100) & 2147483647, n.open_n) END AS last_pos
              FROM opportunities_opportunity o
              JOIN seed_stage cur ON cur.stage_id = o.stage_id
              JOIN (SELECT pipeline_id, count(*) AS open_n FROM seed_stage WHERE outcome = 'open'
                     GROUP BY pipeline_id) n ON n.pipeline_id = o.pipeline_id)
        SELECT d.id, s.prev_stage_id, s.stage_id, d.amount, s.probability, d.owner_id,
               d.created_at + (d.stage_entered_at - d.created_at)
                              * COALESCE(s.pos::float / NULLIF(d.last_pos + d.closed::int, 0), 1)
          FROM d JOIN seed_stage s ON s.pipeline_id = d.pipeline_id AND s.outcome = 'open' AND s.pos <= d.last_pos
        UNION ALL
        SELECT d.id, s.stage_id, d.stage_id, d.amount, d.probability, d.owner_id, d.stage_entered_at
          FROM d JOIN seed_stage s ON s.pipeline_id = d.pipeline_id AND s.outcome = 'open' AND s.pos = d.last_pos
         WHERE d.closed""")


def _quotas(cursor) -> None:
    cursor.execute("DELETE FROM opportunities_quota WHERE user_id IN "
                   "(SELECT id FROM access_user WHERE starts_with(email, 'bench-'))")
    # A rep's month: about what a rep wins in a month at this size (~ 17 deals of ~50,000), give or take 30%;
    # a manager's: the team's (9 reps). Quarters: three months'.
    cursor.execute(f"""
        INSERT INTO opportunities_quota (user_id, period_kind, period_start, amount)
        SELECT u.id, kind.k, start,
               (CASE WHEN starts_with(u.email, 'bench-manager') THEN 9 ELSE 1 END) * kind.months
               * (600 + {_pick(110, 500, 'u.id + extract(epoch FROM start)::bigint')}) * 1000
          FROM access_user u,
          LATERAL (VALUES ('month', 1), ('quarter', 3)) kind(k, months),
          LATERAL (SELECT generate_series(
                       CASE kind.k WHEN 'month' THEN date_trunc('month', current_date - {TWO_YEARS_DAYS})
                                   ELSE date_trunc('quarter', current_date - {TWO_YEARS_DAYS}) END,
                       current_date + 183, CASE kind.k WHEN 'month' THEN interval '1 month'
                                                         ELSE interval '3 months' END)::date AS start) s
         WHERE starts_with(u.email, 'bench-')""")


def _snapshots(cursor, stdout) -> None:
    import datetime as dt

    from django.utils import timezone

    from opportunities.forecasts import snapshot_take, week_of

    cursor.execute("DELETE FROM opportunities_forecastsnapshot")
    this_week = week_of(timezone.localdate())
    last = snapshot_take(week=this_week - dt.timedelta(days=7))
    # Last week's lines as they stood then: some deals had another amount or close date, a few were not there yet.
    cursor.execute(f"""UPDATE opportunities_snapshotline SET
                           amount_corporate = round(amount_corporate * (0.8 + {_pick(120, 40, 'opportunity_id')} / 100.0), 2),
                           close_date = close_date + ({_pick(121, 61, 'opportunity_id')} - 30)
                       WHERE snapshot_id = %s AND {_pick(122, 10, 'opportunity_id')} = 0""", [last.pk])
    cursor.execute(f"DELETE FROM opportunities_snapshotline WHERE snapshot_id = %s "
                   f"AND {_pick(123, 50, 'opportunity_id')} = 0", [last.pk])
    cursor.execute("UPDATE opportunities_forecastsnapshot SET taken_at = taken_at - interval '7 days' WHERE id = %s",
                   [last.pk])
    snapshot_take(week=this_week)
    cursor.execute("SELECT snapshot_id, count(*) FROM opportunities_snapshotline GROUP BY 1 ORDER BY 1")
    stdout("    snapshots: " + ", ".join(f"{n:,} lines" for _, n in cursor.fetchall()))


def seed(*, opportunities: int, stdout=print) -> None:
    from django.db import connection, transaction

    from bench.scale_customers import indexes_rebuilt
    from crm.customization.models import PicklistValue
    from opportunities.demo import _renewals_pipeline
    from opportunities.models import LOSS_REASON_PICKLIST, Pipeline

    started = time.time()
    default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    renewals = _renewals_pipeline()
    reasons = list(PicklistValue.objects.filter(picklist=LOSS_REASON_PICKLIST).order_by("order", "pk")
                   .values_list("pk", flat=True))
    with connection.cursor() as cursor:
        with transaction.atomic():
            _rates(cursor)
        stages = _stages(cursor, renewals.pk, default.pk)
        for table, load in (
                ("opportunities_opportunity", lambda: _opportunities(
                    cursor, opportunities, default_id=default.pk, renewals_id=renewals.pk, stages=stages,
                    reasons=reasons)),
                ("opportunities_stagechange", lambda: _stage_changes(cursor))):
            step = time.time()
            with transaction.atomic(), indexes_rebuilt(cursor, table, stdout):
                load()
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"SELECT count(*) FROM {table}")
            stdout(f"  {table}: {cursor.fetchone()[0]:,} rows ({time.time() - step:.0f} s)")
        with transaction.atomic():
            _quotas(cursor)
            _snapshots(cursor, stdout)
        cursor.execute("VACUUM ANALYZE")
    stdout(f"Done: {opportunities:,} opportunities in {time.time() - started:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, required=True)
    args = parser.parse_args()
    # The models are those of the code in the working directory; bench/ is imported from there too.
    sys.path.insert(0, str(Path.cwd()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    seed(opportunities=args.opportunities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
