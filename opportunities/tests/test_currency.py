"""Currencies: the Python conversion agrees with the database trigger, dated rates leave last year's deals alone,
"no rate" is not 0, and the settings pages (rates typed, corrected, deleted, imported from CSV) for admins only."""
import datetime
import random
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.access.tests.factories import AdminFactory, ProfileFactory, UserFactory
from opportunities import currency
from opportunities.models import ExchangeRate, Opportunity
from opportunities.tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_YEAR = TODAY.replace(year=TODAY.year - 1, month=6, day=15)


def rate(code, value, day):
    return currency.exchange_rate_save(actor=None, rate=ExchangeRate(currency=code, rate=Decimal(value), valid_from=day))


def stored(opportunity):
    opportunity.refresh_from_db(fields=["amount_corporate", "expected_revenue"])
    return opportunity.amount_corporate


def test_the_corporate_currency_is_one():
    assert currency.rate_on("EUR", TODAY) == 1
    assert currency.rate_on("eur", None) == 1
    assert currency.to_corporate(Decimal("123.45"), "EUR", TODAY) == Decimal("123.45")
    deal = OpportunityFactory(currency="EUR", amount=Decimal("123.45"), close_date=TODAY)
    assert stored(deal) == Decimal("123.45")


def test_a_currency_without_a_rate_is_none_not_zero_and_the_page_says_no_rate(client):
    deal = OpportunityFactory(currency="JPY", amount=Decimal("1000000"), close_date=TODAY)
    assert stored(deal) is None and deal.expected_revenue is None
    assert currency.rate_on("JPY", TODAY) is None and currency.to_corporate(1000, "JPY", TODAY) is None
    admin = AdminFactory()
    client.force_login(admin)
    page = client.get(reverse("opportunities:currencies")).content.decode()
    assert "no rate" in page  # the settings page says which currencies convert to nothing


def test_a_won_deal_closed_last_year_keeps_its_value_when_a_rate_dated_today_is_added():
    rate("USD", "1.25000000", LAST_YEAR - datetime.timedelta(days=30))
    won = OpportunityFactory(currency="USD", amount=Decimal("10000"), close_date=LAST_YEAR,
                             stage=stage("Closed won"), probability=100)
    open_deal = OpportunityFactory(currency="USD", amount=Decimal("10000"), close_date=TODAY + datetime.timedelta(days=30))
    assert stored(won) == Decimal("8000.00") and stored(open_deal) == Decimal("8000.00")

    rate("USD", "1.10000000", TODAY)

    assert stored(won) == Decimal("8000.00")  # the rate in force on its close date did not change
    assert stored(open_deal) == Decimal("9090.91")
    assert currency.to_corporate(Decimal("10000"), "USD", LAST_YEAR) == Decimal("8000.00")


def test_correcting_the_rate_in_force_on_the_close_date_changes_the_value(client):
    old = rate("USD", "1.25000000", LAST_YEAR - datetime.timedelta(days=30))
    won = OpportunityFactory(currency="USD", amount=Decimal("10000"), close_date=LAST_YEAR,
                             stage=stage("Closed won"), probability=100)
    client.force_login(AdminFactory())

    response = client.post(reverse("opportunities:rate_edit", args=[old.pk]), {
        "rate-currency": "USD", "rate-rate": "1.60000000", "rate-valid_from": old.valid_from.isoformat()})

    assert response.status_code == 302
    assert stored(won) == Decimal("6250.00") and won.expected_revenue == Decimal("6250.00")
    client.post(reverse("opportunities:rate_edit", args=[old.pk]), {"delete": "1"})
    assert not ExchangeRate.objects.exists() and stored(won) is None


def test_a_close_date_before_every_rate_takes_the_earliest_and_no_close_date_takes_today():
    rate("SEK", "11.00000000", TODAY - datetime.timedelta(days=100))
    rate("SEK", "12.00000000", TODAY - datetime.timedelta(days=10))
    early = OpportunityFactory(currency="SEK", amount=Decimal("1100"), close_date=TODAY - datetime.timedelta(days=500))
    undated = OpportunityFactory(currency="SEK", amount=Decimal("1200"), close_date=None)
    assert stored(early) == Decimal("100.00") == currency.to_corporate(Decimal("1100"), "SEK", early.close_date)
    assert stored(undated) == Decimal("100.00") == currency.to_corporate(Decimal("1200"), "SEK", None)


