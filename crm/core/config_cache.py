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


_keys: list[str] = []  # every cache's token key: a request reads them all in one round trip


def _versions() -> dict[str, str]:
    found = cache.get_many(_keys)
    for key in _keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, None)  # another process may have set it first: theirs wins
            found[key] = cache.get(key)
    return found


class ConfigCache:
    def __init__(self, name: str, *, size: int = 2000):
        self.key, self.size = f"config-version:{name}", size
        self._local: dict = {}
        _keys.append(self.key)

    def version(self) -> str:
        # A random token, not a counter: a cleared Redis must never bring back an old version.
        return memo("config-versions", _versions)[self.key]

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
        forget("config-versions")  # this request sees its own change
        transaction.on_commit(bump, robust=True)
