"""Saved views were a leads table; the list engine keeps them for every record type."""
from django.db import migrations


def copy(apps, schema_editor):
    Old = apps.get_model("leads", "SavedView")
    New = apps.get_model("lists", "SavedView")
    New.objects.bulk_create([New(record_type=v.record_type, name=v.name, query=v.query, owner_id=v.owner_id,
                                 shared=v.shared, created_at=v.created_at) for v in Old.objects.all()])


def copy_back(apps, schema_editor):
    Old = apps.get_model("leads", "SavedView")
    New = apps.get_model("lists", "SavedView")
    Old.objects.bulk_create([Old(record_type=v.record_type, name=v.name, query=v.query, owner_id=v.owner_id,
                                 shared=v.shared, created_at=v.created_at) for v in New.objects.filter(record_type="leads.lead")])


class Migration(migrations.Migration):
    dependencies = [("lists", "0001_initial"), ("leads", "0009_upper_case_countries")]
    operations = [migrations.RunPython(copy, copy_back)]
