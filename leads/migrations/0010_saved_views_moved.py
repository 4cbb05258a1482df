from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "0009_upper_case_countries"), ("lists", "0002_saved_views_from_leads")]
    operations = [migrations.DeleteModel(name="SavedView")]
