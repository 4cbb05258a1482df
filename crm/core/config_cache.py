"""Values derived from what admins configure (permissions, sharing rules, custom fields, picklists), kept in
each process and valid while a version token in Redis stays the same. The services that change the
configuration call `changed()`, at once and again after their transaction commits, so every process sees a
saved change on its next request; a request reads the token once."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable

from django.core.cache import cache
from django.db import transaction

from crm.core.request_memo import forget, memo


class ConfigCache:
    def __init__(self, name: str, *, size: int = 2000):
        self.key, self.size = f"config-version:{name}", size
        self._local: dict = {}

    def version(self) -> str:
        # A random token, not a counter: a cleared Redis must never bring back an old version.
        return memo(("config-version", self.key), lambda: cache.get_or_set(self.key, lambda: uuid.uuid4().hex, None))

    def get(self, key: Hashable, compute: Callable):
        entry = (self.version(), key)
        try:
            return self._local[entry]
        except KeyError:
            if len(self._local) >= self.size:
                self._local.clear()
            value = self._local[entry] = compute()
            return value

    def changed(self) -> None:
        def bump():
            cache.set(self.key, uuid.uuid4().hex, None)

        bump()
        forget(("config-version", self.key))  # this request sees its own change
        transaction.on_commit(bump, robust=True)
