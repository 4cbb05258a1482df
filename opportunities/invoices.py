"""Invoices: an accepted quote becomes one (numbered, its lines and totals copied, due after the sales settings'
days), sent by e-mail as a PDF like quotes, marked paid; sent invoices past their due date become overdue."""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.events import emit
from opportunities.models import Invoice, InvoiceLine, Quote, SalesSettings
from opportunities.quotes import _log, email_defaults, next_number, send_document

Status = Invoice.Status
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.SENT, Status.PAID},
    Status.SENT: {Status.SENT, Status.PAID, Status.OVERDUE},
    Status.OVERDUE: {Status.SENT, Status.PAID},
    Status.PAID: set(),
}


def check_transition(invoice: Invoice, to: str) -> None:
    if to not in TRANSITIONS.get(invoice.status, set()):
        raise ValidationError(
            _("An invoice that is %(status)s cannot become %(target)s.") % {
                "status": invoice.get_status_display().lower(), "target": Status(to).label.lower()},
            code="transition")


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).select_related("opportunity", "contact").get(pk=invoice.pk)


@transaction.atomic
def invoice_create(*, actor, quote: Quote) -> Invoice:
    """The invoice of an accepted quote (one per quote): its lines and totals copied, draft, due after the
    sales settings' days."""
    quote = Quote.objects.select_for_update(of=("self",)).select_related("opportunity").get(pk=quote.pk)
    if quote.status != Quote.Status.ACCEPTED:
        raise ValidationError(_("Only an accepted quote can become an invoice."), code="not_accepted")
    if Invoice.objects.filter(quote=quote).exists():
        raise ValidationError(_("This quote already has an invoice."), code="exists")
    issued = timezone.localdate()
    invoice = Invoice.objects.create(
        number=next_number("invoice", "INV"), quote=quote, opportunity=quote.opportunity, contact=quote.contact,
        currency=quote.currency, language=quote.language, issue_date=issued,
        due_date=issued + datetime.timedelta(days=SalesSettings.load().invoice_due_days),
        discount_percent=quote.discount_percent, tax_percent=quote.tax_percent, terms=quote.terms,
        subtotal=quote.subtotal, discount_amount=quote.discount_amount, tax_amount=quote.tax_amount,
        total=quote.total, created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, product_id=line.product_id, name=line.name, description=line.description,
                    quantity=line.quantity, list_price=line.list_price, discount_percent=line.discount_percent,
                    total=line.total, order=line.order)
        for line in quote.lines.all()
    ])
    emit("invoice.created", invoice, actor=actor, data={"quote": quote.pk, "number": invoice.number})
    _log(invoice, quote.opportunity, actor=actor, verb="invoice.created",
         subject=_("Invoice %(number)s created from quote %(quote)s") % {"number": invoice.number,
                                                                         "quote": quote.number})
    return invoice


@transaction.atomic
def invoice_send(*, actor, invoice: Invoice, subject: str = "", message: str = "") -> Invoice:
    invoice = _locked(invoice)
    check_transition(invoice, Status.SENT)
    defaults = email_defaults(invoice)
    send_document(actor=actor, document=invoice, subject=subject or defaults["subject"],
                  message=message or defaults["message"])
    if invoice.status == Status.DRAFT:
        invoice.status = Status.SENT
    invoice.sent_at = timezone.now()
    invoice.save(update_fields=["status", "sent_at", "updated_at"])
    emit("invoice.sent", invoice, actor=actor, data={"to": invoice.contact.email})
    return invoice


@transaction.atomic
def invoice_mark_paid(*, actor, invoice: Invoice) -> Invoice:
    invoice = _locked(invoice)
    check_transition(invoice, Status.PAID)
    invoice.status = Status.PAID
    invoice.paid_at = timezone.now()
    invoice.save(update_fields=["status", "paid_at", "updated_at"])
    emit("invoice.paid", invoice, actor=actor)
    _log(invoice, invoice.opportunity, actor=actor, verb="invoice.paid",
         subject=_("Invoice %(number)s paid") % {"number": invoice.number})
    return invoice


def invoices_mark_overdue(*, today: datetime.date | None = None) -> int:
    """Sent invoices past their due date become overdue: one UPDATE, and a second run finds nothing to do."""
    today = today or timezone.localdate()
    return (Invoice.objects.filter(status=Status.SENT, due_date__lt=today)
            .update(status=Status.OVERDUE, updated_at=timezone.now()))
