"""Dates and numbers in the reader's own format: date format, time zone and the Jalali calendar for
Persian readers; numbers, amounts and percentages as CLDR (Babel) writes them in English, Finnish and
Persian; parse_number, which reads them back for imports; ltr, which keeps a phone number or an amount
in its order inside right-to-left text."""
from __future__ import annotations

import contextvars
import copy
import functools
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import Locale
from babel import numbers as babel_numbers
from babel.numbers import NumberPattern
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

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
    return text.translate(PERSIAN_DIGITS) if _language(translation.get_language()) == "fa" else text


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


def date_formatter(user=None, *, with_time: bool = False):
    """format_date (or format_datetime) with the reader's preferences, time zone and language looked up
    once: `fmt = date_formatter(); fmt(value)` for the many dates of one page, same text."""
    fmt, jalali = _prefs(user)
    digits = localize_digits
    if _language(translation.get_language()) != "fa":
        def digits(text):
            return text
    zone = timezone.get_current_timezone()
    if jalali:
        def day(value):
            return _jalali(value, fmt)
    elif fmt == "Y-m-d":
        def day(value):
            return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    elif fmt == "d.m.Y":
        def day(value):
            return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    elif fmt == "m/d/Y":
        def day(value):
            return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"
    else:
        def day(value):
            return formats.date_format(value, fmt)

    def format_one(value) -> str:
        if not value:
            return ""
        if isinstance(value, datetime):
            local = value.astimezone(zone) if timezone.is_aware(value) else value
            if with_time:
                return digits(f"{day(local.date())} {local.hour:02d}:{local.minute:02d}")
            value = local.date()
        return digits(day(value))

    return format_one


# --- Numbers, amounts and percentages --------------------------------------------------------------
#
# Babel supplies the CLDR patterns and symbols; three things it leaves to us:
# - digits: it writes Latin digits in every numbering system, so Persian gets ۰–۹ here;
# - signs: it writes the pattern's ASCII "-" and "%", not the locale's minus sign ("−" in Finnish,
#   LRM + "−" in Persian, where the mark keeps the sign left of the digits) and percent sign ("٪");
# - rounding: it rounds half to even (0.125 → 0.12); amounts are read rounded half up (0.13).

NUMBER_LOCALES = {"en": "en", "fa": "fa", "fi": "fi"}
DEFAULT_NUMBER_LOCALE = "en"
NUMBERING_DIGITS = {"arabext": "۰۱۲۳۴۵۶۷۸۹", "arab": "٠١٢٣٤٥٦٧٨٩"}
# Past this many currencies a language stops caching new ones: the codes come from data.
MAX_CACHED_CURRENCIES = 500

Number = Decimal | int | float | str | None


@functools.lru_cache(maxsize=64)
def _language(code: str | None) -> str:
    """Django's language code ("fa", "en-us", "fi_FI", None) as one of our Babel locales."""
    if not code:
        return DEFAULT_NUMBER_LOCALE
    return NUMBER_LOCALES.get(code.replace("_", "-").split("-")[0].lower(), DEFAULT_NUMBER_LOCALE)


