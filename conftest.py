"""Fixtures every test shares."""
import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (only this process's keys: the key
    prefix is per test process, so parallel workers never touch each other)."""
    from django.core.cache import cache

    cache.delete_pattern("*")
    yield
