"""Numbers, amounts and percentages as CLDR writes them in English, Finnish and Persian; parse_number
reads them (and other programs' spellings) back; ltr keeps left-to-right text in its order."""
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from crm.core import formatting

LRM, NBSP = "\u200e", "\u00a0"
LANGUAGES = ["en", "fi", "fa"]
# What a Persian number may hold: Persian digits, ٬ (group), ٫ (decimal), ٪, and CLDR's LRM + "−".
PERSIAN_NUMBER = re.compile(r"[۰-۹٬٫٪−\u200e]+")


def in_language(language, function, *args):
    with translation.override(language):
        return function(*args)


# --- format_number -------------------------------------------------------------------------------

@pytest.mark.parametrize("language, value, expected", [
    ("en", 75000000, "75,000,000"),
    ("fi", 75000000, f"75{NBSP}000{NBSP}000"),
    ("fa", 75000000, "۷۵٬۰۰۰٬۰۰۰"),
    ("en", Decimal("10000.50"), "10,000.50"),
    ("fi", Decimal("10000.50"), f"10{NBSP}000,50"),
    ("fa", Decimal("10000.50"), "۱۰٬۰۰۰٫۵۰"),
    ("en", -1234, "-1,234"),
    ("fi", -1234, f"−1{NBSP}234"),
    ("fa", -1234, f"{LRM}−۱٬۲۳۴"),
    ("en", 0, "0"),
    ("fa", 0, "۰"),
])
def test_numbers_are_grouped_in_each_language(language, value, expected):
    assert in_language(language, formatting.format_number, value) == expected


def test_whole_numbers_get_no_decimals_and_fractions_two():
    # given whole numbers (int or Decimal) and fractions, and an explicit count
    with translation.override("en"):
        # then whole numbers have no decimals, fractions two, unless told otherwise
        assert formatting.format_number(Decimal("10000.00")) == "10,000"
        assert formatting.format_number(Decimal("1.5")) == "1.50"
        assert formatting.format_number(1.5) == "1.50"
        assert formatting.format_number(7, 2) == "7.00"
        assert formatting.format_number(Decimal("1.2345"), 3) == "1.235"


def test_rounding_is_half_up_and_never_gives_minus_zero():
    with translation.override("en"):
        assert formatting.format_number(2.675) == "2.68"  # the float as written, not its binary value
        assert formatting.format_money(Decimal("0.125"), "EUR") == "€0.13"
        assert formatting.format_number(Decimal("-0.001")) == "0.00"


@pytest.mark.parametrize("function", [formatting.format_number, formatting.format_money, formatting.format_percent])
@pytest.mark.parametrize("empty", [None, ""])
def test_nothing_formats_as_empty_text(function, empty):
    for language in LANGUAGES:
        assert in_language(language, function, empty) == ""


def test_text_that_is_no_number_is_shown_as_it_is():
    with translation.override("fa"):
        assert formatting.format_number("n/a") == "n/a"
        assert formatting.format_money("n/a", "EUR") == "n/a"


def test_unknown_languages_format_as_english():
    assert in_language("de", formatting.format_money, 1234, "EUR") == "€1,234.00"
    assert in_language("en-us", formatting.format_number, 1234) == "1,234"


# --- format_money -------------------------------------------------------------------------------

@pytest.mark.parametrize("language, value, currency, expected", [
    ("en", Decimal(12500), "EUR", "€12,500.00"),
    ("fi", Decimal(12500), "EUR", f"12{NBSP}500,00{NBSP}€"),
    ("fa", Decimal(12500), "EUR", f"{LRM}€{NBSP}۱۲٬۵۰۰٫۰۰"),
    ("en", Decimal("-12500.5"), "USD", "-$12,500.50"),
    ("fi", Decimal("-12500.5"), "USD", f"−12{NBSP}500,50{NBSP}$"),
    ("fa", Decimal("-12500.5"), "USD", f"{LRM}−{LRM}${NBSP}۱۲٬۵۰۰٫۵۰"),
    # the rial has no decimals in CLDR
    ("en", 12500, "IRR", "IRR12,500"),
    ("fi", 12500, "IRR", f"12{NBSP}500{NBSP}IRR"),
    ("fa", 12500, "IRR", f"{LRM}ریال{NBSP}۱۲٬۵۰۰"),
    ("en", 5, "eur", "€5.00"),
])
def test_amounts_are_written_the_way_the_language_writes_them(language, value, currency, expected):
    assert in_language(language, formatting.format_money, value, currency) == expected


def test_an_amount_without_currency_is_in_the_organisations_currency():
    # given an organisation that keeps its books in dollars
    with override_settings(CORPORATE_CURRENCY="USD"), translation.override("en"):
        # when an amount has no currency of its own, then it is read as dollars
        assert formatting.format_money(Decimal("1234.5")) == "$1,234.50"
    # and without the setting, euros
    with override_settings(), translation.override("en"):
        del settings.CORPORATE_CURRENCY
        assert formatting.format_money(Decimal("1234.5")) == "€1,234.50"


