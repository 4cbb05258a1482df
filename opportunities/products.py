"""The sales catalogue: products, price books (a standard book per currency plus custom ones) and their prices.
Writes are audited (admins with the customization right make them); an inactive product stays on the lines that
have it but is offered for no new line. Also the demo catalogue."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from opportunities.models import PriceBook, PriceBookEntry, Product

RIGHT = "manage_customization"


def can_view_products(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.can("opportunities.opportunity", "view"))


def can_edit_products(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_right(RIGHT))


def _audit(actor, what: str, target, data: dict) -> None:
    from crm.access.models import AuditLog
    from crm.access.services import audit

    audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=target, data={"what": what, **data})


# --- reads ----------------------------------------------------------------------------------------------------

def product_search(*, q: str = "", family: str = "", active: str = ""):
    products = Product.objects.all()
    if q:
        products = products.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(description__icontains=q))
    if family:
        products = products.filter(family=family)
    if active in ("0", "1"):
        products = products.filter(is_active=active == "1")
    return products.order_by("name", "id")


def product_families() -> list[str]:
    return list(Product.objects.exclude(family="").order_by("family").values_list("family", flat=True).distinct())


def standard_book(currency: str) -> PriceBook | None:
    return PriceBook.objects.filter(is_standard=True, currency=(currency or "").upper(), is_active=True).first()


def book_for(opportunity) -> PriceBook | None:
    """The opportunity's price book, else the standard book of its currency."""
    if opportunity.price_book_id:
        # (a book left from before a currency change is not used: lines are in the opportunity's currency)
        book = PriceBook.objects.filter(pk=opportunity.price_book_id, is_active=True,
                                        currency=(opportunity.currency or "").upper()).first()
        if book is not None:
            return book
    return standard_book(opportunity.currency)


def prices_in(book: PriceBook | None) -> dict[int, PriceBookEntry]:
    """Product id → active price of an active product in `book` (what a new line may pick)."""
    if book is None:
        return {}
    entries = (PriceBookEntry.objects.filter(price_book=book, is_active=True, product__is_active=True)
               .select_related("product").order_by("product__name"))
    return {entry.product_id: entry for entry in entries}


# --- writes ---------------------------------------------------------------------------------------------------

@transaction.atomic
def product_save(*, actor, product: Product) -> Product:
    created = product.pk is None
    product.full_clean()
    product.save()
    _audit(actor, "product_created" if created else "product_changed", product,
           {"code": product.code, "name": product.name, "active": product.is_active})
    return product


@transaction.atomic
def product_set_active(*, actor, product: Product, active: bool) -> Product:
    """Deactivate (or bring back) a product: lines that have it keep it; new lines cannot pick an inactive one."""
    product.is_active = active
    product.save(update_fields=["is_active", "updated_at"])
    _audit(actor, "product_activated" if active else "product_deactivated", product, {"code": product.code})
    return product


@transaction.atomic
def price_book_save(*, actor, book: PriceBook) -> PriceBook:
    created = book.pk is None
    book.currency = book.currency.upper()
    book.full_clean()
    book.save()
    _audit(actor, "price_book_created" if created else "price_book_changed", book,
           {"name": book.name, "currency": book.currency, "standard": book.is_standard})
    return book


@transaction.atomic
def price_set(*, actor, price_book: PriceBook, product: Product, unit_price: Decimal,
              is_active: bool = True) -> PriceBookEntry:
    """The product's list price in one book (created or changed)."""
    entry, created = PriceBookEntry.objects.get_or_create(price_book=price_book, product=product,
                                                          defaults={"unit_price": unit_price, "is_active": is_active})
    if not created:
        entry.unit_price, entry.is_active = unit_price, is_active
    entry.full_clean()
    entry.save()
    _audit(actor, "price_set", price_book, {"product": product.code, "price": str(unit_price), "active": is_active})
    return entry


@transaction.atomic
def price_remove(*, actor, entry: PriceBookEntry) -> None:
    _audit(actor, "price_removed", entry.price_book, {"product": entry.product.code})
    entry.delete()


# --- import from CSV or XLSX ---------------------------------------------------------------------------------

PRODUCT_HEADERS = {
    "code": ("code", "product code", "product_code", "productcode", "sku"),
    "name": ("name", "product name", "product_name", "productname"),
    "family": ("family", "product family", "product_family"),
    "description": ("description",),
    "active": ("active", "is_active", "isactive"),
    "list_price": ("list price", "list_price", "listprice", "price", "unit price", "unit_price"),
    "currency": ("currency", "currencyisocode", "currency code"),
}
TRUE, FALSE = {"1", "yes", "true", "y", "x", "kyllä", "بله"}, {"0", "no", "false", "n", "ei", "خیر"}