class _Numbers:
    """One language's CLDR number formats, built once and kept: Locale.parse and copying patterns cost
    more than formatting a number, and a list page formats thousands of them."""

    __slots__ = ("_decimal", "_money", "_percent", "locale", "numbering", "table")

    def __init__(self, language: str):
        self.locale = Locale.parse(language)
        # fa: "arabext", whose separators are ٬ (group) and ٫ (decimal).
        self.numbering = self.locale.default_numbering_system
        symbols = self.locale.number_symbols[self.numbering]
        table = {}
        if self.numbering in NUMBERING_DIGITS:
            table.update(str.maketrans("0123456789", NUMBERING_DIGITS[self.numbering]))
        if symbols["minusSign"] != "-":
            table[ord("-")] = symbols["minusSign"]
        if symbols["percentSign"] != "%":
            table[ord("%")] = symbols["percentSign"]
        self.table = table
        self._decimal: dict[int, NumberPattern] = {}
        self._percent: dict[int, NumberPattern] = {}
        self._money: dict[str, tuple[NumberPattern, int]] = {}

    @staticmethod
    def _with_decimals(pattern: NumberPattern, decimals: int) -> NumberPattern:
        pattern = copy.copy(pattern)
        pattern.frac_prec = (decimals, decimals)
        return pattern

    def decimal(self, decimals: int) -> NumberPattern:
        pattern = self._decimal.get(decimals)
        if pattern is None:
            pattern = self._decimal[decimals] = self._with_decimals(self.locale.decimal_formats[None], decimals)
        return pattern

    def percent(self, decimals: int) -> NumberPattern:
        pattern = self._percent.get(decimals)
        if pattern is None:
            pattern = self._percent[decimals] = self._with_decimals(self.locale.percent_formats[None], decimals)
        return pattern

    def money(self, currency: str) -> tuple[NumberPattern, int]:
        """The currency pattern with the currency's symbol written in, and the currency's CLDR decimals
        (EUR 2, IRR 0): Babel would look both up again for every amount."""
        entry = self._money.get(currency)
        if entry is None:
            digits = babel_numbers.get_currency_precision(currency)
            # Babel unquotes '…' in the result, so a quote in a symbol is doubled.
            symbol = babel_numbers.get_currency_symbol(currency, self.locale).replace("'", "''")
            pattern = self._with_decimals(self.locale.currency_formats["standard"], digits)
            pattern.prefix = tuple(part.replace("¤", symbol) for part in pattern.prefix)
            pattern.suffix = tuple(part.replace("¤", symbol) for part in pattern.suffix)
            entry = (pattern, digits)
            if len(self._money) < MAX_CACHED_CURRENCIES:
                self._money[currency] = entry
        return entry


# Keyed by the pattern object and the already rounded number: a list page repeats the same scores,
# probabilities and counts, and a hit costs a fraction of Babel's formatting.
@functools.lru_cache(maxsize=4096)
def _apply(numbers: _Numbers, pattern: NumberPattern, number: Decimal) -> str:
    text = pattern.apply(number, numbers.locale, numbering_system=numbers.numbering)
    return text.translate(numbers.table) if numbers.table else text


@functools.cache
def _numbers_of(language: str) -> _Numbers:
    return _Numbers(language)


@functools.lru_cache(maxsize=64)
def _numbers(code: str | None) -> _Numbers:
    return _numbers_of(_language(code))


def _to_decimal(value: Number) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    try:
        # repr, not the binary value: 2.675 is meant as 2.675, not 2.67499999…
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _default_decimals(value: Number) -> int:
    """Whole numbers without decimals, anything else with two."""
    return 0 if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()) else 2


_QUANTA = [Decimal(1).scaleb(-n) for n in range(10)]


def _rounded(number: Decimal, decimals: int) -> Decimal:
    try:
        quantum = _QUANTA[decimals] if decimals < len(_QUANTA) else Decimal(1).scaleb(-decimals)
        number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds: leave the rounding to Babel
        return number
    return number if number else number.copy_abs()  # no "-0.00"


def format_number(value: Number, decimals: int | None = None) -> str:
    """`value` grouped and with the decimal mark of the active language: 1,234.5 → "1,234.50" (en),
    "1 234,50" (fi), "۱٬۲۳۴٫۵۰" (fa). Whole numbers get no decimals unless `decimals` says so."""
    if value is None or value == "":
        return ""
    number = _to_decimal(value)
    if number is None:
        return str(value)
    if decimals is None:
        decimals = _default_decimals(value)
    numbers = _numbers(translation.get_language())
    return _apply(numbers, numbers.decimal(decimals), _rounded(number, decimals))


