"""The default pipeline's stages as the opportunities issue gives them, the loss reasons picklist, the standard
price book in the corporate currency, the sales settings row, and the trigger that keeps an opportunity's amount
in the corporate currency.

The trigger: before an opportunity's row is written with a new amount, currency, close date or probability, its
amount_corporate becomes amount ÷ the rate in force on the close date (today when it has none; the currency's
earliest rate when the date is before every rate; 1 for the corporate currency; NULL when the currency has no
rate at all) and expected_revenue that × probability %. A change to a rate touches the opportunities of its
currency so the row trigger recomputes them. Rates dated after a close date leave it alone: last year's won
deals keep their value."""
from django.conf import settings
from django.db import migrations

STAGES = {
    # name: (new name, fa, fi, probability)
    "Decision makers": ("Identify decision makers", "شناسایی تصمیم‌گیرندگان", "Päättäjien tunnistaminen", 50),
    "Proposal / price quote": ("Proposal / price quote", "پیشنهاد / پیش‌فاکتور", "Tarjous", 65),
    "Negotiation / review": ("Negotiation / review", "مذاکره / بازبینی", "Neuvottelu / katselmointi", 80),
}

LOSS_REASONS = [
    ("price", "Price", "قیمت", "Hinta"),
    ("competitor", "Lost to a competitor", "واگذار شده به رقیب", "Kilpailija voitti"),
    ("no_budget", "No budget", "نبود بودجه", "Ei budjettia"),
    ("no_decision", "No decision / went dark", "بدون تصمیم", "Ei päätöstä"),
    ("timing", "Timing", "زمان‌بندی", "Ajoitus"),
    ("product_fit", "Product did not fit", "محصول مناسب نبود", "Tuote ei sopinut"),
    ("other", "Other", "سایر", "Muu"),
]


def seed(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    for old, (name, fa, fi, probability) in STAGES.items():
        for stage in Stage.objects.filter(pipeline__is_default=True, name=old):
            stage.name, stage.probability = name, probability
            stage.name_translations = {**stage.name_translations, "fa": fa, "fi": fi}
            stage.save()
    PicklistValue = apps.get_model("customization", "PicklistValue")
    for order, (value, label, fa, fi) in enumerate(LOSS_REASONS):
        PicklistValue.objects.get_or_create(picklist="opportunities.loss_reason", value=value, defaults=dict(
            label=label, label_translations={"fa": fa, "fi": fi}, order=order * 10))
    PriceBook = apps.get_model("opportunities", "PriceBook")
    currency = getattr(settings, "CORPORATE_CURRENCY", "EUR").upper()
    if not PriceBook.objects.filter(is_standard=True, currency=currency).exists():
        PriceBook.objects.create(name="Standard price book", currency=currency, is_standard=True)
    apps.get_model("opportunities", "SalesSettings").objects.update_or_create(
        pk=1, defaults={"corporate_currency": currency})


TRIGGERS = """
CREATE OR REPLACE FUNCTION opportunities_corporate_amount() RETURNS trigger AS $$
DECLARE
    corporate text;
    r numeric;
BEGIN
    IF NEW.amount IS NULL THEN
        NEW.amount_corporate := NULL;
        NEW.expected_revenue := NULL;
        RETURN NEW;
    END IF;
    SELECT corporate_currency INTO corporate FROM opportunities_salessettings WHERE id = 1;
    IF upper(NEW.currency) = coalesce(corporate, 'EUR') THEN
        r := 1;
    ELSE
        SELECT rate INTO r FROM opportunities_exchangerate
         WHERE currency = upper(NEW.currency) AND valid_from <= coalesce(NEW.close_date, current_date)
         ORDER BY valid_from DESC LIMIT 1;
        IF r IS NULL THEN
            SELECT rate INTO r FROM opportunities_exchangerate WHERE currency = upper(NEW.currency)
             ORDER BY valid_from LIMIT 1;
        END IF;
    END IF;
    IF r IS NULL OR r = 0 THEN
        NEW.amount_corporate := NULL;
        NEW.expected_revenue := NULL;
    ELSE
        NEW.amount_corporate := round(NEW.amount / r, 2);
        NEW.expected_revenue := round(NEW.amount / r * NEW.probability / 100, 2);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER opportunities_corporate_amount_insert BEFORE INSERT ON opportunities_opportunity
    FOR EACH ROW EXECUTE FUNCTION opportunities_corporate_amount();
CREATE TRIGGER opportunities_corporate_amount_update
    BEFORE UPDATE OF amount, currency, close_date, probability ON opportunities_opportunity
    FOR EACH ROW EXECUTE FUNCTION opportunities_corporate_amount();

CREATE OR REPLACE FUNCTION opportunities_rate_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE opportunities_opportunity SET currency = currency WHERE upper(currency) = OLD.currency;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.currency <> OLD.currency) THEN
        UPDATE opportunities_opportunity SET currency = currency WHERE upper(currency) = NEW.currency;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER opportunities_rate_changed AFTER INSERT OR UPDATE OR DELETE ON opportunities_exchangerate
    FOR EACH ROW EXECUTE FUNCTION opportunities_rate_changed();

UPDATE opportunities_opportunity SET amount = amount WHERE amount IS NOT NULL;
"""

DROP = """
DROP TRIGGER IF EXISTS opportunities_rate_changed ON opportunities_exchangerate;
DROP FUNCTION IF EXISTS opportunities_rate_changed();
DROP TRIGGER IF EXISTS opportunities_corporate_amount_insert ON opportunities_opportunity;
DROP TRIGGER IF EXISTS opportunities_corporate_amount_update ON opportunities_opportunity;
DROP FUNCTION IF EXISTS opportunities_corporate_amount();
"""


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0005_sales"), ("customization", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop), migrations.RunSQL(TRIGGERS, DROP)]
