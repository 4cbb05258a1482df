"""The default "New business" pipeline and its stages."""
from django.db import migrations

STAGES = [
    # name, fa, fi, probability, forecast category, outcome
    ("Prospecting", "شناسایی", "Prospektointi", 10, "pipeline", "open"),
    ("Qualification", "ارزیابی صلاحیت", "Kvalifiointi", 20, "pipeline", "open"),
    ("Needs analysis", "تحلیل نیازها", "Tarveanalyysi", 30, "pipeline", "open"),
    ("Value proposition", "ارائه ارزش", "Arvolupaus", 40, "best_case", "open"),
    ("Decision makers", "شناسایی تصمیم‌گیرندگان", "Päättäjät", 50, "best_case", "open"),
    ("Proposal / price quote", "پیشنهاد / پیش‌فاکتور", "Tarjous", 70, "commit", "open"),
    ("Negotiation / review", "مذاکره / بازبینی", "Neuvottelu", 85, "commit", "open"),
    ("Closed won", "برنده شده", "Voitettu", 100, "closed", "won"),
    ("Closed lost", "از دست رفته", "Hävitty", 0, "omitted", "lost"),
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("opportunities", "Pipeline")
    Stage = apps.get_model("opportunities", "Stage")
    pipeline, _ = Pipeline.objects.get_or_create(
        name="New business",
        defaults={"is_default": True, "name_translations": {"fa": "کسب‌وکار جدید", "fi": "Uusmyynti"}},
    )
    for order, (name, fa, fi, probability, category, outcome) in enumerate(STAGES):
        Stage.objects.get_or_create(
            pipeline=pipeline, name=name,
            defaults=dict(name_translations={"fa": fa, "fi": fi}, order=order * 10, probability=probability,
                          forecast_category=category, outcome=outcome),
        )


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
