"""Quotes: made from an opportunity, numbered, with their own lines, discount, tax, validity and terms; their
statuses and the only moves between them; the approval a large discount needs; e-mailing the PDF to the
recipient; and the read side (what a user may see, the panel on the opportunity's page, the list).

A quote is visible and editable exactly when its opportunity is (`Opportunity.objects.visible_to`), and only to
readers from whom the opportunity's amount is not hidden (its totals would give the amount away).

A discount above SalesSettings.discount_approval_threshold (on any line or overall) moves the quote to
"needs approval" when it is submitted or sent, and emits "quote.approval_requested". The approval engine picks
that up and answers through `quote_approval_decided`; until it exists the quote waits there and cannot be sent."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.events import emit
from opportunities.models import Invoice, NumberSequence, Opportunity, Quote, QuoteLine, SalesSettings

RT = "opportunities.opportunity"
CENT = Decimal("0.01")
Status = Quote.Status

# The moves a quote may make (approval's own moves happen through quote_submit and quote_approval_decided).
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.NEEDS_APPROVAL, Status.SENT, Status.EXPIRED},
    Status.NEEDS_APPROVAL: {Status.APPROVED, Status.DRAFT, Status.EXPIRED},
    Status.APPROVED: {Status.SENT, Status.DRAFT, Status.EXPIRED},
    Status.SENT: {Status.SENT, Status.ACCEPTED, Status.REJECTED, Status.EXPIRED},
    Status.ACCEPTED: set(),
    Status.REJECTED: set(),
    Status.EXPIRED: set(),
}
EDITABLE = {Status.DRAFT}
SENDABLE = {Status.DRAFT, Status.APPROVED, Status.SENT}
FINAL = {Status.ACCEPTED, Status.REJECTED, Status.EXPIRED}


def check_transition(quote: Quote, to: str) -> None:
    if to not in TRANSITIONS.get(quote.status, set()):
        raise ValidationError(
            _("A quote that is %(status)s cannot become %(target)s.") % {
                "status": quote.get_status_display().lower(), "target": Status(to).label.lower()},
            code="transition")


# --- numbers --------------------------------------------------------------------------------------------------

def next_number(series: str, prefix: str, *, year: int | None = None) -> str:
    """The next number of `series` this year, "Q-2026-00042": the sequence row is created if missing and taken
    under a row lock, so two transactions never get the same number (the second waits for the first)."""
    year = year or timezone.localdate().year
    name = f"{series}-{year}"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {NumberSequence._meta.db_table} (name, next_value) VALUES (%s, 1) "
                           "ON CONFLICT (name) DO NOTHING", [name])
        sequence = NumberSequence.objects.select_for_update().get(name=name)
        value = sequence.next_value
        sequence.next_value = value + 1
        sequence.save(update_fields=["next_value"])
    return f"{prefix}-{year}-{value:05d}"


# --- totals ---------------------------------------------------------------------------------------------------

def compute_totals(document, lines) -> None:
    """subtotal = the sum of the line totals; discount = subtotal × overall %; tax = (subtotal − discount) ×
    tax %; total = subtotal − discount + tax; each rounded to the cent, written on `document` (a quote or an
    invoice), not saved."""
    subtotal = sum((line.total for line in lines), Decimal(0)).quantize(CENT)
    discount = (subtotal * (document.discount_percent or 0) / 100).quantize(CENT)
    tax = ((subtotal - discount) * (document.tax_percent or 0) / 100).quantize(CENT)
    document.subtotal, document.discount_amount, document.tax_amount = subtotal, discount, tax
    document.total = subtotal - discount + tax


def _recalculate(quote: Quote) -> Quote:
    compute_totals(quote, list(quote.lines.all()))
    quote.save(update_fields=["subtotal", "discount_amount", "tax_amount", "total", "updated_at"])
    return quote


def approval_needed(quote: Quote, lines=None, threshold: Decimal | None = None) -> bool:
    """Whether a discount (overall or on any line) is above the approval threshold."""
    threshold = SalesSettings.load().discount_approval_threshold if threshold is None else threshold
    if (quote.discount_percent or 0) > threshold:
        return True
    if lines is not None:
        return any((line.discount_percent or 0) > threshold for line in lines)
    return quote.lines.filter(discount_percent__gt=threshold).exists()


# --- defaults -------------------------------------------------------------------------------------------------

LANGUAGES = ("en", "fa", "fi")


def default_language(contact, actor) -> str:
    """The recipient's language (their preferred one, else their country's), else the user's."""
    from crm.mail.services import recipient_language

    language = recipient_language(contact) if contact is not None else None
    if language in LANGUAGES:
        return language
    language = (getattr(actor, "language", "") or "en").split("-")[0]
    return language if language in LANGUAGES else "en"


