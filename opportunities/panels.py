"""What the opportunities app shows on other records' pages: an account's and a contact's opportunities."""
from __future__ import annotations

from django.utils.translation import gettext as _

COLUMNS = ["name", "stage", "amount", "close_date", "owner"]


def _table(request, filter_name: str, record):
    from crm.lists.related import related_table
    from opportunities.models import Opportunity

    table = related_table(user=request.user, record_type="opportunities.opportunity",
                          queryset=Opportunity.objects.filter(**{filter_name: record}).order_by("close_date", "id"),
                          columns=COLUMNS, list_query=f"{filter_name}={record.pk}")
    return None if table is None else {"table": table, "title": _("Opportunities"), "empty": _("No opportunities yet.")}


def account_opportunities(request, account):
    return _table(request, "account", account)


def contact_opportunities(request, contact):
    return _table(request, "contact", contact)


# --- the merged (360°) timeline: stage changes as items ---------------------------------------------------------

def stage_change_items(*, user, targets, kinds, who, cursor, limit) -> list:
    """The stage changes of the opportunities a timeline covers, written as timeline items (one query). Amounts
    and stages follow field-level security."""
    from html import escape

    from crm.access.fls import hidden_fields
    from crm.activities.merged import Item
    from crm.core.cached_relations import attach
    from crm.core.formatting import date_formatter, format_money, format_percent
    from opportunities.selectors import stage_changes_for_timeline

    ids = targets.ids("opportunities.opportunity")
    hidden = hidden_fields(user, "opportunities.opportunity")
    if not ids or "stage" in hidden or (kinds and "stage_change" not in kinds):
        return []
    changes = stage_changes_for_timeline(opportunity_ids=ids, actor_id=who, limit=limit,
                                         before=cursor.after("stage_changes", "created_at") if cursor else None)
    attach(changes, "actor")
    stamp = date_formatter(with_time=True)
    label = _("Stage")
    items = []
    for change in changes:
        to = escape(str(change.to_stage))
        stages = f"{escape(str(change.from_stage))} → {to}" if change.from_stage_id else to
        when = escape(stamp(change.created_at)) + (f" · {escape(str(change.actor))}" if change.actor else "")
        facts = []
        if change.amount is not None and "amount" not in hidden:
            facts.append(escape(format_money(change.amount, change.opportunity.currency)))
        if "probability" not in hidden:
            facts.append(escape(format_percent(change.probability)))
        badge = {"won": "text-bg-success", "lost": "text-bg-danger"}.get(change.to_stage.outcome)
        if badge:  # the deal closed
            stages = f'<span class="badge {badge}">{stages}</span>'
        html = (f'<li data-kind="stage_change">\n    <div class="d-flex justify-content-between flex-wrap gap-1">\n'
                f'      <strong><i class="bi bi-signpost-split" aria-hidden="true"></i>\n'
                f'        {escape(label)}: {stages}</strong>\n      <small class="text-muted">{when}</small>\n    </div>\n')
        if facts:
            html += f'    <small class="text-muted"><bdi dir="ltr">{" · ".join(facts)}</bdi></small>\n'
        html += targets.about("opportunities.opportunity", change.opportunity_id) + "  </li>\n"
        items.append(Item(change.created_at, "stage_changes", change.pk, html))
    return items


# --- account hierarchy roll-ups ------------------------------------------------------------------------------------

def _amounts(user, account_ids, outcome: str):
    """None (left out) when the user may not see opportunities or their amounts."""
    from crm.access.fls import hidden_fields
    from opportunities.selectors import amounts_by_account

    if not user.can("opportunities.opportunity", "view") or "amount" in hidden_fields(user, "opportunities.opportunity"):
        return None
    return amounts_by_account(user=user, account_ids=account_ids, outcome=outcome)


def open_pipeline(*, user, account_ids):
    return _amounts(user, account_ids, "open")


def won_revenue(*, user, account_ids):
    return _amounts(user, account_ids, "won")
