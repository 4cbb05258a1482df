"""Scoring and assignment rules keep their criteria as conditions of crm.core.conditions, the one
vocabulary every rule of the CRM uses ("eq" became "equals"; "contains any of a, b" a group of contains)."""
from django.db import migrations, models

OPS = {"eq": "equals", "ne": "not_equals", "gt": "gt", "gte": "gte", "lt": "lt", "set": "is_not_empty",
       "empty": "is_empty"}


def leaf(field, op, value):
    values = [v.strip() for v in str(value or "").split(",") if v.strip()]
    if op == "contains":
        return {"any": [{"field": field, "op": "contains", "value": v} for v in values]}
    if op == "in":
        return {"field": field, "op": "in", "value": values}
    if OPS.get(op) in ("is_empty", "is_not_empty"):
        return {"field": field, "op": OPS[op]}
    return {"field": field, "op": OPS.get(op, op), "value": str(value or "")}


def forwards(apps, schema_editor):
    ScoringRule = apps.get_model("leads", "ScoringRule")
    AssignmentRule = apps.get_model("leads", "AssignmentRule")
    for rule in ScoringRule.objects.exclude(field=""):
        rule.conditions = {"all": [leaf(rule.field, rule.operator, rule.value)]}
        rule.save(update_fields=["conditions"])
    for rule in AssignmentRule.objects.all():
        old = rule.conditions if isinstance(rule.conditions, list) else []
        rule.conditions = {"all": [leaf(c.get("field", ""), c.get("op", ""), c.get("value", "")) for c in old]}
        rule.save(update_fields=["conditions"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0010_saved_views_moved")]

    operations = [
        migrations.AddField(model_name="scoringrule", name="conditions",
                            field=models.JSONField(blank=True, default=dict, verbose_name="criteria")),
        migrations.AlterField(model_name="assignmentrule", name="conditions",
                              field=models.JSONField(blank=True, default=dict, verbose_name="criteria")),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="scoringrule", name="field"),
        migrations.RemoveField(model_name="scoringrule", name="operator"),
        migrations.RemoveField(model_name="scoringrule", name="value"),
    ]