def format_money(value: Number, currency: str = "") -> str:
    """An amount as the active language writes it, with the currency's own decimals: "€12,500.00" (en),
    "12 500,00 €" (fi), "€ ۱۲٬۵۰۰٫۰۰" (fa, after a left-to-right mark). Without a currency, the
    organisation's (settings.CORPORATE_CURRENCY). Plain text: templates show it through `ltr`."""
    if value is None or value == "":
        return ""
    number = _to_decimal(value)
    if number is None:
        return str(value)
    currency = (currency or getattr(settings, "CORPORATE_CURRENCY", "EUR")).strip().upper()
    numbers = _numbers(translation.get_language())
    pattern, decimals = numbers.money(currency)
    return _apply(numbers, pattern, _rounded(number, decimals))


def format_percent(value: Number, decimals: int | None = None) -> str:
    """`value` in percent units (25 means 25 %): "25%" (en), "25 %" (fi), "۲۵٪" (fa)."""
    if value is None or value == "":
        return ""
    number = _to_decimal(value)
    if number is None:
        return str(value)
    if decimals is None:
        decimals = _default_decimals(value)
    numbers = _numbers(translation.get_language())
    # Babel's percent pattern multiplies by 100; scaleb is exact.
    return _apply(numbers, numbers.percent(decimals), _rounded(number, decimals).scaleb(-2))


# --- Reading numbers back ---------------------------------------------------------------------------

_PARSE_TABLE = {
    **str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789"),
    **{ord(c): "-" for c in "−–‐‑﹣－"},
    **{ord(c): "+" for c in "＋"},
    **{ord(c): "%" for c in "٪﹪％"},
    **{ord(c): " " for c in "\u00a0\u202f\u2009\u2007\u2008\u200a\t"},
    **{ord(c): "'" for c in "’‘ʼ`´"},
    ord("،"): ",",  # the Arabic comma, typed as the comma of a number
    # Bidi marks and isolates (CLDR puts LRM in Persian amounts) and a spreadsheet's BOM.
    **{ord(c): None for c in "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"},
}
# A currency is a run of anything but digits, separators and signs (with one inner space: "F CFA"),
# looked up afterwards in _currency_tokens(): an alternation of some 500 symbols would be slow.
_CURRENCY = r"[^0-9\s.,'٫٬%()+\-]+(?:\ [^0-9\s.,'٫٬%()+\-]+)?"
_SHAPE = re.compile(rf"""
    (?P<open>\()?\s*
    (?P<pct1>%)?\s*
    (?P<sign1>[-+])?\s*
    (?:(?P<cur1>{_CURRENCY})\s*)?
    (?P<sign2>[-+])?\s*
    (?P<body>[0-9.,'٫٬/\ ]*?)\s*
    (?P<cur2>{_CURRENCY})?\s*
    (?P<sign3>-)?\s*
    (?P<pct2>%)?\s*
    (?P<close>\))?
    """, re.VERBOSE)
_DIGITS = re.compile(r"[0-9]*")
_GROUP_ONLY = " '٬"  # never a decimal mark
_GROUP_ANY = re.compile(r"[ '٬.,]")
# The Latin mark each language reads as its decimal mark when a lone "," or "." is followed by three
# digits. Persian readers type "." for ٫ on a Latin keyboard, as English readers do.
DECIMAL_MARKS = {"en": ".", "fa": ".", "fi": ","}


@functools.cache
def _currency_tokens() -> frozenset[str]:
    """Every ISO code, and every symbol format_money can print in our languages, plus common ones."""
    tokens = {code.upper() for code in babel_numbers.list_currencies()}
    for language in NUMBER_LOCALES.values():
        tokens.update(symbol.translate(_PARSE_TABLE).upper()
                      for symbol in Locale.parse(language).currency_symbols.values())
    tokens.update({"€", "$", "£", "¥", "¤", "﷼", "US$", "KR", "ریال", "ريال", "تومان"})
    return frozenset(tokens)


