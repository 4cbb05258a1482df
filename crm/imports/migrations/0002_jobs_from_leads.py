"""Import jobs were a leads table; the import engine keeps them for every record type."""
from django.db import migrations

FIELDS = ("record_type", "file", "original_name", "file_format", "mapping", "duplicates", "mode", "assign_by_rules",
          "campaign_id", "status", "total_rows", "processed_rows", "created_count", "updated_count", "skipped_count",
          "error_count", "errors", "message", "created_by_id", "created_at", "finished_at")


def copy(apps, schema_editor):
    Old = apps.get_model("leads", "ImportJob")
    New = apps.get_model("imports", "ImportJob")
    New.objects.bulk_create([New(id=job.pk, **{f: getattr(job, f) for f in FIELDS}) for job in Old.objects.all()])
    if New.objects.exists():
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('imports_importjob', 'id'), "
                           "(SELECT max(id) FROM imports_importjob))")


class Migration(migrations.Migration):
    dependencies = [("imports", "0001_initial"), ("leads", "0011_rule_conditions")]
    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
