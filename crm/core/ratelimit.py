"""A fixed-window rate limit in Redis, for public forms and sign-in."""
import time

from django.core.cache import cache

UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """"10/1m" -> (10, 60)."""
    count, period = rate.split("/")
    number = int(period[:-1] or 1)
    return int(count), number * UNITS[period[-1]]


def hit(key: str, rate: str) -> bool:
    """Count one hit; True while within the limit."""
    limit, window = parse_rate(rate)
    bucket = f"rl:{key}:{int(time.time() // window)}"
    if cache.add(bucket, 1, timeout=window + 1):
        return True
    return cache.incr(bucket) <= limit
