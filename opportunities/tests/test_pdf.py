"""Quote and invoice PDFs, read back with pdftotext: numbers, names and amounts as the quote's language writes
them, Persian text (right to left, in Vazirmatn, embedded), a 60-line quote over pages with the table header on
page 2, the same value twice on a page, nothing fetched from the network, and the download."""
import datetime
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import AccountFactory, ContactFactory
from crm.core.formatting import format_money
from opportunities import pdf, quotes
from opportunities.models import Quote, QuoteLine
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


BIDI_MARKS = dict.fromkeys(map(ord, "\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))


def words_of(text: str) -> set[str]:
    """The words of pdftotext's output without the bidi marks it puts around right-to-left runs."""
    return set(text.translate(BIDI_MARKS).split())


def text_of(data: bytes, *, first: int | None = None, last: int | None = None, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if layout:
        args.append("-layout")
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run([*args, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def pages_of(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def fonts_of(data: bytes) -> str:
    return subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def deal(reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel Oy")
    contact = ContactFactory(owner=rep, account=account, first_name="Aino", last_name="Virtanen",
                             email="aino@nordicsteel.example")
    return OpportunityFactory(owner=rep, account=account, contact=contact, name="Nordic Steel platform",
                              currency="EUR", amount=Decimal(0))


def quote_with(deal, actor, lines, **kwargs) -> Quote:
    quote = quotes.quote_create(actor=actor, opportunity=deal, **kwargs)
    for index, (name, quantity, price) in enumerate(lines, start=1):
        QuoteLine.objects.create(quote=quote, name=name, quantity=Decimal(quantity), list_price=Decimal(price),
                                 order=index)
    return quotes._recalculate(quote)


def test_an_english_quote_shows_its_number_recipient_lines_totals_and_terms(reps, deal):
    rep, _, _ = reps
    quote = quote_with(deal, rep, [("Pro licence", 10, "960.00"), ("Onboarding", 1, "3200.00")], language="en",
                       tax_percent=Decimal(24), terms="Payment within 14 days.",
                       valid_until=datetime.date(2026, 12, 31))
    text = text_of(pdf.render_pdf(quote))
    for expected in (quote.number, "Quote", "Nordic Steel Oy", "Aino Virtanen", "Pro licence", "Onboarding",
                     "€9,600.00", "€3,200.00", "€12,800.00", "€3,072.00", "€15,872.00", "Tax 24 %",
                     "Payment within 14 days.", "Valid until", "December 31, 2026", "Unit price"):
        assert expected in text, expected
    assert "Vazirmatn" in fonts_of(pdf.render_pdf(quote))  # the vendored font, embedded


def test_amounts_are_written_the_way_the_quotes_language_writes_them(reps, deal):
    rep, _, _ = reps
    quote = quote_with(deal, rep, [("Pro licence", 2, "1234.50")], language="fi")
    text = text_of(pdf.render_pdf(quote))
    with translation.override("fi"):
        amount = format_money(Decimal("2469.00"), "EUR")
    assert amount.replace("\xa0", " ") in text.replace("\xa0", " ")
    assert "Tarjous" in text or "Quote" in text  # the label, in Finnish once the lead's translations are in
    assert "Määrä" in text or "Quantity" in text


def test_a_persian_quote_is_right_to_left_with_persian_text_and_digits(reps, deal):
    rep, _, _ = reps
    quote = quote_with(deal, rep, [("مجوز حرفه‌ای", 3, "1000.00")], language="fa", name="پیشنهاد قیمت سکو",
                       terms="پرداخت ظرف ۱۴ روز.")
    html = pdf.render_html(quote)
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    data = pdf.render_pdf(quote)
    text = text_of(data)
    words = words_of(text)
    assert {"پیشنهاد", "قیمت", "سکو", "پرداخت", "ظرف", "مجوز"} <= words, words
    assert "روز" in text and "۱۴" in text  # pdftotext joins these two visually reordered runs without a space
    with translation.override("fa"):
        total = format_money(Decimal("3000.00"), "EUR")
    digits = "".join(ch for ch in total if ch.isdigit())
    assert digits == "۳۰۰۰۰۰" and "۳٬۰۰۰٫۰۰" in text  # Persian digits and separators
    assert "Vazirmatn" in fonts_of(data)


def test_sixty_lines_break_across_pages_with_the_header_repeated(reps, deal):
    rep, _, _ = reps
    quote = quote_with(deal, rep, [(f"Line item number {n:02d}", 1, "10.00") for n in range(1, 61)],
                       language="en")
    data = pdf.render_pdf(quote)
    assert pages_of(data) >= 2
    second = text_of(data, first=2, last=2)
    assert "Unit price" in second and "Line total" in second and "Product" in second  # the header again
    assert "Line item number 60" in text_of(data, first=2, last=pages_of(data))
    first = text_of(data, first=1, last=1)
    assert "Line item number 01" in first and "Line item number 01" not in second
    whole = text_of(data)
    assert all(f"Line item number {n:02d}" in whole for n in range(1, 61))


def test_the_same_value_can_appear_twice_on_the_page(reps, deal):
    rep, _, _ = reps
    # one line, no tax: its total, the subtotal and the grand total are the same amount; the same product twice
    quote = quote_with(deal, rep, [("Pro licence", 1, "500.00"), ("Pro licence", 1, "500.00")], language="en",
                       tax_percent=Decimal(0))
    text = text_of(pdf.render_pdf(quote))
    assert text.count("Pro licence") == 2
    assert text.count("€500.00") == 4  # unit price and line total, twice
    assert text.count("€1,000.00") == 2  # the subtotal and the total


def test_nothing_is_fetched_from_the_network():
    fetcher = pdf.local_fetcher()
    with pytest.raises(ValueError, match="local files only"):
        fetcher("https://fonts.example.com/font.ttf")
    with pytest.raises(ValueError, match="local files only"):
        fetcher("http://127.0.0.1/x.css")
    with pytest.raises(ValueError, match="outside the static files"):
        fetcher("file:///etc/passwd")
    response = fetcher(pdf._static_path(pdf.FONTS["regular"]).as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    response.close()


def test_a_remote_image_in_the_terms_would_not_be_downloaded(reps, deal):
    """Even markup that names a remote file renders without fetching it (WeasyPrint logs and skips it)."""
    from weasyprint import HTML

    data = HTML(string='<p>x<img src="https://example.com/a.png"></p>', url_fetcher=pdf.local_fetcher()).write_pdf()
    assert data.startswith(b"%PDF")


def test_the_quote_page_downloads_its_pdf(client, reps, deal):
    rep, _, _ = reps
    quote = quote_with(deal, rep, [("Pro licence", 1, "500.00")], language="en")
    client.force_login(rep)
    response = client.get(reverse("opportunities:quote_pdf", args=[quote.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{quote.number}.pdf"'
    assert quote.number in text_of(response.content)


def test_dates_in_the_document_language():
    day = datetime.date(2026, 12, 7)
    assert pdf.document_date(day, "en") == "December 7, 2026"
    assert pdf.document_date(day, "fi") == "7. joulukuuta 2026"
    assert pdf.document_date(day, "fa") == "۱۶ آذر ۱۴۰۵"
    assert timezone.localdate()  # the module reads the server's date, not the reader's preferences
