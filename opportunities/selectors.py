"""Reads of opportunities other apps use, always through visibility: the opportunities a record's merged timeline
covers, their stage changes as timeline items, and the amounts an account hierarchy rolls up."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum

from opportunities.models import Opportunity, Stage, StageChange

TIMELINE_RELATED_LIMIT = 2000


def opportunity_labels(*, user, account_ids=(), contact_ids=(), limit: int = TIMELINE_RELATED_LIMIT) -> dict[int, str]:
    """{id: name} of the opportunities of these accounts or contacts that `user` may open (newest first)."""
    condition = Q(pk__in=[])
    if account_ids:
        condition |= Q(account_id__in=list(account_ids))
    if contact_ids:
        condition |= Q(contact_id__in=list(contact_ids))
    rows = Opportunity.objects.visible_to(user).filter(condition).order_by("-pk").values_list("pk", "name")[:limit]
    return dict(rows)


def amounts_by_account(*, user, account_ids, outcome: str) -> dict[int, dict[str, Decimal]]:
    """{account id: {currency: total amount}} of the opportunities `user` may see on these accounts whose stage
    has `outcome` ("open": the pipeline, "won": won revenue). Amounts stay in their own currencies: the CRM keeps
    no exchange rates, so adding euros to dollars would be wrong. One grouped query for every outcome, once per
    request (an account page asks for the pipeline and the won revenue of the same accounts)."""
    from crm.core.request_memo import memo

    if outcome not in Stage.Outcome.values:
        raise ValueError(outcome)
    ids = tuple(sorted(set(account_ids)))
    return memo(("amounts_by_account", user.pk, ids), lambda: _amounts_by_outcome(user, ids)).get(outcome, {})


def _amounts_by_outcome(user, account_ids) -> dict[str, dict[int, dict[str, Decimal]]]:
    corporate = getattr(settings, "CORPORATE_CURRENCY", "EUR")
    rows = (Opportunity.objects.visible_to(user).filter(account_id__in=list(account_ids), amount__isnull=False)
            .order_by().values("stage__outcome", "account_id", "currency").annotate(total=Sum("amount")))
    result: dict[str, dict[int, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        by_account = result[row["stage__outcome"]][row["account_id"]]
        currency = (row["currency"] or corporate).upper()
        by_account[currency] = by_account.get(currency, Decimal(0)) + row["total"]
    return {outcome: dict(accounts) for outcome, accounts in result.items()}


def stage_changes_for_timeline(*, opportunity_ids, actor_id=None, before=None, limit: int) -> list[StageChange]:
    """The newest stage changes of these opportunities, newest first, with their stages, after a keyset
    condition `before` (a Q on created_at and id); one query."""
    qs = StageChange.objects.filter(opportunity_id__in=list(opportunity_ids)).select_related("from_stage", "to_stage",
                                                                                               "opportunity")
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    if before is not None:
        qs = qs.filter(before)
    return list(qs.only("id", "created_at", "amount", "probability", "actor_id", "opportunity__id",
                        "opportunity__currency", "from_stage__name", "from_stage__name_translations",
                        "to_stage__name", "to_stage__name_translations", "to_stage__outcome")
                .order_by("-created_at", "-id")[:limit])
