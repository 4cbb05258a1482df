"""Seed the lead source and status picklists (admins edit them afterwards)."""
from django.db import migrations

SOURCES = [
    ("web-form", "Web form", "فرم وب", "Verkkolomake"),
    ("campaign", "Campaign", "کمپین", "Kampanja"),
    ("referral", "Referral", "معرفی", "Suosittelu"),
    ("trade-show", "Trade show", "نمایشگاه", "Messut"),
    ("social-media", "Social media", "شبکه‌های اجتماعی", "Sosiaalinen media"),
    ("cold-call", "Cold call", "تماس سرد", "Kylmäsoitto"),
    ("partner", "Partner", "شریک تجاری", "Kumppani"),
    ("import", "Import", "درون‌ریزی", "Tuonti"),
]
STATUSES = [
    ("not-contacted", "Not contacted", "تماس گرفته نشده", "Ei yhteydenottoa"),
    ("attempted-to-contact", "Attempted to contact", "تلاش برای تماس", "Yhteydenottoa yritetty"),
    ("contact-in-future", "Contact in future", "تماس در آینده", "Yhteydenotto myöhemmin"),
    ("contacted", "Contacted", "تماس گرفته شده", "Yhteyttä otettu"),
    ("interested", "Interested", "علاقه‌مند", "Kiinnostunut"),
    ("hot", "Hot", "داغ", "Kuuma"),
    ("warm", "Warm", "گرم", "Lämmin"),
    ("cold", "Cold", "سرد", "Kylmä"),
    ("not-interested", "Not interested", "بی‌علاقه", "Ei kiinnostunut"),
    ("pre-qualified", "Pre-qualified", "پیش‌واجد شرایط", "Esikarsittu"),
    ("qualified", "Qualified", "واجد شرایط", "Kvalifioitu"),
    ("junk-lead", "Junk lead", "سرنخ بی‌ارزش", "Roskaliidi"),
    ("lost-lead", "Lost lead", "سرنخ از دست رفته", "Menetetty liidi"),
]
CLOSED = {"not-interested", "junk-lead", "lost-lead"}


def seed(apps, schema_editor):
    PicklistValue = apps.get_model("customization", "PicklistValue")
    for picklist, rows, default in (("leads.source", SOURCES, None), ("leads.status", STATUSES, "not-contacted")):
        for order, (value, en, fa, fi) in enumerate(rows):
            PicklistValue.objects.get_or_create(
                picklist=picklist, value=value,
                defaults=dict(label=en, label_translations={"fa": fa, "fi": fi}, order=order * 10,
                              is_default=value == default, flags={"closed": value in CLOSED}),
            )


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_capture"), ("customization", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