def _read_body(body: str, language: str) -> Decimal | None:
    if language == "fa":
        body = body.replace("/", "٫")  # Persian handwriting and typing: "۲/۵" is 2.5
    elif "/" in body:
        return None
    decimal_mark = ""
    if "٫" in body:  # the Arabic decimal separator is never a group mark
        decimal_mark = "٫"
    else:
        dot, comma = body.rfind("."), body.rfind(",")
        if dot >= 0 and comma >= 0:  # "1.234,56", "1,234.56": the last one is the decimal mark
            decimal_mark = "." if dot > comma else ","
        elif dot >= 0 or comma >= 0:
            mark = "." if dot >= 0 else ","
            if body.count(mark) == 1:  # more than one: "1,234,567" groups
                whole, _, fraction = body.partition(mark)
                if (len(fraction) != 3 or any(c in _GROUP_ONLY for c in whole) or not whole.strip("0")
                        or len(whole) > 3 or mark == DECIMAL_MARKS[language]):
                    decimal_mark = mark
    if decimal_mark:
        whole, _, fraction = body.partition(decimal_mark)
        if not _DIGITS.fullmatch(fraction):
            return None
    else:
        whole, fraction = body, ""
    groups = _GROUP_ANY.split(whole)
    if len(groups) > 1 and not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        return None
    digits = "".join(groups)
    if not _DIGITS.fullmatch(digits) or not (digits or fraction):
        return None
    return Decimal(f"{digits or '0'}.{fraction}" if fraction else digits)


def parse_number(text: Number, language: str | None = None) -> Decimal | None:
    """The number in `text` as people type it or programs export it, or None when it is not one.

    Read: Latin, Persian and Arabic digits; groups of three separated by "," "." "٬" "،", spaces (also
    NO-BREAK and NARROW NO-BREAK SPACE) or apostrophes; decimal marks "." "," "٫" (and "/" in Persian);
    a sign before or after a leading currency, a trailing minus, or accounting parentheses "(1.00)";
    a currency symbol or ISO code before or after (€, $, £, ﷼, ریال, EUR, USD, IRR, …); a "%" or "٪"
    before or after, giving percent units ("25 %" → 25, as format_percent takes them).

    Which mark is the decimal one:
    - "٫" always; with both "," and ".", the last one ("1.234,56" and "1,234.56" are 1234.56);
    - a mark that occurs twice or more groups ("1,234,567");
    - a lone mark followed by anything but three digits is decimal ("12,5", "12 500,50", "1.5");
    - a lone mark followed by three digits ("1,234", "1.234") is decimal after spaces or
      apostrophes ("1 234,567"), after a zero or nothing ("0,250"), or after more than three digits
      ("1234,567"); otherwise `language` (default: the active one) decides: its decimal mark
      (en and fa ".", fi ",") is decimal, the other one groups. So "1,234" is 1234 in English and
      Persian and 1.234 in Finnish; "1.234" is 1.234 in English and 1234 in Finnish.
    Groups must be three digits after a first group of one to three ("1,23,456" is not a number).
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float, Decimal)):
        return _to_decimal(text)
    match = _SHAPE.fullmatch(str(text).translate(_PARSE_TABLE).strip())
    if match is None:
        return None
    open_, pct1, sign1, cur1, sign2, body, cur2, sign3, pct2, close = match.groups()
    signs = [s for s in (sign1, sign2, sign3) if s]
    currency = cur1 or cur2
    if (bool(open_) != bool(close) or len(signs) > 1 or (open_ and signs) or (cur1 and cur2)
            or (pct1 and pct2) or (currency and (pct1 or pct2))
            or (currency and currency.upper() not in _currency_tokens())):
        return None
    number = _read_body(body.strip(), _language(language or translation.get_language()))
    if number is None:
        return None
    return -number if (open_ or signs == ["-"]) and number else number


# --- Bidi isolation ---------------------------------------------------------------------------------


def ltr(text: object) -> SafeString:
    """`text` isolated as left-to-right, HTML-escaped unless already safe. A phone number, e-mail
    address, URL, code or amount inside Persian text is otherwise reordered by the bidi algorithm:
    "+358 40 1000036" shows as "1000036 40 358+"."""
    if text is None or text == "":
        return SafeString("")
    return SafeString(f'<bdi dir="ltr">{conditional_escape(text)}</bdi>')
