"""Products and price books (everyone who may view opportunities reads them; admins with the customization right
edit them), and the line items of an opportunity (the products panel of its page, through htmx)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access.fls import hidden_fields
from opportunities import line_items, products
from opportunities.forms_products import (
    LineItemForm,
    PriceBookEntryForm,
    PriceBookForm,
    ProductFilterForm,
    ProductForm,
    ProductImportForm,
    ProductPriceForm,
)
from opportunities.models import LineItem, Opportunity, PriceBook, PriceBookEntry, Product

RT = "opportunities.opportunity"
PAGE_SIZE = 50


def _viewer(request) -> None:
    if not products.can_view_products(request.user):
        raise Http404


def _editor(request) -> None:
    _viewer(request)
    if not products.can_edit_products(request.user):
        raise Http404


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- products -------------------------------------------------------------------------------------------------

@login_required
def product_list(request):
    _viewer(request)
    filters = ProductFilterForm(request.GET or None, families=products.product_families())
    data = filters.cleaned_data if filters.is_valid() else {}
    queryset = products.product_search(q=data.get("q", "").strip(), family=data.get("family", ""),
                                       active=data.get("active", ""))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "opportunities/products/product_list.html", {
        "page": page, "filters": filters, "query": query.urlencode(),
        "can_edit": products.can_edit_products(request.user),
    })


@login_required
def product_detail(request, pk):
    _viewer(request)
    product = get_object_or_404(Product, pk=pk)
    can_edit = products.can_edit_products(request.user)
    price_form = ProductPriceForm(request.POST or None, product=product) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if price_form.is_valid():
            products.price_set(actor=request.user, price_book=price_form.cleaned_data["price_book"], product=product,
                               unit_price=price_form.cleaned_data["unit_price"])
            messages.success(request, _("Price saved."))
            return redirect("opportunities:product_detail", pk=product.pk)
    prices = product.prices.select_related("price_book").order_by("-price_book__is_standard",
                                                                  "price_book__currency", "price_book__name")
    return render(request, "opportunities/products/product_detail.html", {
        "product": product, "prices": prices, "price_form": price_form, "can_edit": can_edit,
    })


@login_required
def product_edit(request, pk=None):
    _editor(request)
    product = get_object_or_404(Product, pk=pk) if pk else Product()
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            product = products.product_save(actor=request.user, product=form.instance)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Product saved."))
            return redirect("opportunities:product_detail", pk=product.pk)
    return render(request, "opportunities/products/product_form.html", {"form": form, "product": product})


@login_required
@require_POST
def product_toggle(request, pk):
    _editor(request)
    product = get_object_or_404(Product, pk=pk)
    active = request.POST.get("active") == "1"
    products.product_set_active(actor=request.user, product=product, active=active)
    messages.success(request, _("Product activated.") if active else _(
        "Product deactivated. Lines that have it keep it; it cannot be added to new lines."))
    return redirect("opportunities:product_detail", pk=product.pk)


@login_required
def product_import(request):
    _editor(request)
    form = ProductImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        good_only = form.cleaned_data["good_rows_only"]
        result = products.products_import(actor=request.user, parsed=products.read_products(form.cleaned_data["file"]),
                                          good_rows_only=good_only)
        if not result.errors or good_only:
            if result.created or result.updated:
                messages.success(request, _("Products imported: %(created)s new, %(updated)s updated.") % {
                    "created": result.created, "updated": result.updated})
            if not result.errors:
                return redirect("opportunities:product_list")
    return render(request, "opportunities/products/product_import.html", {"form": form, "result": result})


# --- price books ----------------------------------------------------------------------------------------------

@login_required
def price_book_list(request):
    _viewer(request)
    from django.db.models import Count

    books = PriceBook.objects.annotate(entry_count=Count("entries")).order_by("-is_standard", "currency", "name")
    return render(request, "opportunities/products/price_book_list.html", {
        "books": books, "can_edit": products.can_edit_products(request.user)})


@login_required
def price_book_detail(request, pk):
    _viewer(request)
    book = get_object_or_404(PriceBook, pk=pk)
    can_edit = products.can_edit_products(request.user)
    form = PriceBookEntryForm(request.POST or None, price_book=book, prefix="entry") if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise Http404
        if form.is_valid():
            products.price_set(actor=request.user, price_book=book, product=form.cleaned_data["product"],
                               unit_price=form.cleaned_data["unit_price"], is_active=form.cleaned_data["is_active"])
            messages.success(request, _("Price saved."))
            return redirect("opportunities:price_book_detail", pk=book.pk)
    entries = book.entries.select_related("product").order_by("product__name", "id")
    return render(request, "opportunities/products/price_book_detail.html", {
        "book": book, "entries": entries, "form": form, "can_edit": can_edit})


@login_required
def price_book_edit(request, pk=None):
    _editor(request)
    book = get_object_or_404(PriceBook, pk=pk) if pk else PriceBook()
    form = PriceBookForm(request.POST or None, instance=book)
    if request.method == "POST" and form.is_valid():
        try:
            book = products.price_book_save(actor=request.user, book=form.instance)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Price book saved."))
            return redirect("opportunities:price_book_detail", pk=book.pk)
    return render(request, "opportunities/products/price_book_form.html", {"form": form, "book": book})


@login_required
def price_entry_edit(request, pk):
    _editor(request)
    entry = get_object_or_404(PriceBookEntry.objects.select_related("price_book", "product"), pk=pk)
    if request.method == "POST" and request.POST.get("delete"):
        products.price_remove(actor=request.user, entry=entry)
        messages.success(request, _("Price removed from the book."))
        return redirect("opportunities:price_book_detail", pk=entry.price_book_id)
    form = PriceBookEntryForm(request.POST or None, instance=entry, price_book=entry.price_book)
    if request.method == "POST" and form.is_valid():
        products.price_set(actor=request.user, price_book=entry.price_book, product=entry.product,
                           unit_price=form.cleaned_data["unit_price"], is_active=form.cleaned_data["is_active"])
        messages.success(request, _("Price saved."))
        return redirect("opportunities:price_book_detail", pk=entry.price_book_id)
    return render(request, "opportunities/products/price_entry_form.html", {"form": form, "entry": entry})


# --- line items of an opportunity -----------------------------------------------------------------------------

def _opportunity_for_lines(request, pk) -> Opportunity:
    """The opportunity, if the reader may see it (else 404) and edit its lines (else 403-as-404 for writes)."""
    user = request.user
    if not user.can(RT, "view"):
        raise Http404
    opportunity = get_object_or_404(Opportunity.objects.visible_to(user).select_related("stage"), pk=pk)
    if "amount" in hidden_fields(user, RT) or not user.can(RT, "edit") \
            or not Opportunity.objects.visible_to(user, "edit").filter(pk=pk).exists():
        raise Http404
    return opportunity


def _done(request, opportunity, message: str):
    messages.success(request, message)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # the header, the details and the stage history show the new amount
        return response
    return redirect("opportunities:detail", pk=opportunity.pk)


def _line_form_response(request, opportunity, form, line):
    context = {"opportunity": opportunity, "form": form, "line": line,
               "book": products.book_for(opportunity)}
    template = "opportunities/line_items/line_form.html"
    return render(request, template + "#line_form" if request.htmx else template, context)


def _fresh_ids() -> str:
    """Field ids new to each rendering: htmx settles a swapped-in element that keeps an old element's id with
    the old one's attributes first, and the type-ahead would take the new <select> for one it already set up."""
    import secrets

    return f"line-{secrets.token_hex(3)}-%s"


