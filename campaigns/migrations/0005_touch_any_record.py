"""Campaign touches point at any record (content type and id) instead of a lead or a contact column each:
a converted lead's touches were marked with the contact; they now belong to it."""
import django.db.models.deletion
from django.db import migrations, models


def to_records(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Touch = apps.get_model("campaigns", "Touch")
    lead_type, _ = ContentType.objects.get_or_create(app_label="leads", model="lead")
    contact_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="contact")
    Touch.objects.filter(contact__isnull=False).update(content_type=contact_type, object_id=models.F("contact_id"))
    Touch.objects.filter(contact__isnull=True, lead__isnull=False).update(content_type=lead_type,
                                                                           object_id=models.F("lead_id"))
    Touch.objects.filter(content_type__isnull=True).delete()  # touched nothing


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_custom_index"), ("contenttypes", "0002_remove_content_type_name"),
                    ("leads", "0011_rule_conditions"), ("accounts", "0002_history_without_field_indexes")]

    operations = [
        migrations.AddField(model_name="touch", name="content_type", field=models.ForeignKey(
            null=True, on_delete=django.db.models.deletion.CASCADE, to="contenttypes.contenttype")),
        migrations.AddField(model_name="touch", name="object_id", field=models.BigIntegerField(null=True)),
        migrations.RunPython(to_records, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="touch", name="campaigns_t_lead_id_3cd53b_idx"),
        migrations.RemoveIndex(model_name="touch", name="campaigns_t_campaig_9b4e4b_idx"),
        migrations.RemoveField(model_name="touch", name="lead"),
        migrations.RemoveField(model_name="touch", name="contact"),
        migrations.AlterField(model_name="touch", name="content_type", field=models.ForeignKey(
            on_delete=django.db.models.deletion.CASCADE, to="contenttypes.contenttype")),
        migrations.AlterField(model_name="touch", name="object_id", field=models.BigIntegerField()),
        migrations.AddIndex(model_name="touch", index=models.Index(fields=["content_type", "object_id", "touched_at"],
                                                                   name="touch_record")),
        migrations.AddIndex(model_name="touch", index=models.Index(fields=["campaign", "touched_at"],
                                                                   name="touch_campaign")),
    ]
