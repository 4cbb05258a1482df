"""Quotes and invoices in the browser: the quote list, making a quote from an opportunity, its page (header,
lines through htmx, status actions), its PDF, sending it; invoices made from accepted quotes; Settings → Sales.
A quote or invoice is there for a reader exactly when its opportunity is: 404 otherwise."""
from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.settings_views import client_ip, render_settings, right_required
from crm.mail.services import MailRefused
from opportunities import invoices, products, quotes
from opportunities.forms_quotes import InvoiceFilterForm, QuoteFilterForm, QuoteForm, QuoteLineForm, SalesSettingsForm, SendForm
from opportunities.models import Invoice, Opportunity, Quote, QuoteLine, SalesSettings
from opportunities.pdf import document_filename, render_pdf

RT = "opportunities.opportunity"
PAGE_SIZE = 50


def _errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _message(request, error: ValidationError | MailRefused) -> None:
    text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
    messages.error(request, text)


def _quote(request, pk, action: str = "view") -> Quote:
    return get_object_or_404(quotes.visible_quotes(request.user, action)
                             .select_related("opportunity__account", "contact"), pk=pk)


def _invoice(request, pk, action: str = "view") -> Invoice:
    return get_object_or_404(quotes.visible_invoices(request.user, action)
                             .select_related("opportunity__account", "contact", "quote"), pk=pk)


def _can_edit(request, document) -> bool:
    return quotes.visible_quotes(request.user, "edit").filter(opportunity_id=document.opportunity_id).exists()


# --- the list -------------------------------------------------------------------------------------------------

@login_required
def quote_list(request):
    if not quotes.can_use_quotes(request.user):
        raise Http404
    filters = QuoteFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    queryset = quotes.quote_list(user=request.user, status=data.get("status", ""), q=(data.get("q") or "").strip())
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "opportunities/quotes/quote_list.html", {
        "page": page, "filters": filters, "query": query.urlencode()})


@login_required
def invoice_list(request):
    if not quotes.can_use_quotes(request.user):
        raise Http404
    filters = InvoiceFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    queryset = quotes.invoice_list(user=request.user, status=data.get("status", ""),
                                   q=(data.get("q") or "").strip())
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "opportunities/invoices/invoice_list.html", {
        "page": page, "filters": filters, "query": query.urlencode()})


# --- a quote --------------------------------------------------------------------------------------------------

@login_required
def quote_create(request, pk):
    user = request.user
    if not quotes.can_use_quotes(user) or not user.can(RT, "edit"):
        raise Http404
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user, "edit").select_related("contact"), pk=pk)
    contacts = quotes.recipient_choices(opportunity, user)
    sales = SalesSettings.load()
    contact = opportunity.contact if opportunity.contact_id and contacts.filter(pk=opportunity.contact_id).exists() \
        else None
    initial = {"name": opportunity.name, "contact": contact, "language": quotes.default_language(contact, user),
               "valid_until": timezone.localdate() + datetime.timedelta(days=sales.quote_validity_days),
               "discount_percent": 0, "tax_percent": sales.default_tax_percent, "terms": sales.quote_terms}
    form = QuoteForm(request.POST or None, contacts=contacts, initial=initial,
                     instance=Quote(opportunity=opportunity, currency=opportunity.currency))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            quote = quotes.quote_create(actor=user, opportunity=opportunity, contact=data["contact"],
                                        name=data["name"], language=data["language"],
                                        valid_until=data["valid_until"], discount_percent=data["discount_percent"],
                                        tax_percent=data["tax_percent"], terms=data["terms"])
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Quote %(number)s created with the opportunity's products.") % {
                "number": quote.number})
            return redirect("opportunities:quote_detail", pk=quote.pk)
    return render(request, "opportunities/quotes/quote_form.html", {
        "form": form, "opportunity": opportunity, "quote": None})


@login_required
def quote_detail(request, pk):
    quote = _quote(request, pk)
    can_edit = _can_edit(request, quote)
    lines = list(quote.lines.select_related("product").order_by("order", "id"))
    invoice = Invoice.objects.filter(quote=quote).first()
    threshold = SalesSettings.load().discount_approval_threshold
    return render(request, "opportunities/quotes/quote_detail.html", {
        "quote": quote, "opportunity": quote.opportunity, "lines": lines, "invoice": invoice,
        "can_edit": can_edit, "editable": can_edit and quote.status in quotes.EDITABLE,
        "needs_approval": quotes.approval_needed(quote, lines, threshold), "threshold": threshold,
        "can_send": can_edit and quote.status in quotes.SENDABLE,
        "can_decide": can_edit and quote.status == Quote.Status.SENT,
        "can_withdraw": can_edit and quote.status in (Quote.Status.NEEDS_APPROVAL, Quote.Status.APPROVED),
        "can_invoice": can_edit and quote.status == Quote.Status.ACCEPTED and invoice is None,
        "Status": Quote.Status,
    })


