"""What an opportunity import does after its rows are written, in the import's transaction and set-wise: each new
opportunity's first stage change (so stage history, velocity and forecasts count imported deals as they count
typed ones) and, for deals imported already closed, when they closed (their close date, else now)."""
from __future__ import annotations

from django.db import connection


def after_import(*, job, actor, created, updated, assigned) -> None:
    if not created:
        return
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE opportunities_opportunity o
               SET closed_at = COALESCE(o.close_date::timestamptz, now())
              FROM opportunities_stage s
             WHERE o.id = ANY(%s) AND s.id = o.stage_id AND s.outcome <> 'open' AND o.closed_at IS NULL
            """, [list(created)])
        cursor.execute(
            """
            INSERT INTO opportunities_stagechange
                   (opportunity_id, from_stage_id, to_stage_id, amount, probability, actor_id, created_at)
            SELECT o.id, NULL, o.stage_id, o.amount, o.probability, %s, o.stage_entered_at
              FROM opportunities_opportunity o
             WHERE o.id = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM opportunities_stagechange c WHERE c.opportunity_id = o.id)
            """, [actor_id, list(created)])
