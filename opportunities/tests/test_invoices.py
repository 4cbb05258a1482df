"""Invoices: made from an accepted quote only, once, numbered, lines and totals copied, due after the settings'
days; sent by e-mail with the PDF; marked paid; overdue set-wise and idempotent; visibility and the page's
query budget."""
import datetime
import subprocess
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory, ContactFactory
from crm.core.models import Event
from opportunities import invoices, quotes
from opportunities.models import Invoice, LineItem, Quote, SalesSettings
from opportunities.pdf import render_pdf
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def accepted(reps):
    rep, _, _ = reps
    account = AccountFactory(owner=rep, name="Nordic Steel Oy")
    contact = ContactFactory(owner=rep, account=account, first_name="Aino", last_name="Virtanen",
                             email="aino@nordicsteel.example")
    deal = OpportunityFactory(owner=rep, account=account, contact=contact, currency="EUR", amount=Decimal(0))
    LineItem.objects.create(opportunity=deal, name="Pro licence", quantity=Decimal(4), list_price=Decimal("250.00"),
                            discount_percent=Decimal(10), order=1)
    quote = quotes.quote_create(actor=rep, opportunity=deal, language="en", tax_percent=Decimal(24),
                                discount_percent=Decimal(5))
    quotes.quote_send(actor=rep, quote=quote)
    mail.outbox.clear()
    return quotes.quote_decide(actor=rep, quote=quote, accepted=True)


def test_an_accepted_quote_becomes_a_numbered_invoice_with_its_lines_and_totals(client, reps, accepted):
    rep, _, _ = reps
    SalesSettings.objects.filter(pk=SalesSettings.load().pk).update(invoice_due_days=30)
    client.force_login(rep)
    response = client.post(reverse("opportunities:quote_invoice", args=[accepted.pk]))
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("opportunities:invoice_detail",
                                                                           args=[invoice.pk])
    assert invoice.number == f"INV-{YEAR}-00001" and invoice.status == Invoice.Status.DRAFT
    assert invoice.due_date == invoice.issue_date + datetime.timedelta(days=30)
    assert (invoice.subtotal, invoice.discount_amount, invoice.tax_amount, invoice.total) == (
        accepted.subtotal, accepted.discount_amount, accepted.tax_amount, accepted.total)
    assert accepted.total == Decimal("1060.20")  # 900 − 45 = 855; + 24 % = 1 060.20
    assert [(line.name, line.total) for line in invoice.lines.all()] == [("Pro licence", Decimal("900.00"))]
    assert Event.objects.filter(name="invoice.created", object_id=invoice.pk).exists()
    again = client.post(reverse("opportunities:quote_invoice", args=[accepted.pk]), follow=True)
    assert "This quote already has an invoice." in again.content.decode() and Invoice.objects.count() == 1


def test_only_an_accepted_quote_can_be_invoiced(reps, accepted):
    rep, _, _ = reps
    draft = quotes.quote_create(actor=rep, opportunity=accepted.opportunity)
    with pytest.raises(Exception, match="Only an accepted quote can become an invoice."):
        invoices.invoice_create(actor=rep, quote=draft)


def test_sending_and_paying_an_invoice(client, reps, accepted):
    rep, _, _ = reps
    invoice = invoices.invoice_create(actor=rep, quote=accepted)
    client.force_login(rep)
    client.post(reverse("opportunities:invoice_send", args=[invoice.pk]),
                {"subject": f"Invoice {invoice.number}", "message": "Thank you."})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.SENT and invoice.sent_at is not None
    message = mail.outbox[0]
    assert message.to == ["aino@nordicsteel.example"] and message.attachments[0][0] == f"{invoice.number}.pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=message.attachments[0][1], capture_output=True,
                          check=True).stdout.decode()
    assert "Invoice" in text and invoice.number in text and accepted.number in text and "€1,060.20" in text
    assert "Due date" in text

    client.post(reverse("opportunities:invoice_paid", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.paid_at is not None
    with pytest.raises(Exception, match="cannot become sent"):
        invoices.invoice_send(actor=rep, invoice=invoice)


def test_sent_invoices_past_due_become_overdue_once_and_set_wise(reps, accepted, django_assert_num_queries):
    rep, _, _ = reps
    invoice = invoices.invoice_create(actor=rep, quote=accepted)
    other_quote = quotes.quote_create(actor=rep, opportunity=accepted.opportunity)
    Quote.objects.filter(pk=other_quote.pk).update(status=Quote.Status.ACCEPTED)
    draft = invoices.invoice_create(actor=rep, quote=other_quote)
    past = timezone.localdate() - datetime.timedelta(days=1)
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.SENT, due_date=past)
    Invoice.objects.filter(pk=draft.pk).update(due_date=past)  # a draft was never sent: not overdue
    from opportunities.tasks import invoices_overdue_task

    with django_assert_num_queries(1):
        assert invoices_overdue_task() == 1
    assert invoices_overdue_task() == 0
    assert dict(Invoice.objects.values_list("pk", "status")) == {invoice.pk: "overdue", draft.pk: "draft"}
    invoices.invoice_mark_paid(actor=rep, invoice=Invoice.objects.get(pk=invoice.pk))
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


def test_invoices_of_an_opportunity_the_reader_cannot_see_are_404(client, reps, accepted):
    rep, other, _ = reps
    invoice = invoices.invoice_create(actor=rep, quote=accepted)
    client.force_login(other)
    for name in ("invoice_detail", "invoice_pdf", "invoice_send"):
        assert client.get(reverse(f"opportunities:{name}", args=[invoice.pk])).status_code == 404
    assert client.post(reverse("opportunities:invoice_paid", args=[invoice.pk])).status_code == 404


def test_the_invoice_page_stays_within_its_query_budget(client, reps, accepted, django_assert_max_num_queries):
    rep, _, _ = reps
    invoice = invoices.invoice_create(actor=rep, quote=accepted)
    client.force_login(rep)
    client.get(reverse("opportunities:invoice_detail", args=[invoice.pk]))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("opportunities:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200 and invoice.number in response.content.decode()
    assert render_pdf(invoice).startswith(b"%PDF")


def test_the_invoice_list_shows_the_readers_invoices_filters_by_status_and_searches(client, reps, accepted,
                                                                                   django_assert_max_num_queries):
    rep, other, manager = reps
    invoice = invoices.invoice_create(actor=rep, quote=accepted)
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.OVERDUE)
    client.force_login(rep)
    client.get(reverse("opportunities:invoice_list"))  # warm the per-process caches
    with django_assert_max_num_queries(14):
        page = client.get(reverse("opportunities:invoice_list")).content.decode()
    assert invoice.number in page and accepted.number in page and 'class="table-danger"' in page
    assert invoice.number in client.get(reverse("opportunities:invoice_list"), {"status": "overdue"}).content.decode()
    assert invoice.number not in client.get(reverse("opportunities:invoice_list"), {"status": "paid"}).content.decode()
    assert invoice.number in client.get(reverse("opportunities:invoice_list"), {"q": "Nordic"}).content.decode()
    client.force_login(manager)  # the role above sees it
    assert invoice.number in client.get(reverse("opportunities:invoice_list")).content.decode()
    client.force_login(other)  # a peer does not
    assert invoice.number not in client.get(reverse("opportunities:invoice_list")).content.decode()
