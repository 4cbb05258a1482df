"""Sharing rules keep their criteria as a condition of crm.core.conditions (one vocabulary for every rule),
instead of one field, operator and value."""
from django.db import migrations, models


def to_tree(apps, schema_editor):
    SharingRule = apps.get_model("access", "SharingRule")
    for rule in SharingRule.objects.exclude(criteria_field=""):
        value = rule.criteria_value
        if rule.criteria_operator == "in":
            value = [v.strip() for v in value.split(",") if v.strip()]
        rule.criteria = {"all": [{"field": rule.criteria_field, "op": rule.criteria_operator, "value": value}]}
        rule.save(update_fields=["criteria"])


def from_tree(apps, schema_editor):
    SharingRule = apps.get_model("access", "SharingRule")
    for rule in SharingRule.objects.exclude(criteria={}):
        leaf = (rule.criteria.get("all") or [{}])[0]
        value = leaf.get("value", "")
        rule.criteria_field, rule.criteria_operator = leaf.get("field", ""), leaf.get("op", "")
        rule.criteria_value = ", ".join(value) if isinstance(value, list) else str(value)
        rule.save(update_fields=["criteria_field", "criteria_operator", "criteria_value"])


class Migration(migrations.Migration):
    dependencies = [("access", "0002_auditlog_append_only")]

    operations = [
        migrations.AddField(model_name="sharingrule", name="criteria",
                            field=models.JSONField(blank=True, default=dict, verbose_name="criteria")),
        migrations.RunPython(to_tree, from_tree),
        migrations.RemoveField(model_name="sharingrule", name="criteria_field"),
        migrations.RemoveField(model_name="sharingrule", name="criteria_operator"),
        migrations.RemoveField(model_name="sharingrule", name="criteria_value"),
    ]
