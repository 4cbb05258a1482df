"""An opportunity's line items: the products panel of its page, and the writes that add, change and remove lines.

Lines are in the opportunity's currency, priced from its price book (its own, else the standard book of its
currency). Every change recalculates the amount as the sum of the line totals through `opportunity_update`, so
the events, the stage history's amounts and the corporate-currency trigger follow; an opportunity without lines
keeps the amount typed on it. Locked records (an approval waiting) refuse line changes as they refuse edits."""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from opportunities.models import LineItem, Opportunity, PriceBook

RT = "opportunities.opportunity"


# --- writes ---------------------------------------------------------------------------------------------------

def _locked(opportunity: Opportunity) -> Opportunity:
    """The opportunity's row, locked for this transaction so two line edits never add up a stale sum."""
    return Opportunity.objects.select_for_update(of=("self",)).select_related("stage").get(pk=opportunity.pk)


@transaction.atomic
def recalculate_amount(*, actor, opportunity: Opportunity) -> Opportunity:
    """amount = the sum of the line totals (left as typed when there are no lines), saved through
    `opportunity_update`."""
    from opportunities.services import opportunity_update, snapshot

    opportunity = _locked(opportunity)
    lines = opportunity.line_items.aggregate(total=Sum("total"), count=Max("id"))
    if lines["count"] is None:
        return opportunity
    before = snapshot(opportunity)
    opportunity.amount = lines["total"] or Decimal(0)
    if opportunity.amount != before["amount"]:
        opportunity_update(actor=actor, opportunity=opportunity, before=before)
    return opportunity


@transaction.atomic
def line_item_save(*, actor, opportunity: Opportunity, line: LineItem) -> Opportunity:
    """Add or change one line (a bound LineItemForm's instance) and recalculate the amount."""
    from opportunities.services import check_unlocked

    opportunity = _locked(opportunity)
    check_unlocked(opportunity, actor)
    line.opportunity = opportunity
    if line.product_id and not line.name:
        line.name = line.product.name[:200]
    if line.pk is None:
        line.order = (opportunity.line_items.aggregate(m=Max("order"))["m"] or 0) + 1
    line.full_clean()
    line.save()
    return recalculate_amount(actor=actor, opportunity=opportunity)


@transaction.atomic
def line_item_remove(*, actor, opportunity: Opportunity, line: LineItem) -> Opportunity:
    """Remove a line; the amount becomes the sum of the remaining lines (the last line's removal leaves the
    amount as it stood)."""
    from opportunities.services import check_unlocked

    opportunity = _locked(opportunity)
    check_unlocked(opportunity, actor)
    line.delete()
    return recalculate_amount(actor=actor, opportunity=opportunity)


def price_book_problem(opportunity: Opportunity, book: PriceBook | None) -> str | None:
    """Why `book` cannot be the opportunity's price book (None when it can)."""
    if book is not None and book.currency.upper() != (opportunity.currency or "").upper():
        return _("The price book is in %(book)s but the opportunity is in %(currency)s; choose a book in "
                 "%(currency)s.") % {"book": book.currency, "currency": opportunity.currency}
    return None


def currency_change_problem(opportunity: Opportunity, currency: str) -> str | None:
    """Why the opportunity's currency may not change to `currency` now: its lines are priced in the old one."""
    if (currency or "").upper() != (opportunity.currency or "").upper() and opportunity.pk \
            and opportunity.line_items.exists():
        return _("This opportunity has line items priced in %(currency)s; remove them before changing its "
                 "currency.") % {"currency": opportunity.currency}
    return None


@transaction.atomic
def opportunity_set_price_book(*, actor, opportunity: Opportunity, book: PriceBook | None) -> Opportunity:
    from opportunities.services import opportunity_update, snapshot

    opportunity = _locked(opportunity)
    problem = price_book_problem(opportunity, book)
    if problem:
        raise ValidationError({"price_book": problem})
    before = snapshot(opportunity)
    opportunity.price_book = book
    return opportunity_update(actor=actor, opportunity=opportunity, before=before)


def can_edit_opportunity(user, opportunity: Opportunity) -> bool:
    """May `user` edit `opportunity` (profile right and visibility)? Worked out once per request, so the
    panels of one page share it."""
    from opportunities.views import _editable

    return _editable(user, opportunity.pk)


# --- the panel on the opportunity's page ----------------------------------------------------------------------

def panel_context(request, opportunity: Opportunity) -> dict | None:
    """The "Products" panel: its lines, totals and whether the reader may change them. Left out for readers
    from whom the amount is hidden (the lines would give it away)."""
    from crm.access.fls import hidden_fields
    from crm.core.locks import lock_reason
    from opportunities.products import book_for

    user = request.user
    if "amount" in hidden_fields(user, RT):
        return None
    lines = list(opportunity.line_items.select_related("product").order_by("order", "id"))
    can_edit = can_edit_opportunity(user, opportunity)
    locked = lock_reason(opportunity, user) if can_edit else None
    books = []
    if can_edit and not locked:
        # One query for the selector's books and the book in use (the opportunity's, else the standard one).
        books = list(PriceBook.objects.filter(currency=(opportunity.currency or "").upper(), is_active=True))
        book = (next((b for b in books if b.pk == opportunity.price_book_id), None)
                or next((b for b in books if b.is_standard), None))
    else:
        book = book_for(opportunity)
    from opportunities.currency import corporate_currency, format_corporate

    corporate = corporate_currency()
    foreign = (opportunity.currency or "").upper() != corporate
    return {
        "corporate": corporate,
        "corporate_amount": format_corporate(opportunity.amount_corporate) if foreign and lines else "",
        "lines": lines,
        "lines_total": sum((line.total for line in lines), Decimal(0)),
        "book": book,
        "books": books,
        "can_edit_lines": can_edit and not locked,
        "lock_reason": locked,
        "opportunity": opportunity,
    }


def amount_follows_lines(opportunity: Opportunity) -> bool:
    """True when the amount is the sum of line items (forms should show it read-only then)."""
    return bool(opportunity.pk) and opportunity.line_items.exists()
