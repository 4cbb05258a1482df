"""Quotes in a real browser: a rep makes a quote from an opportunity's page, adds a line (the product picked
with the type-ahead), is told off for a negative quantity, downloads the PDF, sends it (the e-mail leaves with
the PDF attached and the page shows Sent), marks it accepted, and makes the invoice."""
import datetime
import subprocess
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory, ContactFactory
from crm.access.tests.factories import PASSWORD
from opportunities.models import Invoice, LineItem, PriceBook, PriceBookEntry, Product, Quote
from opportunities.tests.factories import OpportunityFactory
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def test_a_rep_quotes_sends_accepts_and_invoices(page, live_server, reps, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel Oy")
    contact = ContactFactory(owner=rep, account=account, first_name="Aino", last_name="Virtanen",
                             email="aino@nordicsteel.example", preferred_language="en")
    deal = OpportunityFactory(owner=rep, account=account, contact=contact, name="Nordic Steel platform",
                              currency="EUR", amount=Decimal("5000"),
                              close_date=datetime.date.today() + datetime.timedelta(days=40))
    licence = Product.objects.create(code="LIC-PRO", name="Professional licence", family="Licences")
    LineItem.objects.create(opportunity=deal, product=licence, name="Professional licence", quantity=Decimal(2),
                            list_price=Decimal("960.00"), order=1)
    support = Product.objects.create(code="SUP-PREM", name="Premium support", family="Services")
    PriceBookEntry.objects.create(price_book=PriceBook.objects.get(currency="EUR", is_standard=True),
                                  product=support, unit_price=Decimal("4200.00"))

    login(page, live_server, rep.email, PASSWORD)
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))
    panel = page.locator("[data-testid=quotes-panel]")
    expect(panel).to_contain_text("No quotes yet.")
    panel.locator("[data-testid=new-quote]").click()
    form = page.locator("[data-testid=quote-form]")
    expect(form.locator("select[name=contact]")).to_have_value(str(contact.pk))
    form.locator("input[name=tax_percent]").fill("24")
    form.locator("[data-testid=save-quote]").click()
    quote = Quote.objects.get()
    expect(page.locator("h1")).to_contain_text(quote.number)
    expect(page.locator("[data-testid=quote-line-table] tbody tr")).to_have_count(1)  # copied from the deal

    # a line, the product picked with the type-ahead and its price taken from the book
    page.locator("[data-testid=add-quote-line]").click()
    line_form = page.locator("[data-testid=quote-line-form]")
    picker = line_form.locator("select[name=product] + .ts-wrapper")
    picker.click()
    picker.locator("input").fill("premium")
    picker.locator(".ts-dropdown .option", has_text="Premium support").click()
    expect(line_form.locator("input[name=list_price]")).to_have_value("4200.00")
    line_form.locator("input[name=quantity]").fill("-1")
    line_form.locator("[data-testid=save-quote-line]").click()
    expect(line_form).to_contain_text("The quantity must be more than zero.")
    line_form.locator("input[name=quantity]").fill("1")
    line_form.locator("[data-testid=save-quote-line]").click()
    expect(page.locator("[data-testid=quote-line-table] tbody tr")).to_have_count(2)
    # 1 920 + 4 200 = 6 120; 24 % tax = 1 468.80; total 7 588.80
    expect(page.locator("[data-testid=quote-grand-total]")).to_have_text("€7,588.80")

    # the PDF
    with page.expect_download() as download_info:
        page.locator("[data-testid=download-pdf]").click()
    download = download_info.value
    assert download.suggested_filename == f"{quote.number}.pdf"
    data = open(download.path(), "rb").read()
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert quote.number in text and "Premium support" in text and "€7,588.80" in text
    response = page.request.get(live_server.url + reverse("opportunities:quote_pdf", args=[quote.pk]))
    assert response.headers["content-type"] == "application/pdf"

    # send it
    page.locator("[data-testid=send-quote]").click()
    send = page.locator("[data-testid=send-form]")
    expect(send.locator("input[name=subject]")).to_have_value(f"Quote {quote.number}: Nordic Steel platform")
    send.locator("[data-testid=send-now]").click()
    expect(page.locator("[data-testid=status]").first).to_have_text("Sent")
    expect(page.locator("body")).to_contain_text(f"Quote {quote.number} sent to aino@nordicsteel.example.")
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][0] == f"{quote.number}.pdf"
    expect(page.locator("[data-testid=add-quote-line]")).to_have_count(0)  # lines are fixed once sent

    # accepted, then the invoice
    page.locator("[data-testid=accept]").click()
    expect(page.locator("[data-testid=status]").first).to_have_text("Accepted")
    page.locator("[data-testid=create-invoice]").click()
    invoice = Invoice.objects.get()
    expect(page.locator("h1")).to_contain_text(invoice.number)
    expect(page.locator("[data-testid=invoice-total]")).to_have_text("€7,588.80")
    page.locator("[data-testid=mark-paid]").click()
    expect(page.locator("[data-testid=status]").first).to_have_text("Paid")

    # the opportunity's panel lists both
    page.goto(live_server.url + reverse("opportunities:detail", args=[deal.pk]))
    expect(panel).to_contain_text(quote.number)
    expect(panel).to_contain_text(invoice.number)