def test_python_conversion_agrees_with_the_trigger_digit_for_digit():
    """Random amounts, rates and probabilities, including awkward divisions: amount_corporate and
    expected_revenue from the database equal the Python helpers' for every one."""
    generator = random.Random(20261207)
    rates = ["0.00012345", "1.00000000", "3.00000000", "7.00000001", "11.51230000", "0.33333333", "156.12345678",
             "1.08000000", "9999.99999999", "0.50000000"]
    for index, value in enumerate(rates):
        rate("USD", value, TODAY - datetime.timedelta(days=1000 - index * 90))
    cases = []
    for _ in range(120):
        amount = Decimal(generator.randint(1, 10**10)) / 100
        day = TODAY - datetime.timedelta(days=generator.randint(0, 1200))
        probability = generator.randint(0, 100)
        cases.append(OpportunityFactory(currency="USD", amount=amount, close_date=day, probability=probability))
    for deal in Opportunity.objects.filter(pk__in=[c.pk for c in cases]):
        assert deal.amount_corporate == currency.to_corporate(deal.amount, "USD", deal.close_date), deal.amount
        assert deal.expected_revenue == currency.expected_revenue(deal.amount, "USD", deal.close_date,
                                                                  deal.probability), deal.amount


def test_pg_division_rounds_as_postgresql_does():
    from django.db import connection

    pairs = [("1.00", "3.00000000"), ("0.01", "9999.99999999"), ("99999999999999.99", "0.00000001"),
             ("2.50", "1"), ("123.45", "7.00000001"), ("0.05", "0.10000000")]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT (%s::numeric(16,2) / %s::numeric)::text", [a, b if b == "1" else b])
            expected = cursor.fetchone()[0]
            b_value = Decimal(b)
            assert str(currency._pg_div(Decimal(a), b_value)) == expected, (a, b)


def test_currency_choices_are_iso_4217_named_in_the_readers_language():
    from django.utils import translation

    with translation.override("fi"):
        choices = dict(currency.currency_choices())
    assert choices["EUR"] == "EUR — euro" and "SEK" in choices and "USD" in choices
    assert list(dict(currency.currency_choices("en")))[0] == "EUR"  # the corporate currency first
    assert currency.currency_choices("en")[0] == ("EUR", "EUR — Euro")


# --- the settings pages ----------------------------------------------------------------------------------------

def test_only_admins_with_the_customization_right_reach_the_currency_settings(client):
    rep = UserFactory()
    client.force_login(rep)
    assert client.get(reverse("opportunities:currencies")).status_code == 404
    assert client.get(reverse("opportunities:rate_import")).status_code == 404
    customizer = UserFactory(profile=ProfileFactory(manage_customization=True))
    client.force_login(customizer)
    page = client.get(reverse("settings:index")).content.decode()
    assert reverse("opportunities:currencies") in page
    assert client.get(reverse("opportunities:currencies")).status_code == 200


def test_admin_adds_a_rate_and_sees_rates_per_currency_with_dates(client, django_assert_max_num_queries):
    client.force_login(AdminFactory())
    response = client.post(reverse("opportunities:currencies"), {
        "rate-currency": "USD", "rate-rate": "1.0850", "rate-valid_from": "2026-01-02"})
    assert response.status_code == 302
    assert ExchangeRate.objects.get().rate == Decimal("1.08500000")
    for day in range(1, 30):
        rate("SEK", f"11.{day:02d}", datetime.date(2025, 1, day))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("opportunities:currencies")).content.decode()
    assert "US Dollar" in page and "Swedish Krona" in page and "1.085<" in page and "11.29<" in page