@login_required
def line_edit(request, pk, line_pk=None):
    opportunity = _opportunity_for_lines(request, pk)
    line = get_object_or_404(LineItem, pk=line_pk, opportunity=opportunity) if line_pk else LineItem(
        opportunity=opportunity)
    book = products.book_for(opportunity)
    prices = products.prices_in(book)
    data = request.POST if request.method == "POST" else None
    if data is None and request.GET.get("product"):
        # The product was just chosen: fill in its price from the book (htmx re-renders the form).
        data = request.GET.copy()
        entry = prices.get(int(data["product"])) if data["product"].isdigit() else None
        if entry is not None:
            data["list_price"] = str(entry.unit_price)
        form = LineItemForm(data, instance=line, prices=prices, auto_id=_fresh_ids())
        form.errors.clear()  # a choice, not a submission: no error messages yet
        return _line_form_response(request, opportunity, form, line)
    form = LineItemForm(data, instance=line, prices=prices, auto_id=_fresh_ids(),
                        initial=None if line.pk else {"quantity": 1, "discount_percent": 0})
    if request.method == "POST" and form.is_valid():
        try:
            line_items.line_item_save(actor=request.user, opportunity=opportunity, line=form.instance)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            return _done(request, opportunity, _("Line saved. The amount is now the sum of the lines."))
    return _line_form_response(request, opportunity, form, line)


@login_required
@require_POST
def line_remove(request, pk, line_pk):
    opportunity = _opportunity_for_lines(request, pk)
    line = get_object_or_404(LineItem, pk=line_pk, opportunity=opportunity)
    try:
        line_items.line_item_remove(actor=request.user, opportunity=opportunity, line=line)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("opportunities:detail", pk=opportunity.pk)
    return _done(request, opportunity, _("Line removed."))


@login_required
@require_POST
def line_price_book(request, pk):
    opportunity = _opportunity_for_lines(request, pk)
    raw = request.POST.get("price_book") or ""
    book = get_object_or_404(PriceBook, pk=raw, is_active=True) if raw.isdigit() else None
    try:
        line_items.opportunity_set_price_book(actor=request.user, opportunity=opportunity, book=book)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("opportunities:detail", pk=opportunity.pk)
    return _done(request, opportunity, _("Price book changed. New lines take their prices from it."))
