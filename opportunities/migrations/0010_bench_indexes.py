"""Indexes for the sales dashboard and the forecast (bench/speed.py --scale issue10), as SQL beside 0008's:

- opp_owner_pipeline_stage also includes expected_revenue: the dashboard's pipeline by stage adds up the open
  deals' weighted amounts of a pipeline, and without the column in the index PostgreSQL read each of a
  manager's 4,700 open deals from the table (5,000 pages) instead of answering from the index alone.
- opp_owner_close_forecast (owner, close date) INCLUDE (id, stage, amount_corporate, expected_revenue,
  forecast_override): a forecast period's figures per owner (the forecast page, the dashboard's quarter) read
  only these columns of the deals closing in the period, from the index alone instead of a heap page per deal
  (1,700 pages for a manager's quarter)."""
from django.db import migrations

SQL = """
DROP INDEX IF EXISTS opp_owner_pipeline_stage;
CREATE INDEX opp_owner_pipeline_stage ON opportunities_opportunity (owner_id, pipeline_id, stage_id)
    INCLUDE (id, amount_corporate, expected_revenue, created_at, closed_at, stage_entered_at);
CREATE INDEX IF NOT EXISTS opp_owner_close_forecast ON opportunities_opportunity (owner_id, close_date)
    INCLUDE (id, stage_id, amount_corporate, expected_revenue, forecast_override);
"""

DROP = """
DROP INDEX IF EXISTS opp_owner_close_forecast;
DROP INDEX IF EXISTS opp_owner_pipeline_stage;
CREATE INDEX opp_owner_pipeline_stage ON opportunities_opportunity (owner_id, pipeline_id, stage_id)
    INCLUDE (id, amount_corporate, created_at, closed_at, stage_entered_at);
"""


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0009_bench_indexes")]
    operations = [migrations.RunSQL(SQL, DROP)]
