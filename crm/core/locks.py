"""Record locks: a reason a record may not be edited now (an approval waiting on it), registered by the app
that locks, checked by every path that writes (forms, inline edit, the board, imports, bulk actions).

`register_lock(check)` takes `check(record, user) -> str | None`, the user-facing reason or None. The
automation app's approval processes will register theirs; until then no record is locked."""
from __future__ import annotations

from typing import Callable

_checks: list[Callable] = []


def register_lock(check: Callable) -> None:
    if check not in _checks:
        _checks.append(check)


def lock_reason(record, user) -> str | None:
    """Why `user` may not edit `record` now, or None."""
    for check in _checks:
        reason = check(record, user)
        if reason:
            return str(reason)
    return None
