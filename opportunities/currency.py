"""Currencies: the corporate currency, dated exchange rates and the conversion the database trigger of migration
0006 makes, written again in Python so code that is not saving an opportunity (previews, imports, tests) gets
the very same number; the writes to rates (typed by admins or imported from CSV); the currency choices of forms.

A rate is how many units of a currency one corporate unit buys, in force from `valid_from` until the currency's
next rate. The conversion of an amount on a day: the rate in force that day, else (a day before every rate) the
currency's earliest rate; 1 for the corporate currency; no rate at all gives None (shown as "no rate", never 0).
Division and rounding follow PostgreSQL's numeric arithmetic digit for digit (`_pg_div`)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from opportunities.models import ExchangeRate

MAX_IMPORT_ROWS = 10000


def corporate_currency() -> str:
    return (getattr(settings, "CORPORATE_CURRENCY", "EUR") or "EUR").strip().upper()


def _today() -> date:
    # The trigger's current_date: Django's PostgreSQL sessions run in UTC.
    return datetime.now(UTC).date()


def rate_on(currency: str, day: date | None = None) -> Decimal | None:
    """The rate in force for `currency` on `day` (today when None), as the trigger picks it."""
    currency = (currency or "").strip().upper()
    if currency == corporate_currency():
        return Decimal(1)
    rates = ExchangeRate.objects.filter(currency=currency)
    found = (rates.filter(valid_from__lte=day or _today()).order_by("-valid_from").values_list("rate", flat=True).first()
             or rates.order_by("valid_from").values_list("rate", flat=True).first())
    return found or None


def format_corporate(value) -> str:
    """An amount in the corporate currency for display: "no rate" when the conversion had none (never 0)."""
    from crm.core.formatting import format_money

    return _("no rate") if value is None else format_money(value, corporate_currency())


def currencies_without_rate() -> list[str]:
    """Currencies opportunities are in that have no rate (their corporate amounts are empty)."""
    from opportunities.models import Opportunity

    known = [corporate_currency(), *ExchangeRate.objects.values_list("currency", flat=True).distinct()]
    return sorted({c.upper() for c in Opportunity.objects.exclude(currency__in=known).order_by()
                   .values_list("currency", flat=True).distinct()} - set(known))


# --- PostgreSQL's numeric division, digit for digit ------------------------------------------------------------

def _scale(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)


def _weight_and_first_digit(value: Decimal) -> tuple[int, int]:
    """The weight and leading digit of `value` in PostgreSQL's base-10000 representation."""
    if value == 0:
        return 0, 0
    value = abs(value)
    weight = value.adjusted() // 4
    return weight, int(value.scaleb(-4 * weight))


def _pg_div(a: Decimal, b: Decimal) -> Decimal:
    """a / b as PostgreSQL's numeric_div computes it: a result scale giving at least 16 significant digits and
    no less than either operand's scale (select_div_scale), rounded half away from zero."""
    w1, d1 = _weight_and_first_digit(a)
    w2, d2 = _weight_and_first_digit(b)
    qweight = w1 - w2 - (1 if d1 <= d2 else 0)
    scale = min(max(16 - qweight * 4, _scale(a), _scale(b), 0), 1000)
    with localcontext() as ctx:
        ctx.prec = 2000
        return (a / b).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def _round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _as_column(value, places: int) -> Decimal:
    """A value as PostgreSQL stores it in a numeric(_, places) column."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def convert(amount, rate: Decimal | None) -> Decimal | None:
    """`amount` in corporate units at `rate` (as `rate_on` returns it: the column's 8 decimals, or 1 for the
    corporate currency), rounded as the trigger rounds it."""
    if amount is None or rate is None or rate == 0:
        return None
    return _round2(_pg_div(_as_column(amount, 2), Decimal(rate)))


def to_corporate(amount, currency: str, day: date | None = None) -> Decimal | None:
    """`amount` of `currency` in the corporate currency at the rate in force on `day`: the opportunity's
    amount_corporate as the trigger computes it. None when the currency has no rate."""
    if amount is None:
        return None
    return convert(amount, rate_on(currency, day))


def expected_revenue(amount, currency: str, day: date | None, probability: int) -> Decimal | None:
    """amount ÷ rate × probability %, as the trigger's expected_revenue."""
    rate = None if amount is None else rate_on(currency, day)
    if rate is None or rate == 0:
        return None
    quotient = _pg_div(_as_column(amount, 2), Decimal(rate))
    return _round2(_pg_div(quotient * int(probability), Decimal(100)))


