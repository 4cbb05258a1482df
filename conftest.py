"""Fixtures every test shares."""
import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (only this process's keys: the key
    prefix is per test process, so parallel workers never touch each other)."""
    from django.core.cache import cache

    cache.delete_pattern("*")
    yield


@pytest.fixture(autouse=True)
def _reference_rows(request):
    """Tests on the shared test database find the rows migrations seed (content types, picklists, the
    default pipeline) even when a transactional test ran earlier in this process: its flush empties every
    table, and Django restores the serialized rows only for tests that ask for serialized rollback."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction"))
    if transactional or not (marker or "db" in request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents and not ContentType.objects.exists():
        connection.creation.deserialize_db_from_string(contents)  # inside the test's transaction
        ContentType.objects.clear_cache()


@pytest.fixture
def reps(db):
    """Two reps under one manager, with every right on every record type, and leads, accounts, contacts and
    opportunities private: a rep sees only their own records, the manager both reps'."""
    from crm.access.models import Access
    from crm.access.tests.factories import ProfileFactory, RoleFactory, UserFactory, set_org_default

    for record_type in ("leads.lead", "accounts.account", "accounts.contact", "opportunities.opportunity"):
        set_org_default(record_type, Access.PRIVATE)
    manager_role = RoleFactory(name="Sales manager")
    rep_role = RoleFactory(name="Sales rep", parent=manager_role)
    profile = ProfileFactory()
    return (UserFactory(role=rep_role, profile=profile, email="rep@example.com"),
            UserFactory(role=rep_role, profile=profile, email="other@example.com"),
            UserFactory(role=manager_role, profile=profile, email="manager@example.com"))


def row_names(response) -> list[str]:
    """The records a list page rendered, as text (the views put (record, values) pairs in `rows`)."""
    return [str(record) for record, _ in response.context["rows"]]


def _database_url() -> str:
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres") + (":" + quote(s["PASSWORD"]) if s.get("PASSWORD") else "")
    host = s.get("HOST") or ""
    if host.startswith("/"):
        return f"postgres://{auth}@/{s['NAME']}?host={quote(host, safe='')}"
    return f"postgres://{auth}@{host or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def start_worker(**extra_env):
    """A real Celery worker process on this test process's queue and test database (extra settings through
    the environment). The caller stops it."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT), **extra_env}
    queue = os.environ["CELERY_QUEUE"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo", "-Q", queue, "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}-{len(extra_env)}@%h"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def stop_worker(proc) -> None:
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def celery_worker(transactional_db, django_db_serialized_rollback):
    """A real Celery worker process on this test process's queue and test database.
    Tasks queued by the code under test are executed by it, after commit, as in production.
    (Serialized rollback: the flush after a transactional test must not lose the rows migrations seed,
    such as picklists and the default pipeline, for the tests that follow.)"""
    from crm.celery import app

    app.control.purge()
    proc = start_worker()
    yield proc
    stop_worker(proc)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll until `predicate()` is truthy (work done by another process); fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