# --- format_percent -----------------------------------------------------------------------------

@pytest.mark.parametrize("language, value, expected", [
    ("en", 25, "25%"),
    ("fi", 25, f"25{NBSP}%"),
    ("fa", 25, "۲۵٪"),
    ("en", Decimal("-12.5"), "-12.50%"),
    ("fi", Decimal("12.5"), f"12,50{NBSP}%"),
    ("fa", Decimal("-12.5"), f"{LRM}−۱۲٫۵۰٪"),
])
def test_percentages_take_percent_units(language, value, expected):
    assert in_language(language, formatting.format_percent, value) == expected


def test_percent_decimals_can_be_given():
    assert in_language("en", formatting.format_percent, Decimal("33.333"), 1) == "33.3%"


# --- Persian: only Persian digits and separators -------------------------------------------------

@pytest.mark.parametrize("value", [0, 7, -1234, 75000000, Decimal("10000.00"), Decimal("-0.5"),
                                   Decimal("1234567.89"), 2.5])
def test_persian_numbers_have_only_persian_digits_and_separators(value):
    with translation.override("fa"):
        texts = [formatting.format_number(value), formatting.format_percent(value)]
        money = [formatting.format_money(value, c) for c in ("EUR", "USD", "IRR")]
    for text in texts:
        assert PERSIAN_NUMBER.fullmatch(text), text
    for text in money:
        number = re.sub(r"^\u200e(−\u200e)?(€|\$|ریال)\u00a0", "", text)
        assert PERSIAN_NUMBER.fullmatch(number), text
    assert not re.search(r"[0-9.,%-]", "".join(texts + money))


def test_localize_digits_still_only_for_persian():
    assert in_language("fa", formatting.localize_digits, "2026") == "۲۰۲۶"
    assert in_language("fi", formatting.localize_digits, "2026") == "2026"


# --- parse_number -------------------------------------------------------------------------------

ROUND_TRIP_NUMBERS = [0, 7, -7, 1234, -1234, 75000000, 123456789012, Decimal("0.5"), Decimal("-0.05"),
                      Decimal("1234.56"), Decimal("-12500.50"), Decimal("999999.99")]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("value", ROUND_TRIP_NUMBERS)
def test_what_is_printed_reads_back_in_the_same_language(language, value):
    with translation.override(language):
        number, percent = formatting.format_number(value), formatting.format_percent(value)
        money = {c: formatting.format_money(value, c) for c in ("EUR", "USD", "GBP", "IRR", "JPY", "CAD")}
    assert formatting.parse_number(number, language) == value
    assert formatting.parse_number(percent, language) == value
    for currency, text in money.items():
        whole = currency in ("IRR", "JPY")  # no decimals in CLDR
        expected = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP) if whole else value
        assert formatting.parse_number(text, language) == expected, text


@pytest.mark.parametrize("language", LANGUAGES)
def test_three_decimals_read_back_too(language):
    # "1.234" and "1,234" are the ambiguous cases: the language decides
    text = in_language(language, formatting.format_number, Decimal("1.234"), 3)
    assert formatting.parse_number(text, language) == Decimal("1.234")


def test_parse_uses_the_active_language_by_default():
    with translation.override("fi"):
        assert formatting.parse_number("1,234") == Decimal("1.234")
    with translation.override("en"):
        assert formatting.parse_number("1,234") == 1234