@pytest.mark.parametrize("data, message", [
    ({"rate-currency": "USD", "rate-rate": "-1", "rate-valid_from": "2026-01-02"}, "greater than or equal"),
    ({"rate-currency": "USD", "rate-rate": "0", "rate-valid_from": "2026-01-02"}, "greater than or equal"),
    ({"rate-currency": "XYZ", "rate-rate": "1.1", "rate-valid_from": "2026-01-02"}, "Select a valid choice"),
    ({"rate-currency": "EUR", "rate-rate": "1.1", "rate-valid_from": "2026-01-02"}, "Select a valid choice"),
    ({"rate-currency": "USD", "rate-rate": "1.1", "rate-valid_from": "soon"}, "Enter a valid date"),
])
def test_a_bad_rate_is_refused_with_a_message_and_nothing_written(client, data, message):
    client.force_login(AdminFactory())
    response = client.post(reverse("opportunities:currencies"), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not ExchangeRate.objects.exists()


def test_the_same_currency_and_day_twice_is_refused(client):
    rate("USD", "1.1", datetime.date(2026, 1, 2))
    client.force_login(AdminFactory())
    response = client.post(reverse("opportunities:currencies"), {
        "rate-currency": "USD", "rate-rate": "1.2", "rate-valid_from": "2026-01-02"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert ExchangeRate.objects.get().rate == Decimal("1.1")


CSV_GOOD = "currency,rate,valid_from\nUSD,1.0850,2026-01-02\nSEK,\"11,52\",2026-01-02\n"
CSV_MIXED = ("currency;rate;valid_from\nUSD;1.0850;2026-01-02\nQQQ;1.2;2026-01-02\nSEK;-4;2026-01-02\n"
             "USD;1.09;31.02.2026\nEUR;1;2026-01-02\nUSD;1.07;2026-01-02\nNOK;11.7;2026-01-03\n")


def upload(client, text, **extra):
    return client.post(reverse("opportunities:rate_import"), {
        "file": SimpleUploadedFile("rates.csv", text.encode(), content_type="text/csv"), **extra})


def test_importing_a_good_csv_writes_every_rate_and_corrects_an_existing_one(client):
    rate("USD", "1.5", datetime.date(2026, 1, 2))
    deal = OpportunityFactory(currency="SEK", amount=Decimal("1152"), close_date=datetime.date(2026, 3, 1))
    client.force_login(AdminFactory())
    response = upload(client, CSV_GOOD)
    assert response.status_code == 302
    assert dict(ExchangeRate.objects.values_list("currency", "rate")) == {"USD": Decimal("1.085"), "SEK": Decimal("11.52")}
    assert stored(deal) == Decimal("100.00")


def test_a_csv_with_bad_rows_lists_each_with_its_line_number_and_writes_nothing(client):
    client.force_login(AdminFactory())
    response = upload(client, CSV_MIXED)
    page = response.content.decode()
    assert response.status_code == 200 and not ExchangeRate.objects.exists()
    assert "Nothing was imported: 5 rows are bad." in page
    for line, text in [(3, "“QQQ” is not an ISO 4217 currency code."), (4, "The rate “-4” is not a positive number."),
                       (5, "“31.02.2026” is not a date"), (6, "The corporate currency is always 1"),
                       (7, "Line 2 already gives USD on 2026-01-02.")]:
        assert f"Line {line}: {text}" in page.replace("&ldquo;", "“").replace("&rdquo;", "”"), line


def test_a_csv_with_bad_rows_writes_only_the_good_ones_when_the_user_chooses(client):
    client.force_login(AdminFactory())
    response = upload(client, CSV_MIXED, good_rows_only="on")
    assert response.status_code == 200 and "5 rows were skipped" in response.content.decode()
    assert sorted(ExchangeRate.objects.values_list("currency", "rate")) == [("NOK", Decimal("11.7")),
                                                                            ("USD", Decimal("1.085"))]


def test_an_ecb_style_csv_is_read():
    parsed = currency.parse_rates_csv("KEY,FREQ,CURRENCY,CURRENCY_DENOM,TIME_PERIOD,OBS_VALUE\n"
                                      "EXR.D.USD.EUR.SP00.A,D,USD,EUR,2026-11-30,1.0523\n"
                                      "EXR.D.SEK.EUR.SP00.A,D,SEK,EUR,2026-11-30,11.4870\n")
    assert not parsed.errors
    assert [(r.currency, r.rate, r.valid_from) for r in parsed.rows] == [
        ("USD", Decimal("1.0523"), datetime.date(2026, 11, 30)), ("SEK", Decimal("11.4870"), datetime.date(2026, 11, 30))]


def test_a_csv_without_the_columns_says_which_are_missing():
    parsed = currency.parse_rates_csv("code,value\nUSD,1.1\n")
    assert parsed.errors == [(1, "The first row must name the columns currency, rate and valid_from; missing: "
                                 "valid_from.")]
