"""Record locks: a reason a record may not be edited now (an approval waiting on it), registered by the app
that locks, checked by every path that writes (forms, inline edit, the board, imports, bulk actions).

`register_lock(check)` takes `check(record, user) -> str | None`, the user-facing reason or None: the paths
that change one record ask it. `register_locked_filter(fn)` takes `fn(model) -> Q | None`, the records of
`model` locked for every set-wise write (imports, bulk actions, merge); `locked_q(rt)` combines those with
the record type's own `locked` (a converted lead). The automation app's approval processes register both."""
from __future__ import annotations

from typing import Callable

from django.db.models import Q

_checks: list[Callable] = []
_filters: list[Callable] = []


def register_lock(check: Callable) -> None:
    if check not in _checks:
        _checks.append(check)


def register_locked_filter(fn: Callable) -> None:
    if fn not in _filters:
        _filters.append(fn)


def lock_reason(record, user) -> str | None:
    """Why `user` may not edit `record` now, or None."""
    for check in _checks:
        reason = check(record, user)
        if reason:
            return str(reason)
    return None


def locked_q(rt) -> Q | None:
    """The records of record type `rt` that no set-wise write may change, or None when none can be."""
    parts = [rt.locked()] if rt.locked is not None else []
    parts += [q for q in (fn(rt.model) for fn in _filters) if q is not None]
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def locked_ids(rt, ids) -> set[int]:
    """Which of `ids` (records of `rt`) are locked."""
    q = locked_q(rt)
    if q is None or not ids:
        return set()
    return set(rt.model._base_manager.filter(pk__in=list(ids)).filter(q).values_list("pk", flat=True))