@pytest.mark.parametrize("text, language, expected", [
    # grouping: commas, dots, spaces, NO-BREAK and NARROW NO-BREAK SPACE, apostrophes
    ("12,500.50", "en", "12500.50"),
    ("12.500,50", "en", "12500.50"),
    ("12 500,50", "fi", "12500.50"),
    ("12 500,50", "en", "12500.50"),
    ("12\u00a0500,50", "fi", "12500.50"),
    ("12\u202f500,50", "fi", "12500.50"),
    ("1'234'567.50", "en", "1234567.50"),
    ("1’234’567,50", "fi", "1234567.50"),
    ("1,234,567", "fi", "1234567"),
    ("1.234.567", "en", "1234567"),
    ("12,500.50", "fi", "12500.50"),  # an English export read in Finnish
    # the ambiguous lone mark followed by three digits
    ("1,234", "en", "1234"),
    ("1,234", "fa", "1234"),
    ("1,234", "fi", "1.234"),
    ("1.234", "en", "1.234"),
    ("1.234", "fi", "1234"),
    ("1 234,567", "en", "1234.567"),  # spaces already group
    ("0,250", "en", "0.250"),  # nobody groups a zero
    ("1234,567", "en", "1234.567"),  # four digits cannot be a group
    # a lone mark followed by anything but three digits is decimal
    ("12,5", "en", "12.5"),
    ("1.5", "fi", "1.5"),
    (",5", "en", "0.5"),
    ("5.", "en", "5"),
    # Persian and Arabic digits and separators
    ("۱۲٬۵۰۰٫۵۰", "fa", "12500.50"),
    ("١٢٬٥٠٠٫٥٠", "fa", "12500.50"),
    ("۱۲،۵۰۰", "fa", "12500"),
    ("۱۲،۵", "fa", "12.5"),
    ("۲/۵", "fa", "2.5"),
    ("۱۲,۵۰۰.۵۰", "en", "12500.50"),
    ("\u200e−۱٬۲۳۴٫۵۰", "en", "-1234.50"),
    # currency symbols and codes, before or after, with the sign on either side
    ("€12,500.00", "en", "12500.00"),
    ("-€12,500.00", "en", "-12500.00"),
    ("€-12", "en", "-12"),
    ("$ 1,000", "en", "1000"),
    ("£1,000", "en", "1000"),
    ("EUR 1,234.56", "en", "1234.56"),
    ("1 234,56 EUR", "fi", "1234.56"),
    ("usd 5", "en", "5"),
    ("IRR12,500", "en", "12500"),
    ("﷼ ۱۲٬۵۰۰", "fa", "12500"),
    ("۱۲٬۵۰۰ ریال", "fa", "12500"),
    ("−12\u00a0500,00\u00a0€", "fi", "-12500.00"),
    ("(1,234.00)", "en", "-1234.00"),
    ("1234-", "en", "-1234"),
    ("+5", "en", "5"),
    # percentages, in percent units
    ("25%", "en", "25"),
    ("25 %", "fi", "25"),
    ("۲۵٪", "fa", "25"),
    ("٪۲۵", "fa", "25"),
    ("12,5 %", "fi", "12.5"),
    # a spreadsheet's BOM
    ("\ufeff1,234.50", "en", "1234.50"),
])
def test_numbers_as_people_type_them_and_programs_export_them(text, language, expected):
    assert formatting.parse_number(text, language) == Decimal(expected)


@pytest.mark.parametrize("text", [None, "", "   ", "abc", "12a", "1 2", "--5", "+-5", "1,23,456", "1,234.567.89",
                                  "1.2.3,4,5", "€5%", "€ €5", "EUR 5 USD", "xyz 5", "(5", "5)", "-(5)", "1/2", "%", "€",
                                  "1e5", "NaN", "Infinity", True])
def test_garbage_is_no_number(text):
    assert formatting.parse_number(text, "en") is None


def test_numbers_pass_through():
    assert formatting.parse_number(Decimal("1.50")) == Decimal("1.50")
    assert formatting.parse_number(7) == 7
    assert formatting.parse_number(2.5) == Decimal("2.5")


# --- ltr and the template filters ---------------------------------------------------------------

def test_ltr_isolates_and_escapes():
    text = formatting.ltr("+358 40 1000036")
    assert text == '<bdi dir="ltr">+358 40 1000036</bdi>' and isinstance(text, SafeString)
    assert formatting.ltr("<script>alert(1)</script>") == '<bdi dir="ltr">&lt;script&gt;alert(1)&lt;/script&gt;</bdi>'
    assert formatting.ltr(mark_safe("<b>x</b>")) == '<bdi dir="ltr"><b>x</b></bdi>'  # already safe stays markup
    assert formatting.ltr(0) == '<bdi dir="ltr">0</bdi>'


@pytest.mark.parametrize("empty", [None, ""])
def test_ltr_of_nothing_is_nothing(empty):
    assert formatting.ltr(empty) == ""


def render(source, **context):
    return Template("{% load crm %}" + source).render(Context(context))


def test_money_filter_isolates_the_amount_and_keeps_default_working():
    with translation.override("fa"):
        assert render("{{ v|money:'EUR' }}", v=Decimal(12500)) == f'<bdi dir="ltr">{LRM}€{NBSP}۱۲٬۵۰۰٫۰۰</bdi>'
        assert render("{{ v|money:c|default:'—' }}", v=None, c="EUR") == "—"


def test_ltr_filter_escapes_what_it_isolates():
    assert render("{{ v|ltr }}", v="a@example.com<script>") == '<bdi dir="ltr">a@example.com&lt;script&gt;</bdi>'
    assert render("{{ v|ltr|default:'—' }}", v="") == "—"


def test_number_and_percent_filters():
    with translation.override("fi"):
        assert render("{{ v|number }} {{ v|number:'2' }} {{ p|percent }}", v=1234, p=25) == \
            f"1{NBSP}234 1{NBSP}234,00 25{NBSP}%"
    with translation.override("fa"):
        assert render("{{ v|digits }}", v=2026) == "۲۰۲۶"
