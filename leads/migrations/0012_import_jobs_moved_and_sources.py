"""Import jobs moved to the shared import engine (crm.imports). Lead sources gain the standard values other
CRMs use (Salesforce's picklist among them), so their exports import without mapping."""
from django.db import migrations

SOURCES = [
    ("phone-inquiry", "Phone inquiry", "تماس تلفنی ورودی", "Puhelintiedustelu"),
    ("advertisement", "Advertisement", "تبلیغات", "Mainonta"),
    ("purchased-list", "Purchased list", "فهرست خریداری‌شده", "Ostettu lista"),
    ("seminar", "Seminar", "سمینار", "Seminaari"),
    ("existing-customer", "Existing customer", "مشتری فعلی", "Nykyinen asiakas"),
    ("other", "Other", "سایر", "Muu"),
]


def add_sources(apps, schema_editor):
    PicklistValue = apps.get_model("customization", "PicklistValue")
    last = PicklistValue.objects.filter(picklist="leads.source").order_by("-order").first()
    order = (last.order if last else 0) + 10
    for value, en, fa, fi in SOURCES:
        _row, created = PicklistValue.objects.get_or_create(
            picklist="leads.source", value=value,
            defaults=dict(label=en, label_translations={"fa": fa, "fi": fi}, order=order))
        order += 10 if created else 0


class Migration(migrations.Migration):
    dependencies = [("leads", "0011_rule_conditions"), ("imports", "0002_jobs_from_leads"),
                    ("customization", "0001_initial")]
    operations = [
        migrations.RunPython(add_sources, migrations.RunPython.noop),
        migrations.DeleteModel(name="ImportJob"),
    ]
