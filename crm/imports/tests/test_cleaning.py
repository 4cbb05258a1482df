"""Cleaning single cells as other programs write them (the page tests import whole files; these pin the rules)."""
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.models import Contact
from crm.core.formatting import parse_number
from crm.imports.cleaning import (DateCleaner, EmailCleaner, LanguageCleaner, NumberCleaner, PhoneCleaner,
                                  date_order, parse_date, text)
from crm.imports.reading import _number
from leads.models import Lead


@pytest.mark.parametrize("value", ["0/0/00", "00.00.0000", "0000-00-00", "0000-00-00 00:00:00", ""])
def test_empty_dates_of_outlook_and_mysql(value):
    assert parse_date(value) is None
    assert DateCleaner(Contact._meta.get_field("birthdate"))(value) is None


@pytest.mark.parametrize(("values", "month_first"), [
    (["5/23/1984", "11/2/1971", "2/29/1988"], True),  # a US export
    (["23.5.1984", "2.11.1971"], False),
    (["5/6/1984", "1/2/1971"], None),  # cannot tell: the user's format decides
    (["5/23/1984", "23/5/1984"], None),  # contradicts itself
    (["1984-05-23"], None),
])
def test_a_date_column_is_read_in_the_order_its_cells_show(values, month_first):
    assert date_order(values) is month_first


def test_an_ambiguous_date_follows_its_column():
    cleaner = DateCleaner(Contact._meta.get_field("birthdate"))
    cleaner.prepare({"5/23/1984", "11/2/1971"})
    assert cleaner("11/2/1971") == date(1971, 11, 2)
    assert cleaner.notes  # the user is told, as they write dates day first


@pytest.mark.parametrize(("value", "expected"), [
    ("1.85E7", Decimal("18500000")), ("950000.0", Decimal("950000")), ("4.2e+7", Decimal("42000000")),
    ("12 500,50", Decimal("12500.50")), ("1,234.50", Decimal("1234.50")),
])
def test_numbers(value, expected):
    assert NumberCleaner(Lead._meta.get_field("annual_revenue"))(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("25-50", 25), ("1000+", 1000), ("100 – 500", 100), ("۲۵-۵۰", 25)])
def test_a_range_of_employees_is_its_lower_bound(value, expected):
    cleaner = NumberCleaner(Lead._meta.get_field("employees"))
    assert cleaner(value) == expected and len(cleaner.notes) == 1


def test_a_range_is_not_a_decimal():
    with pytest.raises(ValueError):
        NumberCleaner(Lead._meta.get_field("annual_revenue"))("25-50")


@pytest.mark.parametrize(("value", "expected", "noted"), [
    ("۰۲۱-۸۸۷۶۵۴۳۲", "021-88765432", False), ("+358 40 718 2245 ::: +358 40 718 2246", "+358 40 718 2245", True),
    ("+98 913 111 2233, +98 913 111 4455", "+98 913 111 2233", True), ("+49 40 123456-0", "+49 40 123456-0", False),
    ("'+358 40 123 4567", "+358 40 123 4567", False),  # our export's formula guard
])
def test_phones(value, expected, noted):
    cleaner = PhoneCleaner(Lead._meta.get_field("mobile"))
    assert cleaner(value) == expected and bool(cleaner.notes) is noted


def test_several_emails_keep_the_first():
    cleaner = EmailCleaner(Lead._meta.get_field("email"))
    assert cleaner("a@example.com ::: b@example.com") == "a@example.com" and cleaner.notes


@pytest.mark.parametrize(("value", "expected"), [
    ("suomi", "fi"), ("Finnish", "fi"), ("persia; suomi", "fa"), ("فارسی", "fa"), ("fi-FI", "fi"), ("EN", "en"),
    ("Svenska", "sv"), ("", ""),
])
def test_preferred_language_as_its_code(value, expected):
    assert LanguageCleaner(Contact._meta.get_field("preferred_language"))(value) == expected


def test_line_ends_inside_a_cell():
    assert text("Rivi 1\r\nRivi 2\rRivi 3 ") == "Rivi 1\nRivi 2\nRivi 3"


@pytest.mark.parametrize(("value", "expected"), [(123.456, "123.4560"), (2.5, "2.5"), (18500000.0, "18500000"),
                                                 (1234.567, "1234.5670"), (12, "12")])
def test_xlsx_numbers_read_the_same_in_every_language(value, expected):
    assert _number(value) == expected
    with translation.override("fi"):  # where "123.456" typed by hand is 123456
        assert parse_number(_number(value)) == Decimal(str(value))