# --- currency choices -------------------------------------------------------------------------------------------

def currency_name(code: str, language: str | None = None) -> str:
    from babel.numbers import get_currency_name

    from crm.core.formatting import _language

    try:
        return get_currency_name(code, locale=_language(language or get_language()))
    except Exception:  # an unknown locale: the code is still a name
        return code


def currency_choices(language: str | None = None, *, include: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """ISO 4217 currencies for a form's select, "EUR — Euro" with the names in the reader's language; the
    corporate currency and those with rates first."""
    from babel.numbers import get_currency_name, list_currencies

    from crm.core.formatting import _language

    locale = _language(language or get_language())
    codes = sorted(c for c in list_currencies() if len(c) == 3 and c.isalpha() and c.isupper())
    first = [corporate_currency(), *sorted(set(ExchangeRate.objects.values_list("currency", flat=True))), *include]
    seen, ordered = set(), []
    for code in [*first, *codes]:
        if code not in seen and code:
            seen.add(code)
            ordered.append(code)

    def name(code):
        try:
            return get_currency_name(code, locale=locale)
        except Exception:
            return code

    return [(code, f"{code} — {name(code)}") for code in ordered]


def is_currency(code: str) -> bool:
    from babel.numbers import list_currencies

    return (code or "").upper() in {c.upper() for c in list_currencies()}


# --- writes -----------------------------------------------------------------------------------------------------

def _audit(actor, what: str, rate: ExchangeRate, extra: dict | None = None) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor if getattr(actor, "is_authenticated", False) else None,
          action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=rate,
          data={"what": what, "currency": rate.currency, "rate": str(rate.rate),
                "valid_from": rate.valid_from.isoformat(), **(extra or {})})


def _check(rate: ExchangeRate) -> None:
    rate.currency = (rate.currency or "").strip().upper()
    if rate.currency == corporate_currency():
        raise ValidationError({"currency": _("The corporate currency is always 1; it has no exchange rate.")})
    if not is_currency(rate.currency):
        raise ValidationError({"currency": _("“%(code)s” is not an ISO 4217 currency code.") % {"code": rate.currency}})
    rate.full_clean()


@transaction.atomic
def exchange_rate_save(*, actor, rate: ExchangeRate) -> ExchangeRate:
    """Create or correct one dated rate. The database trigger recomputes the opportunities of its currency."""
    created = rate.pk is None
    _check(rate)
    if created:
        rate.created_by = actor if getattr(actor, "is_authenticated", False) else None
    rate.save()
    _audit(actor, "exchange_rate_created" if created else "exchange_rate_changed", rate)
    return rate


@transaction.atomic
def exchange_rate_delete(*, actor, rate: ExchangeRate) -> None:
    _audit(actor, "exchange_rate_deleted", rate)
    rate.delete()


# --- CSV import -------------------------------------------------------------------------------------------------

@dataclass
class RateImport:
    """What a CSV of rates holds: the good rows, and each bad row's line number and reason."""

    rows: list[ExchangeRate] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    written: int = 0
    updated: int = 0


HEADERS = {"currency": ("currency", "code", "currency_code", "valuta", "valuutta", "ارز"),
           "rate": ("rate", "exchange_rate", "obs_value", "value", "kurssi"),
           "valid_from": ("valid_from", "date", "time_period", "from", "valid from", "päivä")}


