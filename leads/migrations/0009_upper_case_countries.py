"""Countries are upper-case ISO codes everywhere: imports stored them as typed, and the list filter now
matches them exactly."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "0008_event_log_references")]

    operations = [
        migrations.RunSQL("UPDATE leads_lead SET country = UPPER(country) WHERE country <> UPPER(country)",
                          migrations.RunSQL.noop),
    ]
