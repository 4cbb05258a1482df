"""An event subscriber for the crash test (crm/core/tests/test_events_crash.py): it writes one row per event it
handles, in the delivery's transaction, into a table without a unique key, so a repeat would show as a duplicate.
Workers load it through EVENT_SUBSCRIBER_MODULES."""
import time

from django.db import connection

TABLE = "test_event_probe"


def create_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (event_id bigint NOT NULL)")
        cursor.execute(f"TRUNCATE {TABLE}")


def rows() -> tuple[int, int]:
    """(rows written, distinct events among them)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT event_id) FROM {TABLE}")
        return cursor.fetchone()


def handler(event) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (event_id) VALUES (%s)", [event.pk])
    time.sleep(0.003)  # long enough for the kill to land inside a delivery


def register() -> None:
    from crm.core.events import subscribe

    subscribe("probe.*", handler, name="probe")
