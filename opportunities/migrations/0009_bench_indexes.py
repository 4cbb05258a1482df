"""One more index for a page that reads many opportunities (bench/speed.py --scale issue10): the sales
dashboard's top open deals (opportunities.dashboard.top_deals: the visible open deals with an amount, largest
in the corporate currency first, ten of them). Without it PostgreSQL read every deal a manager may see and
sorted them (about 50 ms for 15,000 of 300,000); with it, it walks the amounts from the largest down and stops
after ten visible open ones (1.5 ms). As SQL beside 0008's, outside the model's Meta.indexes."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0008_bench_indexes")]
    operations = [migrations.RunSQL(
        "CREATE INDEX IF NOT EXISTS opp_amount_top ON opportunities_opportunity (amount_corporate DESC, id);",
        "DROP INDEX IF EXISTS opp_amount_top;")]