@login_required
def quote_edit(request, pk):
    quote = _quote(request, pk, "edit")
    form = QuoteForm(request.POST or None, instance=quote, contacts=quotes.recipient_choices(quote.opportunity,
                                                                                              request.user))
    if quote.status not in quotes.EDITABLE:
        messages.error(request, _("Only a draft quote can be changed."))
        return redirect("opportunities:quote_detail", pk=quote.pk)
    if request.method == "POST" and form.is_valid():
        try:
            quotes.quote_update(actor=request.user, quote=form.instance)
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Quote saved."))
            return redirect("opportunities:quote_detail", pk=quote.pk)
    return render(request, "opportunities/quotes/quote_form.html", {
        "form": form, "opportunity": quote.opportunity, "quote": quote})


def _line_response(request, quote, form, line):
    template = "opportunities/quotes/line_form.html"
    return render(request, template + "#line_form" if request.htmx else template,
                  {"quote": quote, "form": form, "line": line})


def _refresh(request, quote, message: str):
    messages.success(request, message)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("opportunities:quote_detail", pk=quote.pk)


@login_required
def quote_line_edit(request, pk, line_pk=None):
    quote = _quote(request, pk, "edit")
    if quote.status not in quotes.EDITABLE:
        messages.error(request, _("The lines of a quote that is %(status)s cannot be changed.") % {
            "status": quote.get_status_display().lower()})
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return redirect("opportunities:quote_detail", pk=quote.pk)
    line = get_object_or_404(QuoteLine, pk=line_pk, quote=quote) if line_pk else QuoteLine(quote=quote)
    prices = products.prices_in(products.book_for(quote.opportunity))
    data = request.POST if request.method == "POST" else None
    if data is None and request.GET.get("product"):
        data = request.GET.copy()
        entry = prices.get(int(data["product"])) if data["product"].isdigit() else None
        if entry is not None:
            data["list_price"] = str(entry.unit_price)
        form = QuoteLineForm(data, instance=line, prices=prices)
        form.errors.clear()
        return _line_response(request, quote, form, line)
    form = QuoteLineForm(data, instance=line, prices=prices,
                         initial=None if line.pk else {"quantity": 1, "discount_percent": 0})
    if request.method == "POST" and form.is_valid():
        try:
            quotes.quote_line_save(actor=request.user, quote=quote, line=form.instance)
        except ValidationError as error:
            _errors(form, error)
        else:
            return _refresh(request, quote, _("Line saved. The quote's totals are updated."))
    return _line_response(request, quote, form, line)


@login_required
@require_POST
def quote_line_remove(request, pk, line_pk):
    quote = _quote(request, pk, "edit")
    line = get_object_or_404(QuoteLine, pk=line_pk, quote=quote)
    try:
        quotes.quote_line_remove(actor=request.user, quote=quote, line=line)
    except ValidationError as error:
        _message(request, error)
        return redirect("opportunities:quote_detail", pk=quote.pk)
    return _refresh(request, quote, _("Line removed."))


