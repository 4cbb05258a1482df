"""A fixed-window rate limit in Redis, for public forms and sign-in."""
from django.core.cache import cache

UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """"10/1m" -> (10, 60)."""
    count, period = rate.split("/")
    number = int(period[:-1] or 1)
    return int(count), number * UNITS[period[-1]]


def hit(key: str, rate: str) -> bool:
    """Count one hit; True while within the limit. The window opens at the
    first hit and closes `window` seconds later (no clock-aligned boundary
    that would let a burst through twice)."""
    limit, window = parse_rate(rate)
    bucket = f"rl:{key}"
    if cache.add(bucket, 1, timeout=window):
        return True
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window)
        return True


def exceeded(key: str, rate: str) -> bool:
    """Whether `key` has already used up `rate`, without counting a hit: for limits
    that count only failures, checked before an attempt and hit() after one fails."""
    limit, _window = parse_rate(rate)
    return (cache.get(f"rl:{key}") or 0) >= limit
