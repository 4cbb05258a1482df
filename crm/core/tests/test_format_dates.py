from datetime import date

import pytest
from django.utils import translation

from crm.access.tests.factories import UserFactory
from crm.core import formatting


@pytest.mark.django_db
def test_jalali_new_year_in_persian_uses_persian_digits():
    # given a Persian reader who wants the Jalali calendar
    user = UserFactory(use_jalali=True, date_format="Y-m-d")
    # when 2026-03-21 is shown
    with translation.override("fa"):
        text = formatting.format_date(date(2026, 3, 21), user)
    # then it is Nowruz 1405, in Persian digits
    assert text == "۱۴۰۵/۰۱/۰۱"


@pytest.mark.django_db
def test_jalali_month_names_in_english():
    user = UserFactory(use_jalali=True, date_format="j F Y")
    with translation.override("en"):
        assert formatting.format_date(date(2026, 3, 21), user) == "1 Farvardin 1405"


@pytest.mark.django_db
def test_gregorian_format_preference():
    user = UserFactory(use_jalali=False, date_format="d.m.Y")
    with translation.override("en"):
        assert formatting.format_date(date(2026, 3, 21), user) == "21.03.2026"


def test_money_is_written_in_the_locales_form():
    with translation.override("en"):
        assert formatting.format_money(1234567.5, "EUR") == "€1,234,567.50"