@dataclass
class ProductImport:
    """The rows of a products file that can be written, and each bad row's number and reason."""

    rows: list[dict] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    created: int = 0
    updated: int = 0


def read_products(uploaded) -> ProductImport:
    """Read an uploaded .csv or .xlsx of products (the shared import reader: encodings, delimiters, limits).
    Columns: code and name, then any of family, description, active, list price and currency (the price goes
    into the standard book of that currency, the corporate one when empty). Nothing is written here."""
    from crm.imports.reading import ImportRefused, check_limits, file_format, read_csv, read_xlsx
    from opportunities.currency import corporate_currency

    result = ProductImport()
    try:
        fmt = file_format(uploaded.name)
        if fmt not in ("csv", "xlsx"):
            raise ImportRefused(_("Upload a .csv or .xlsx file."))
        check_limits(uploaded, fmt)
        table = (read_csv if fmt == "csv" else read_xlsx)(uploaded.read())
    except ImportRefused as refused:
        result.errors.append((1, str(refused)))
        return result
    for problem in table.problems:
        result.errors.append((problem["row"], " ".join(str(e) for e in problem["errors"])))
    names = [h.strip().lower() for h in table.headers]
    columns = {key: next((i for i, h in enumerate(names) if h in aliases), None)
               for key, aliases in PRODUCT_HEADERS.items()}
    missing = [key for key in ("code", "name") if columns[key] is None]
    if missing:
        result.errors.append((1, _("The first row must name the columns code and name; missing: %(columns)s.")
                              % {"columns": ", ".join(missing)}))
        return result
    books = {b.currency: b for b in PriceBook.objects.filter(is_standard=True)}
    seen: dict[str, int] = {}
    code_field = Product._meta.get_field("code")
    for number, row in zip(table.numbers, table.rows):
        def cell(key):
            index = columns[key]
            return row[index].strip() if index is not None and index < len(row) else ""

        code, name = cell("code"), cell("name")
        active, price_text = cell("active").lower(), cell("list_price")
        currency = (cell("currency") or corporate_currency()).upper()
        price = None
        if price_text:
            from crm.core.formatting import parse_number

            price = parse_number(price_text)
            if price is not None and price.is_finite() and abs(price) < Decimal("1e14"):
                price = price.quantize(Decimal("0.01"))
            else:
                price = None
        if not code:
            result.errors.append((number, _("The product code is empty.")))
        elif len(code) > code_field.max_length:
            result.errors.append((number, _("The product code is longer than %(count)s characters.") % {
                "count": code_field.max_length}))
        elif code.lower() in seen:
            result.errors.append((number, _("Row %(row)s already has the product code “%(code)s”.") % {
                "row": seen[code.lower()], "code": code}))
        elif not name:
            result.errors.append((number, _("The name is empty.")))
        elif active and active not in TRUE | FALSE:
            result.errors.append((number, _("“%(value)s” is not yes or no.") % {"value": cell("active")}))
        elif price_text and (price is None or price < 0):
            result.errors.append((number, _("The list price “%(price)s” is not a number of zero or more.") % {
                "price": price_text}))
        elif price is not None and currency not in books:
            result.errors.append((number, _("There is no standard price book in %(currency)s.") % {
                "currency": currency}))
        else:
            seen[code.lower()] = number
            result.rows.append({"code": code, "name": name[:200], "family": cell("family")[:100],
                                "description": cell("description"),
                                "is_active": active not in FALSE if active else None,
                                "price": price, "book": books.get(currency)})
    return result


@transaction.atomic
def products_import(*, actor, parsed: ProductImport, good_rows_only: bool = False) -> ProductImport:
    """Create or update (by code) the parsed products and their standard-book prices: nothing when a row is bad,
    unless `good_rows_only`."""
    if parsed.errors and not good_rows_only:
        return parsed
    existing = {p.code.lower(): p for p in Product.objects.filter(
        code__in=[r["code"] for r in parsed.rows])}
    for row in parsed.rows:
        product = existing.get(row["code"].lower())
        if product is None:
            product = Product(code=row["code"])
            parsed.created += 1
        else:
            parsed.updated += 1
        product.name, product.family = row["name"], row["family"] or product.family
        product.description = row["description"] or product.description
        if row["is_active"] is not None:
            product.is_active = row["is_active"]
        product.save()
        if row["price"] is not None:
            PriceBookEntry.objects.update_or_create(price_book=row["book"], product=product,
                                                    defaults={"unit_price": row["price"]})
    _audit(actor, "products_imported", None, {"created": parsed.created, "updated": parsed.updated,
                                               "bad_rows": len(parsed.errors)})
    return parsed


# --- demo -----------------------------------------------------------------------------------------------------

