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


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fi", "fa"])
@pytest.mark.parametrize("jalali", [False, True])
@pytest.mark.parametrize("date_format", ["Y-m-d", "d.m.Y", "m/d/Y", "j F Y"])
def test_a_pages_formatter_writes_what_format_date_and_format_datetime_write(language, jalali, date_format):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    user = UserFactory(use_jalali=jalali, date_format=date_format)
    # 23:30 UTC is the next day in Helsinki: the time zone decides the date
    stamps = [datetime(2026, 3, 20, 23, 30, tzinfo=ZoneInfo("UTC")), datetime(2025, 12, 31, 8, 5, tzinfo=ZoneInfo("UTC"))]
    days = [date(2026, 3, 21), date(1999, 1, 9)]
    with translation.override(language), timezone.override(ZoneInfo("Europe/Helsinki")):
        stamp, day = formatting.date_formatter(user, with_time=True), formatting.date_formatter(user)
        assert [stamp(v) for v in stamps] == [formatting.format_datetime(v, user) for v in stamps]
        assert [day(v) for v in days + stamps] == [formatting.format_date(v, user) for v in days + stamps]
        assert stamp(None) == day(None) == ""
    if not jalali and date_format == "Y-m-d" and language == "en":
        assert stamp(stamps[0]) == "2026-03-21 01:30"
