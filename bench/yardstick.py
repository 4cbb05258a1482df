"""The yardstick: a fixed pure-Python loop whose time says how fast this machine runs Python right now.
bench/speed.py and bench/profiling.py give page times as multiples of it, which survive the machine's drift."""
from __future__ import annotations

import time

LOOPS = 300_000


def yardstick() -> float:
    """Milliseconds for `s += i * i % 7`, LOOPS times."""
    start = time.perf_counter()
    s = 0
    for i in range(LOOPS):
        s += i * i % 7
    return (time.perf_counter() - start) * 1000
