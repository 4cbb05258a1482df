"""Quote and invoice PDFs, drawn by WeasyPrint from templates/opportunities/pdf/ in the document's own language
(the customer's): amounts and dates as that language writes them, Persian right to left. The one font is
Vazirmatn (Persian and Latin), read from static/vendor on disk; the URL fetcher refuses everything that is not
a file under the static directories, so rendering never downloads anything."""
from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from opportunities.models import Invoice, Quote

FONTS = {"regular": "vendor/vazirmatn/Vazirmatn-Regular.ttf", "bold": "vendor/vazirmatn/Vazirmatn-Bold.ttf"}


def _static_path(name: str) -> Path:
    found = finders.find(name)
    if found:
        return Path(found)
    return Path(settings.STATIC_ROOT) / name


def _static_roots() -> list[Path]:
    roots = [Path(p).resolve() for p in getattr(settings, "STATICFILES_DIRS", ())]
    return roots + [Path(settings.STATIC_ROOT).resolve()]


def check_url(url: str) -> Path:
    """The local file `url` names, if it is under the static directories; anything else (http, https, data,
    a file elsewhere) raises ValueError."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise ValueError(f"refused to fetch {url}: PDFs use local files only")
    path = Path(unquote(parsed.path)).resolve()
    if not any(path.is_relative_to(root) for root in _static_roots()):
        raise ValueError(f"refused to fetch {url}: outside the static files")
    return path


def local_fetcher():
    """WeasyPrint's fetcher, limited to file: URLs under the static directories, without redirects."""
    from weasyprint.urls import URLFetcher

    class LocalFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            check_url(url)
            return super().fetch(url, headers)

    return LocalFetcher(allowed_protocols={"file"}, allow_redirects=False)


def document_date(value: datetime.date | None, language: str) -> str:
    """A date as a customer reading `language` expects it: "December 7, 2026", "7. joulukuuta 2026",
    the Jalali "۱۶ آذر ۱۴۰۵" in Persian."""
    if not value:
        return ""
    if language == "fa":
        from crm.core.formatting import format_date

        reader = SimpleNamespace(is_authenticated=True, date_format="j F Y", use_jalali=True)
        with translation.override("fa"):
            return format_date(value, reader)
    from babel.dates import format_date as babel_date

    return babel_date(value, format="long", locale=language if language in ("en", "fi") else "en")


def company() -> dict:
    """The seller in the document's header: settings.COMPANY_NAME and COMPANY_ADDRESS when set, else the
    name of DEFAULT_FROM_EMAIL."""
    from email.utils import parseaddr

    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return {"name": getattr(settings, "COMPANY_NAME", "") or name or address,
            "address": getattr(settings, "COMPANY_ADDRESS", ""), "email": address}


def document_filename(document) -> str:
    return f"{document.number}.pdf"


def _context(document) -> dict:
    from crm.core.formatting import format_money, format_number

    language = document.language if document.language in ("en", "fa", "fi") else "en"
    money = lambda value: format_money(value, document.currency)  # noqa: E731
    lines = [{"name": line.name, "code": line.product.code if line.product_id else "",
              "description": line.description, "quantity": format_number(line.quantity),
              "list_price": money(line.list_price), "discount": format_number(line.discount_percent),
              "total": money(line.total)}
             for line in document.lines.select_related("product").order_by("order", "id")]
    is_quote = isinstance(document, Quote)
    return {
        "document": document, "is_quote": is_quote, "language": language, "rtl": language == "fa",
        "company": company(), "lines": lines,
        "font_regular": _static_path(FONTS["regular"]).as_uri(),
        "font_bold": _static_path(FONTS["bold"]).as_uri(),
        "subtotal": money(document.subtotal), "discount": money(document.discount_amount),
        "tax": money(document.tax_amount), "total": money(document.total),
        "discount_percent": format_number(document.discount_percent),
        "tax_percent": format_number(document.tax_percent),
        "issued": document_date(document.created_at.date() if is_quote else document.issue_date, language),
        "valid_until": document_date(document.valid_until, language) if is_quote else "",
        "due_date": "" if is_quote else document_date(document.due_date, language),
        "recipient": document.contact, "account": document.opportunity.account,
    }


def render_html(document: Quote | Invoice) -> str:
    template = "opportunities/pdf/quote.html"
    with translation.override(document.language or "en"):
        return render_to_string(template, _context(document))


def render_pdf(document: Quote | Invoice) -> bytes:
    from weasyprint import HTML

    html = render_html(document)
    base = _static_path(FONTS["regular"]).parent.parent.parent
    return HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=local_fetcher()).write_pdf()