def _pdf_response(document, *, inline: bool) -> HttpResponse:
    response = HttpResponse(render_pdf(document), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{document_filename(document)}"'
    return response


@login_required
def quote_pdf(request, pk):
    return _pdf_response(_quote(request, pk), inline=request.GET.get("inline") == "1")


@login_required
def quote_send(request, pk):
    quote = _quote(request, pk, "edit")
    if quote.status == Quote.Status.NEEDS_APPROVAL:
        messages.error(request, _("This quote is waiting for approval and cannot be sent yet."))
        return redirect("opportunities:quote_detail", pk=quote.pk)
    if quote.status == Quote.Status.DRAFT and quotes.approval_needed(quote):
        # A large discount: sending it asks for approval instead.
        if request.method != "POST":
            return redirect("opportunities:quote_detail", pk=quote.pk)
        try:
            quotes.quote_submit(actor=request.user, quote=quote)
        except ValidationError as error:
            _message(request, error)
        else:
            messages.warning(request, _("The discount is above the approval threshold: the quote is waiting for "
                                        "approval and will be sent once it is approved."))
        return redirect("opportunities:quote_detail", pk=quote.pk)
    form = SendForm(request.POST or None, initial=quotes.email_defaults(quote))
    if request.method == "POST" and request.POST.get("subject") is None:
        form = SendForm(initial=quotes.email_defaults(quote))  # the button on the quote page: show the e-mail first
    elif request.method == "POST" and form.is_valid():
        try:
            result = quotes.quote_send(actor=request.user, quote=quote, subject=form.cleaned_data["subject"],
                                       message=form.cleaned_data["message"])
        except (ValidationError, MailRefused) as error:
            _message(request, error)
        else:
            if result.sent:
                messages.success(request, _("Quote %(number)s sent to %(email)s.") % {
                    "number": quote.number, "email": quote.contact.email})
            return redirect("opportunities:quote_detail", pk=quote.pk)
    return render(request, "opportunities/quotes/send.html", {
        "form": form, "document": quote, "is_quote": True, "opportunity": quote.opportunity,
        "cancel_url": reverse("opportunities:quote_detail", args=[quote.pk])})


@login_required
@require_POST
def quote_withdraw(request, pk):
    quote = _quote(request, pk, "edit")
    try:
        quotes.quote_withdraw(actor=request.user, quote=quote)
    except ValidationError as error:
        _message(request, error)
    else:
        messages.success(request, _("The quote is a draft again; change it and send it."))
    return redirect("opportunities:quote_detail", pk=quote.pk)


@login_required
@require_POST
def quote_decide(request, pk):
    quote = _quote(request, pk, "edit")
    accepted = request.POST.get("accepted") == "1"
    try:
        quotes.quote_decide(actor=request.user, quote=quote, accepted=accepted)
    except ValidationError as error:
        _message(request, error)
    else:
        messages.success(request, _("Quote accepted. You can now make the invoice.") if accepted
                         else _("Quote marked as rejected."))
    return redirect("opportunities:quote_detail", pk=quote.pk)


@login_required
@require_POST
def quote_invoice(request, pk):
    quote = _quote(request, pk, "edit")
    try:
        invoice = invoices.invoice_create(actor=request.user, quote=quote)
    except ValidationError as error:
        _message(request, error)
        return redirect("opportunities:quote_detail", pk=quote.pk)
    messages.success(request, _("Invoice %(number)s created.") % {"number": invoice.number})
    return redirect("opportunities:invoice_detail", pk=invoice.pk)


# --- invoices -------------------------------------------------------------------------------------------------

@login_required
def invoice_detail(request, pk):
    invoice = _invoice(request, pk)
    can_edit = _can_edit(request, invoice)
    return render(request, "opportunities/invoices/invoice_detail.html", {
        "invoice": invoice, "opportunity": invoice.opportunity,
        "lines": list(invoice.lines.select_related("product").order_by("order", "id")),
        "can_send": can_edit and invoice.status != Invoice.Status.PAID,
        "can_mark_paid": can_edit and invoice.status in (Invoice.Status.SENT, Invoice.Status.OVERDUE,
                                                         Invoice.Status.DRAFT),
    })


@login_required
def invoice_pdf(request, pk):
    return _pdf_response(_invoice(request, pk), inline=request.GET.get("inline") == "1")


@login_required
def invoice_send(request, pk):
    invoice = _invoice(request, pk, "edit")
    form = SendForm(request.POST or None, initial=quotes.email_defaults(invoice))
    if request.method == "POST" and request.POST.get("subject") is None:
        form = SendForm(initial=quotes.email_defaults(invoice))
    elif request.method == "POST" and form.is_valid():
        try:
            invoices.invoice_send(actor=request.user, invoice=invoice, subject=form.cleaned_data["subject"],
                                  message=form.cleaned_data["message"])
        except (ValidationError, MailRefused) as error:
            _message(request, error)
        else:
            messages.success(request, _("Invoice %(number)s sent to %(email)s.") % {
                "number": invoice.number, "email": invoice.contact.email})
            return redirect("opportunities:invoice_detail", pk=invoice.pk)
    return render(request, "opportunities/quotes/send.html", {
        "form": form, "document": invoice, "is_quote": False, "opportunity": invoice.opportunity,
        "cancel_url": reverse("opportunities:invoice_detail", args=[invoice.pk])})


@login_required
@require_POST
def invoice_paid(request, pk):
    invoice = _invoice(request, pk, "edit")
    try:
        invoices.invoice_mark_paid(actor=request.user, invoice=invoice)
    except ValidationError as error:
        _message(request, error)
    else:
        messages.success(request, _("Invoice marked as paid."))
    return redirect("opportunities:invoice_detail", pk=invoice.pk)


# --- Settings → Sales -----------------------------------------------------------------------------------------

@right_required("manage_customization")
def sales_settings(request):
    form = SalesSettingsForm(request.POST or None, instance=SalesSettings.load())
    if request.method == "POST" and form.is_valid():
        quotes.sales_settings_save(actor=request.user, sales=form.instance, ip=client_ip(request))
        messages.success(request, _("Sales settings saved."))
        return redirect("opportunities:sales_settings")
    return render_settings(request, "opportunities/quotes/sales_settings.html", {"form": form}, section="sales")
