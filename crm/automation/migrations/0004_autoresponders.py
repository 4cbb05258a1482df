from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("automation", "0003_workflow_rules")]

    operations = []
