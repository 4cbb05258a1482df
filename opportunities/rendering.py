"""The board's cards written in Python: a manager's board shows hundreds of them, and a template loop with a
form per card cost most of the page's time (as accounts/rendering.py found for the field list). The markup is
what templates/opportunities/board.html documents for a card; every value is escaped here."""
from __future__ import annotations

from html import escape

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.core.formatting import date_formatter, format_money, localize_digits


def cards_html(request, cards, *, hidden: set[str], can_move: bool, stage_options: str) -> SafeString:
    """The <li> of each card (opportunities.board.Card): name (a link), account, amount in its own currency, close date, owner, days in
    stage and, for a user who may move it, the "Move to" form (the keyboard's way, and the page's without
    JavaScript)."""
    date = date_formatter()
    detail = reverse("opportunities:detail", args=[0]).removesuffix("0/")
    move = reverse("opportunities:board_move", args=[0]).removesuffix("0/move/")
    token = escape(get_token(request)) if can_move else ""
    move_label = _("Move “%(name)s” to")
    move_button = escape(_("Move"))
    show = {name: name not in hidden for name in ("account", "amount", "close_date", "owner")}
    # The texts many cards share (a close date, an owner, days in stage, an amount), worked out once per board:
    # each costs a language lookup or two, and a manager's board writes hundreds of cards.
    dates: dict = {}
    owners: dict = {}
    days_texts: dict = {}
    amounts: dict = {}
    parts = []
    for card in cards:
        pk = card.pk
        move_url = f"{move}{pk}/move/"
        amount_attr = ""
        if show["amount"]:
            amount_attr = f' data-amount-corporate="{card.amount_corporate if card.amount_corporate is not None else ""}"'
        parts.append(f'<li class="card board-card mb-2" data-card="{pk}" data-move-url="{move_url}"{amount_attr}>'
                     f'<div class="card-body p-2 small">'
                     f'<a class="fw-semibold d-block text-break" href="{detail}{pk}/">{escape(card.name)}</a>')
        if show["account"] and card.account_id:
            parts.append(f'<div class="text-muted text-truncate"><i class="bi bi-building" aria-hidden="true"></i> '
                         f'{escape(card.account_name or "")}</div>')
        parts.append('<div class="d-flex flex-wrap justify-content-between gap-1">')
        if show["amount"] and card.amount is not None:
            key = (card.amount, card.currency)
            amount = amounts.get(key)
            if amount is None:
                amount = amounts[key] = escape(format_money(card.amount, card.currency))
            parts.append(f'<span data-card-amount><bdi dir="ltr">{amount}</bdi></span>')
        if show["close_date"] and card.close_date:
            close = dates.get(card.close_date)
            if close is None:
                close = dates[card.close_date] = escape(date(card.close_date))
            parts.append(f'<span class="text-muted"><i class="bi bi-calendar" aria-hidden="true"></i> {close}</span>')
        parts.append('</div><div class="d-flex flex-wrap justify-content-between gap-1 text-muted">')
        if show["owner"] and card.owner_id:
            owner = owners.get(card.owner_id)
            if owner is None:
                owner = owners[card.owner_id] = escape(card.owner_name)
            parts.append(f'<span><i class="bi bi-person" aria-hidden="true"></i> {owner}</span>')
        days = card.days_in_stage
        days_text = days_texts.get(days)
        if days_text is None:
            days_text = days_texts[days] = escape(
                ngettext("%(n)s day in stage", "%(n)s days in stage", days) % {"n": localize_digits(str(days))})
        parts.append(f'<span data-days-in-stage>{days_text}</span></div>')
        if can_move:
            parts.append(f'<form class="d-flex gap-1 mt-1" method="post" action="{move_url}" hx-post="{move_url}" '
                         f'hx-target="#board" hx-swap="outerHTML" hx-include="#board-filters" data-move-form>'
                         f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                         f'<label class="visually-hidden" for="move-{pk}">{escape(move_label % {"name": card.name})}'
                         f'</label><select class="form-select form-select-sm" name="stage" id="move-{pk}" '
                         f'data-move-select>{stage_options}</select>'
                         f'<button class="btn btn-outline-secondary btn-sm" type="submit">{move_button}</button></form>')
        parts.append("</div></li>")
    return mark_safe("".join(parts))
