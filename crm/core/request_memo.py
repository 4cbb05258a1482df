"""Values worked out once per request (the user dropdown a list page shows twice, say), never longer:
a saved change shows on the next request. Outside a request (a task, a shell) nothing is kept."""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_store: contextvars.ContextVar[dict | None] = contextvars.ContextVar("crm_request_memo", default=None)


def memo(key: Hashable, compute: Callable[[], T]) -> T:
    store = _store.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


@contextmanager
def request_scope():
    token = _store.set({})
    try:
        yield
    finally:
        _store.reset(token)


def forget(key: Hashable) -> None:
    store = _store.get()
    if store is not None:
        store.pop(key, None)