def recipient_choices(opportunity: Opportunity, user) -> QuerySet:
    """Who a quote may go to: the visible contacts of the opportunity's account (or its primary contact)."""
    from accounts.models import Contact

    visible = Contact.objects.visible_to(user)
    if opportunity.account_id:
        return visible.filter(account_id=opportunity.account_id).order_by("last_name", "first_name", "id")
    return visible.filter(pk=opportunity.contact_id).order_by("id")


# --- writes ---------------------------------------------------------------------------------------------------

def _locked(quote: Quote) -> Quote:
    return Quote.objects.select_for_update(of=("self",)).select_related("opportunity", "contact").get(pk=quote.pk)


def _log(quote_or_invoice, opportunity, *, actor, verb: str, subject: str) -> None:
    from crm.activities.services import activity_log

    activity_log(target=opportunity, verb=verb, actor=actor, subject=subject,
                 data={"number": quote_or_invoice.number, "id": quote_or_invoice.pk})


@transaction.atomic
def quote_create(*, actor, opportunity: Opportunity, contact=None, name: str = "", language: str = "",
                 valid_until: datetime.date | None = None, discount_percent: Decimal | None = None,
                 tax_percent: Decimal | None = None, terms: str | None = None) -> Quote:
    """A draft quote of `opportunity`, its lines copied from the opportunity's line items, numbered, with the
    sales settings' validity, tax and terms unless given."""
    sales = SalesSettings.load()
    opportunity = Opportunity.objects.select_for_update(of=("self",)).get(pk=opportunity.pk)
    contact = contact if contact is not None else (opportunity.contact if opportunity.contact_id else None)
    quote = Quote(
        number=next_number("quote", "Q"), opportunity=opportunity, contact=contact,
        name=(name or opportunity.name)[:200], currency=(opportunity.currency or "EUR").upper(),
        language=language or default_language(contact, actor),
        valid_until=valid_until or timezone.localdate() + datetime.timedelta(days=sales.quote_validity_days),
        discount_percent=Decimal(0) if discount_percent is None else discount_percent,
        tax_percent=sales.default_tax_percent if tax_percent is None else tax_percent,
        terms=sales.quote_terms if terms is None else terms,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    quote.full_clean(exclude=["number"])
    quote.save()
    QuoteLine.objects.bulk_create([
        QuoteLine(quote=quote, product_id=item.product_id, name=item.name, description=item.description,
                  quantity=item.quantity, list_price=item.list_price, discount_percent=item.discount_percent,
                  total=item.compute_total(), order=index)
        for index, item in enumerate(opportunity.line_items.order_by("order", "id"), start=1)
    ])
    _recalculate(quote)
    emit("quote.created", quote, actor=actor, data={"opportunity": opportunity.pk, "number": quote.number})
    _log(quote, opportunity, actor=actor, verb="quote.created",
         subject=_("Quote %(number)s created") % {"number": quote.number})
    return quote


def _check_unlocked(quote: Quote, actor) -> None:
    """A lock registered on the quote (an approval process waiting on it) stops every change but the recall
    (quote_withdraw) and the approver's answer (quote_approval_decided)."""
    from crm.core.locks import lock_reason

    reason = lock_reason(quote, actor)
    if reason:
        raise ValidationError(reason, code="locked")


def _check_editable(quote: Quote, actor) -> None:
    _check_unlocked(quote, actor)
    if quote.status == Status.NEEDS_APPROVAL:
        raise ValidationError(_("This quote is waiting for approval. Withdraw the request to change it."),
                              code="not_editable")
    if quote.status not in EDITABLE:
        raise ValidationError(
            _("A quote that is %(status)s cannot be changed. Move it back to draft, or make a new quote.") % {
                "status": quote.get_status_display().lower()}, code="not_editable")


@transaction.atomic
def quote_update(*, actor, quote: Quote) -> Quote:
    """Save the header of a draft quote (a bound QuoteForm's instance) and its totals."""
    stored = _locked(quote)
    _check_editable(stored, actor)
    quote.status = stored.status
    quote.full_clean(exclude=["number"])
    quote.save()
    _recalculate(quote)
    emit("quote.updated", quote, actor=actor)
    return quote


@transaction.atomic
def quote_line_save(*, actor, quote: Quote, line: QuoteLine) -> Quote:
    """Add or change one line of a draft quote, and its totals."""
    quote = _locked(quote)
    _check_editable(quote, actor)
    line.quote = quote
    if line.product_id and not line.name:
        line.name = line.product.name[:200]
    if line.pk is None:
        line.order = (quote.lines.aggregate(m=Max("order"))["m"] or 0) + 1
    line.full_clean()
    line.save()
    return _recalculate(quote)


@transaction.atomic
def quote_line_remove(*, actor, quote: Quote, line: QuoteLine) -> Quote:
    quote = _locked(quote)
    _check_editable(quote, actor)
    line.delete()
    return _recalculate(quote)


@dataclass
class SendResult:
    quote: Quote
    sent: bool  # False: it went to approval instead


@transaction.atomic
def quote_submit(*, actor, quote: Quote) -> Quote:
    """Ask for approval of a draft quote whose discount is above the threshold: "needs approval", and the
    event the approval engine picks up."""
    quote = _locked(quote)
    _check_unlocked(quote, actor)
    check_transition(quote, Status.NEEDS_APPROVAL)
    if not approval_needed(quote):
        raise ValidationError(_("No discount on this quote is above the approval threshold; it can be sent "
                                "as it is."), code="no_approval_needed")
    quote.status = Status.NEEDS_APPROVAL
    quote.save(update_fields=["status", "updated_at"])
    threshold = SalesSettings.load().discount_approval_threshold
    emit("quote.approval_requested", quote, actor=actor,
         data={"opportunity": quote.opportunity_id, "number": quote.number, "threshold": str(threshold),
               "discount_percent": str(quote.discount_percent),
               "max_line_discount": str(quote.lines.aggregate(m=Max("discount_percent"))["m"] or 0)})
    _log(quote, quote.opportunity, actor=actor, verb="quote.approval_requested",
         subject=_("Quote %(number)s is waiting for approval") % {"number": quote.number})
    return quote


@transaction.atomic
def quote_withdraw(*, actor, quote: Quote) -> Quote:
    """Take back a request for approval (or an approval given) to change the quote: back to draft."""
    quote = _locked(quote)
    if quote.status not in (Status.NEEDS_APPROVAL, Status.APPROVED):
        check_transition(quote, Status.DRAFT)
    quote.status = Status.DRAFT
    quote.save(update_fields=["status", "updated_at"])
    emit("quote.withdrawn", quote, actor=actor)
    return quote


@transaction.atomic
def quote_approval_decided(*, actor, quote: Quote, approved: bool, comment: str = "") -> Quote:
    """The approval engine's answer: approved (it can be sent) or rejected (back to draft)."""
    quote = _locked(quote)
    if quote.status != Status.NEEDS_APPROVAL:
        raise ValidationError(_("This quote is not waiting for approval."), code="transition")
    quote.status = Status.APPROVED if approved else Status.DRAFT
    quote.save(update_fields=["status", "updated_at"])
    emit("quote.approved" if approved else "quote.approval_rejected", quote, actor=actor, data={"comment": comment})
    subject = (_("Quote %(number)s approved") if approved else _("Quote %(number)s not approved")) % {
        "number": quote.number}
    _log(quote, quote.opportunity, actor=actor, verb="quote.approval_decided", subject=subject)
    return quote


def quote_url(quote: Quote) -> str:
    from django.urls import reverse

    return reverse("opportunities:quote_detail", args=[quote.pk])


def approval_decided(*, actor, record: Quote, approved: bool, comment: str = "") -> None:
    """The approval engine's callback (crm.core.approvables): the request for `record` ended."""
    if record.status == Status.NEEDS_APPROVAL:
        quote_approval_decided(actor=actor, quote=record, approved=approved, comment=comment)


def approval_recalled(*, actor, record: Quote) -> None:
    """The approval engine's callback: the submitter recalled the request from the Approvals page."""
    if record.status == Status.NEEDS_APPROVAL:
        quote_withdraw(actor=actor, quote=record)


def email_defaults(document) -> dict:
    """The subject and message of a quote's or invoice's e-mail, in its language."""
    from django.utils import translation

    with translation.override(document.language):
        if isinstance(document, Quote):
            subject = _("Quote %(number)s: %(name)s") % {"number": document.number, "name": document.name}
            message = _("Hello,\n\nPlease find attached our quote %(number)s.\n\nBest regards") % {
                "number": document.number}
        else:
            subject = _("Invoice %(number)s") % {"number": document.number}
            message = _("Hello,\n\nPlease find attached our invoice %(number)s.\n\nBest regards") % {
                "number": document.number}
    return {"subject": subject, "message": message}


def send_document(*, actor, document, subject: str, message: str) -> None:
    """E-mail a quote or an invoice as a PDF to its recipient, logged on the opportunity's timeline. Raises
    MailRefused (no recipient, no address, opted out)."""
    from django.utils.html import escape, linebreaks

    from crm.mail.services import MailRefused, mail_send
    from opportunities.pdf import document_filename, render_pdf

    contact = document.contact
    if contact is None:
        raise MailRefused(_("Choose the recipient first."))
    if not contact.email:
        raise MailRefused(_("%(name)s has no e-mail address.") % {"name": contact})
    if contact.email_opt_out:
        raise MailRefused(_("%(name)s has opted out of e-mail.") % {"name": contact})
    pdf = render_pdf(document)
    mail_send(to=[contact.email], subject=subject, html=linebreaks(escape(message)), text=message, actor=actor,
              record=document.opportunity, language=document.language, respect_opt_out=False,
              attachments=[(document_filename(document), pdf, "application/pdf")])


@transaction.atomic
def quote_send(*, actor, quote: Quote, subject: str = "", message: str = "") -> SendResult:
    """Send the quote to its recipient with the PDF attached: "sent", stamped, on the timeline. A draft whose
    discount needs approval goes to approval instead (and is not sent); one waiting for it cannot be sent."""
    quote = _locked(quote)
    if quote.status == Status.NEEDS_APPROVAL:
        raise ValidationError(_("This quote is waiting for approval and cannot be sent yet."), code="waiting")
    _check_unlocked(quote, actor)
    if quote.status == Status.DRAFT and approval_needed(quote):
        return SendResult(quote_submit(actor=actor, quote=quote), sent=False)
    check_transition(quote, Status.SENT)
    if quote.valid_until and quote.valid_until < timezone.localdate():
        raise ValidationError(_("This quote's validity date has passed. Change it before sending."),
                              code="expired")
    defaults = email_defaults(quote)
    send_document(actor=actor, document=quote, subject=subject or defaults["subject"],
                  message=message or defaults["message"])
    quote.status = Status.SENT
    quote.sent_at = timezone.now()
    quote.save(update_fields=["status", "sent_at", "updated_at"])
    emit("quote.sent", quote, actor=actor, data={"to": quote.contact.email})
    return SendResult(quote, sent=True)


@transaction.atomic
def quote_decide(*, actor, quote: Quote, accepted: bool) -> Quote:
    """The customer's answer to a sent quote: accepted or rejected."""
    quote = _locked(quote)
    _check_unlocked(quote, actor)
    target = Status.ACCEPTED if accepted else Status.REJECTED
    check_transition(quote, target)
    quote.status = target
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    emit("quote.accepted" if accepted else "quote.rejected", quote, actor=actor)
    subject = (_("Quote %(number)s accepted") if accepted else _("Quote %(number)s rejected")) % {
        "number": quote.number}
    _log(quote, quote.opportunity, actor=actor, verb="quote.decided", subject=subject)
    return quote


def quotes_expire(*, today: datetime.date | None = None) -> int:
    """Quotes past their validity date that no one accepted or rejected become expired: one UPDATE, and a
    second run finds nothing to do."""
    today = today or timezone.localdate()
    return (Quote.objects.filter(valid_until__lt=today)
            .exclude(status__in=list(FINAL))
            .update(status=Status.EXPIRED, updated_at=timezone.now()))


SETTINGS_FIELDS = ("discount_approval_threshold", "quote_validity_days", "invoice_due_days", "default_tax_percent",
                   "quote_terms")


@transaction.atomic
def sales_settings_save(*, actor, sales: SalesSettings, ip: str | None = None) -> SalesSettings:
    """Save Settings → Sales (a bound form's instance), audited with what changed."""
    from crm.access.models import AuditLog
    from crm.access.services import audit

    before = SalesSettings.objects.select_for_update().get(pk=sales.pk)
    changes = {name: [str(getattr(before, name)), str(getattr(sales, name))] for name in SETTINGS_FIELDS
               if getattr(before, name) != getattr(sales, name)}
    sales.save(update_fields=list(SETTINGS_FIELDS))
    if changes:
        audit(actor=actor, action=AuditLog.Action.CUSTOMIZATION_CHANGED, target=sales, ip=ip,
              data={"what": "sales_settings", "changes": changes})
    return sales


# --- reads ----------------------------------------------------------------------------------------------------

def can_use_quotes(user) -> bool:
    from crm.access.fls import hidden_fields

    return user.can(RT, "view") and "amount" not in hidden_fields(user, RT)


def visible_quotes(user, action: str = "view") -> QuerySet:
    """The quotes `user` may see (or edit): those of the opportunities they may."""
    if not can_use_quotes(user) or (action == "edit" and not user.can(RT, "edit")):
        return Quote.objects.none()
    return Quote.objects.filter(opportunity__in=Opportunity.objects.visible_to(user, action).values("pk"))


def visible_invoices(user, action: str = "view") -> QuerySet:
    if not can_use_quotes(user) or (action == "edit" and not user.can(RT, "edit")):
        return Invoice.objects.none()
    return Invoice.objects.filter(opportunity__in=Opportunity.objects.visible_to(user, action).values("pk"))


def quote_list(*, user, status: str = "", q: str = "") -> QuerySet:
    quotes = visible_quotes(user).select_related("opportunity", "contact")
    if status:
        quotes = quotes.filter(status=status)
    if q:
        quotes = quotes.filter(Q(number__icontains=q) | Q(name__icontains=q))
    return quotes.order_by("-created_at", "-id")


def invoice_list(*, user, status: str = "", q: str = "") -> QuerySet:
    invoices = visible_invoices(user).select_related("opportunity", "contact", "quote")
    if status:
        invoices = invoices.filter(status=status)
    if q:
        invoices = invoices.filter(Q(number__icontains=q) | Q(quote__number__icontains=q)
                                   | Q(opportunity__name__icontains=q) | Q(opportunity__account__name__icontains=q))
    return invoices.order_by("-issue_date", "-id")


def panel_context(request, opportunity: Opportunity) -> dict | None:
    """The "Quotes and invoices" panel of the opportunity's page."""
    user = request.user
    if not can_use_quotes(user):
        return None
    from opportunities.line_items import can_edit_opportunity

    can_edit = can_edit_opportunity(user, opportunity)
    return {
        "quotes": list(opportunity.quotes.order_by("-created_at", "-id")),
        "invoices": list(opportunity.invoices.order_by("-issue_date", "-id")),
        "can_create_quote": can_edit,
        "opportunity": opportunity,
    }


# --- demo -----------------------------------------------------------------------------------------------------

def seed_demo(context: dict | None = None) -> None:
    """The demo's quotes and invoices (called once from opportunities/demo.py)."""
    seed()


def seed(*, actor=None) -> list:
    """A few quotes and invoices on the demo's open and won deals: a draft, a sent one, a Persian quote, one
    waiting for approval, an accepted one with its invoice. Idempotent: nothing is made twice."""
    from opportunities.invoices import invoice_create, invoice_mark_paid
    from opportunities.models import LineItem, Product

    if Quote.objects.exists():
        return []
    from django.db.models import Count

    deals = list(Opportunity.objects.filter(account__isnull=False, stage__outcome="open", owner__isnull=False)
                 .annotate(lines=Count("line_items")).select_related("account", "owner")
                 .order_by("-lines", "-amount", "id")[:5])
    made = []
    product = Product.objects.filter(is_active=True).order_by("id").first()
    for index, deal in enumerate(deals):
        owner = actor or deal.owner
        if not deal.line_items.exists():
            LineItem.objects.create(opportunity=deal, product=product, name=product.name if product else deal.name,
                                    quantity=Decimal(index + 1), list_price=Decimal(1200), order=1)
        # In the primary contact's language; one Persian quote at least (the third, if no contact reads Persian).
        persian_yet = any(q.language == "fa" for q in made)
        quote = quote_create(actor=owner, opportunity=deal, language="fa" if index == 2 and not persian_yet else "")
        if quote.language == "fa" and not persian_yet:
            quote.name = "پیشنهاد قیمت " + deal.name
            quote.terms = "پرداخت ظرف ۱۴ روز پس از صدور فاکتور."
            quote.save(update_fields=["name", "terms"])
        if index in (1, 2, 4):
            Quote.objects.filter(pk=quote.pk).update(status=Status.SENT, sent_at=timezone.now())
        if index == 3:
            quote.discount_percent = Decimal(35)
            quote.save(update_fields=["discount_percent"])
            _recalculate(quote)
            quote_submit(actor=owner, quote=quote)
        if index == 4:
            quote.refresh_from_db()
            quote = quote_decide(actor=owner, quote=quote, accepted=True)
            invoice = invoice_create(actor=owner, quote=quote)
            Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.SENT, sent_at=timezone.now())
            invoice.refresh_from_db()
            invoice_mark_paid(actor=owner, invoice=invoice)
        made.append(quote)
    return made