DEMO_PRODUCTS = [
    # code, name, family, EUR, USD
    ("LIC-CORE", "CRM Core licence (per user / year)", "Licences", "480.00", "540.00"),
    ("LIC-PRO", "CRM Professional licence (per user / year)", "Licences", "960.00", "1080.00"),
    ("LIC-ENT", "CRM Enterprise licence (per user / year)", "Licences", "1680.00", "1890.00"),
    ("LIC-PORTAL", "Customer portal add-on (per year)", "Licences", "2400.00", "2700.00"),
    ("SRV-ONBOARD", "Onboarding workshop (2 days)", "Services", "3200.00", "3600.00"),
    ("SRV-MIGRATE", "Data migration", "Services", "5500.00", "6200.00"),
    ("SRV-INTEG", "Integration day", "Services", "1100.00", "1250.00"),
    ("SRV-TRAIN", "User training session", "Services", "850.00", "950.00"),
    ("SUP-STD", "Standard support (per year)", "Support", "1500.00", "1700.00"),
    ("SUP-PREM", "Premium support 24/7 (per year)", "Support", "4200.00", "4700.00"),
    ("LEG-V1", "Legacy v1 licence", "Licences", "300.00", None),
]

DEMO_RATES = {  # days ago → (USD, SEK) per 1 EUR
    360: ("1.08500000", "11.52000000"), 270: ("1.07200000", "11.31000000"), 180: ("1.09400000", "11.18000000"),
    90: ("1.11300000", "10.97000000"), 30: ("1.10100000", "11.05000000"),
}


def seed_demo(context: dict | None = None) -> None:
    """Demo catalogue: products in three families priced in the standard EUR and a USD book, a year of USD and
    SEK rates, and line items on a few demo opportunities (whose amounts then follow their lines)."""
    from django.utils import timezone

    from opportunities.currency import corporate_currency
    from opportunities.models import ExchangeRate, LineItem, Opportunity

    if Product.objects.exists():
        return
    today = timezone.localdate()
    for days, (usd, sek) in DEMO_RATES.items():
        for code, rate in (("USD", usd), ("SEK", sek)):
            ExchangeRate.objects.get_or_create(currency=code, valid_from=today - timedelta(days=days),
                                               defaults={"rate": Decimal(rate)})
    corporate = corporate_currency()
    eur = PriceBook.objects.filter(is_standard=True, currency=corporate).first() or PriceBook.objects.create(
        name="Standard price book", currency=corporate, is_standard=True)
    usd = PriceBook.objects.filter(is_standard=True, currency="USD").first() or PriceBook.objects.create(
        name="Standard price book", currency="USD", is_standard=True)
    partner = PriceBook.objects.create(name="Partner prices", currency=corporate,
                                       description="Reseller prices, 15 % below the standard book.")
    products = {}
    for code, name, family, eur_price, usd_price in DEMO_PRODUCTS:
        product = Product.objects.create(code=code, name=name, family=family, is_active=code != "LEG-V1",
                                         description=f"{family}: {name}.")
        products[code] = product
        PriceBookEntry.objects.create(price_book=eur, product=product, unit_price=Decimal(eur_price))
        PriceBookEntry.objects.create(price_book=partner, product=product,
                                      unit_price=(Decimal(eur_price) * Decimal("0.85")).quantize(Decimal("0.01")))
        if usd_price:
            PriceBookEntry.objects.create(price_book=usd, product=product, unit_price=Decimal(usd_price))

    from opportunities.line_items import recalculate_amount

    plans = [
        [("LIC-PRO", 25, 10), ("SRV-ONBOARD", 1, 0), ("SUP-STD", 1, 0)],
        [("LIC-ENT", 40, 15), ("SRV-MIGRATE", 1, 0), ("SUP-PREM", 1, 0), ("SRV-TRAIN", 3, 0)],
        [("LIC-CORE", 12, 0), ("SRV-TRAIN", 1, 0)],
        [("LIC-PRO", 60, 20), ("LIC-PORTAL", 1, 0), ("SRV-INTEG", 4, 0)],
    ]
    opportunities = list(Opportunity.objects.filter(currency=corporate, stage__outcome="open")
                         .select_related("stage").order_by("id")[:len(plans)])
    for opportunity, plan in zip(opportunities, plans):
        try:
            with transaction.atomic():
                for order, (code, quantity, discount) in enumerate(plan):
                    product = products[code]
                    LineItem(opportunity=opportunity, product=product, name=product.name,
                             quantity=Decimal(quantity), discount_percent=Decimal(discount), order=order,
                             list_price=PriceBookEntry.objects.get(price_book=eur, product=product).unit_price).save()
                recalculate_amount(actor=opportunity.owner, opportunity=opportunity)
        except ValidationError:  # its stage asks for fields the demo left empty: no lines, the typed amount stays
            continue
