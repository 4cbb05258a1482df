"""Dates and numbers in the reader's own format: date format, time zone,
Jalali calendar for Persian readers, Persian digits."""
from __future__ import annotations

import contextvars
from datetime import date, datetime
from decimal import Decimal

from django.utils import formats, timezone, translation

# The signed-in user of the current request (set by UserPreferencesMiddleware).
current_user: contextvars.ContextVar = contextvars.ContextVar("crm_current_user", default=None)

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
JALALI_MONTHS_FA = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"]
JALALI_MONTHS_EN = ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
                    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"]


def _prefs(user=None) -> tuple[str, bool]:
    user = user or current_user.get()
    if user is None or not getattr(user, "is_authenticated", False):
        return "Y-m-d", False
    return user.date_format or "Y-m-d", bool(user.use_jalali)


def localize_digits(text: str) -> str:
    return text.translate(PERSIAN_DIGITS) if translation.get_language() == "fa" else text


def _jalali(value: date, fmt: str) -> str:
    import jdatetime

    j = jdatetime.date.fromgregorian(date=value)
    months = JALALI_MONTHS_FA if translation.get_language() == "fa" else JALALI_MONTHS_EN
    if fmt == "d.m.Y":
        return f"{j.day:02d}.{j.month:02d}.{j.year}"
    if fmt == "m/d/Y":
        return f"{j.month:02d}/{j.day:02d}/{j.year}"
    if fmt == "j F Y":
        return f"{j.day} {months[j.month - 1]} {j.year}"
    return f"{j.year}/{j.month:02d}/{j.day:02d}"


def format_date(value, user=None) -> str:
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    fmt, jalali = _prefs(user)
    text = _jalali(value, fmt) if jalali else formats.date_format(value, fmt)
    return localize_digits(text)


def format_datetime(value, user=None) -> str:
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{format_date(local, user)} {localize_digits(local.strftime('%H:%M'))}"


def format_number(value, decimals: int | None = None) -> str:
    if value is None or value == "":
        return ""
    if decimals is None:
        decimals = 0 if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()) else 2
    return localize_digits(formats.number_format(value, decimals, use_l10n=True, force_grouping=True))


def format_money(value, currency: str = "") -> str:
    if value is None or value == "":
        return ""
    return f"{format_number(value, 2)} {currency}".strip()