def _parse_day(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_rate(text: str) -> Decimal | None:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_rates_csv(data: bytes | str) -> RateImport:
    """Read a CSV of rates: a header row naming currency, rate and valid_from (or the ECB's CURRENCY,
    OBS_VALUE and TIME_PERIOD), comma or semicolon separated. Nothing is written here."""
    result = RateImport()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            result.errors.append((1, _("The file is not UTF-8 text.")))
            return result
    try:
        dialect = csv.Sniffer().sniff(data[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(data), dialect)
    header = next(reader, None)
    if not header:
        result.errors.append((1, _("The file is empty.")))
        return result
    names = [h.strip().lower() for h in header]
    columns = {}
    for key, aliases in HEADERS.items():
        columns[key] = next((i for i, h in enumerate(names) if h in aliases), None)
    missing = [key for key, index in columns.items() if index is None]
    if missing:
        result.errors.append((1, _("The first row must name the columns currency, rate and valid_from; missing: "
                                   "%(columns)s.") % {"columns": ", ".join(missing)}))
        return result
    corporate = corporate_currency()
    seen: dict[tuple[str, date], int] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if number > MAX_IMPORT_ROWS + 1:
            result.errors.append((number, _("Only %(count)s rows are read from one file.") % {"count": MAX_IMPORT_ROWS}))
            break

        def cell(key):
            index = columns[key]
            return row[index].strip() if index < len(row) else ""

        code, rate, day = cell("currency").upper(), _parse_rate(cell("rate")), _parse_day(cell("valid_from"))
        if not is_currency(code):
            result.errors.append((number, _("“%(code)s” is not an ISO 4217 currency code.") % {"code": cell("currency")}))
        elif code == corporate:
            result.errors.append((number, _("The corporate currency is always 1; it has no exchange rate.")))
        elif rate is None or rate <= 0:
            result.errors.append((number, _("The rate “%(rate)s” is not a positive number.") % {"rate": cell("rate")}))
        elif rate.as_tuple().exponent < -8 and rate != rate.quantize(Decimal("0.00000001")):
            result.errors.append((number, _("The rate “%(rate)s” has more than 8 decimals.") % {"rate": cell("rate")}))
        elif rate >= Decimal("1e10"):
            result.errors.append((number, _("The rate “%(rate)s” is too large.") % {"rate": cell("rate")}))
        elif day is None:
            result.errors.append((number, _("“%(date)s” is not a date (write it as 2026-01-31).") % {
                "date": cell("valid_from")}))
        elif (code, day) in seen:
            result.errors.append((number, _("Line %(line)s already gives %(currency)s on %(date)s.") % {
                "line": seen[(code, day)], "currency": code, "date": day.isoformat()}))
        else:
            seen[(code, day)] = number
            result.rows.append(ExchangeRate(currency=code, rate=rate, valid_from=day))
    return result


@transaction.atomic
def exchange_rates_import(*, actor, parsed: RateImport, good_rows_only: bool = False) -> RateImport:
    """Write the parsed rates: all of them, or nothing when a row is bad unless `good_rows_only`. A rate for a
    currency and day already there is corrected to the file's value."""
    if parsed.errors and not good_rows_only:
        return parsed
    existing = {(r.currency, r.valid_from): r for r in ExchangeRate.objects.filter(
        currency__in={r.currency for r in parsed.rows}, valid_from__in={r.valid_from for r in parsed.rows})}
    for row in parsed.rows:
        current = existing.get((row.currency, row.valid_from))
        if current is None:
            row.created_by = actor if getattr(actor, "is_authenticated", False) else None
            row.save()
            parsed.written += 1
        elif current.rate != row.rate:
            current.rate = row.rate
            current.save(update_fields=["rate"])
            parsed.updated += 1
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor if getattr(actor, "is_authenticated", False) else None,
          action=AuditLog.Action.CUSTOMIZATION_CHANGED,
          data={"what": "exchange_rates_imported", "created": parsed.written, "updated": parsed.updated,
                "bad_rows": len(parsed.errors)})
    return parsed
