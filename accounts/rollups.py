"""What an account hierarchy adds up, contributed by the apps that own the numbers: opportunities register the
open pipeline and won revenue, support will register open tickets, all without changing this app.

    register_rollup("open_tickets", _("Open tickets"), open_tickets, kind="count", order=30)

`compute(user=, account_ids=)` returns {account id: {unit: number}}: for kind "money" the unit is a currency
code (amounts stay in their own currencies), for "count" it is "". Only what `user` may see is counted; None
leaves the roll-up out (the user may not see that type, or the field it adds up)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Rollup:
    key: str
    label: Any
    compute: Callable[..., dict]
    kind: str = "count"  # "money" or "count"
    order: int = 100


_rollups: dict[str, Rollup] = {}


def register_rollup(key: str, label, compute: Callable, *, kind: str = "count", order: int = 100) -> None:
    if kind not in ("money", "count"):
        raise ValueError(kind)
    _rollups[key] = Rollup(key, label, compute, kind, order)


def rollups() -> list[Rollup]:
    return sorted(_rollups.values(), key=lambda r: (r.order, r.key))


@dataclass
class RollupRow:
    key: str
    label: str
    own: SafeString  # the account alone
    total: SafeString  # the account and its subsidiaries


def _add(parts: list[dict]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for part in parts:
        for unit, value in part.items():
            total[unit] = total.get(unit, Decimal(0)) + Decimal(value)
    return total


def _format(kind: str, amounts: dict[str, Decimal]) -> SafeString:
    from crm.core.formatting import format_money, format_number, ltr

    if kind == "count":
        return ltr(format_number(sum(amounts.values(), Decimal(0))))
    if not amounts:
        return ltr(format_money(0))
    # One amount per currency, largest first: without exchange rates they are not added together.
    return mark_safe(" + ".join(str(ltr(format_money(value, unit)))
                                for unit, value in sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))))


def rollup_rows(*, user, account_id: int, subtree_ids: list[int]) -> list[RollupRow]:
    """Each roll-up for the account alone and with its subsidiaries (one query per roll-up)."""
    rows = []
    for rollup in rollups():
        found = rollup.compute(user=user, account_ids=subtree_ids)
        if found is None:
            continue
        rows.append(RollupRow(rollup.key, str(rollup.label), _format(rollup.kind, found.get(account_id, {})),
                              _format(rollup.kind, _add(list(found.values())))))
    return rows
