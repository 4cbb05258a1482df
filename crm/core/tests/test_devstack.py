"""`make run` creates the database it needs on a PostgreSQL of one's own (crm/devstack.py ensure_database).

These tests talk to the test database's server with plain psycopg connections, outside pytest-django's
test database, so they carry no django_db mark; each database they create is dropped again."""
import os
import uuid
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from crm import devstack


def _server() -> dict:
    """Connection parameters of the server the test database lives on."""
    from django.db import connection

    s = connection.settings_dict
    host = (s.get("OPTIONS") or {}).get("host") or s.get("HOST") or "127.0.0.1"
    return {"host": host, "port": s.get("PORT") or 5432, "user": s.get("USER") or "postgres",
            "password": s.get("PASSWORD") or None}


def _url(name: str, server: dict, *, password: str | None = None) -> str:
    """A DATABASE_URL in the forms `make run` meets (built as conftest.py's _database_url does)."""
    auth = quote(server["user"]) + (":" + quote(password, safe="") if password else "")
    if server["host"].startswith("/"):
        return f"postgres://{auth}@/{quote(name)}?host={quote(server['host'], safe='')}"
    return f"postgres://{auth}@{server['host']}:{server['port']}/{quote(name)}"


def _admin(server: dict):
    return psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **server)


def _exists(server: dict, name: str) -> bool:
    with _admin(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


@pytest.fixture
def missing_database():
    """A database name nobody has (upper case and a hyphen: it must be quoted), dropped after the test."""
    server = _server()
    name = f"crm-Devstack-{uuid.uuid4().hex[:10]}"
    assert not _exists(server, name)
    try:
        yield server, name
    finally:
        with _admin(server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_missing_database_is_created_and_a_second_call_is_harmless(missing_database, capsys):
    server, name = missing_database

    assert devstack.ensure_database(_url(name, server)) is True
    assert _exists(server, name)
    assert devstack.ensure_database(_url(name, server)) is True

    out = capsys.readouterr().out
    assert out.count(f'created database "{name}"') == 1


def test_a_url_with_a_password_and_a_port(missing_database):
    server, name = missing_database
    if server["host"].startswith("/"):
        pytest.skip("the test database's server listens on a socket only")
    # The server trusts local connections, so any password is accepted; what matters is that the
    # user:password@host:port form is understood (a password with URL-quoted characters included).
    url = f"postgres://{quote(server['user'])}:{quote('s3cr@t/pw', safe='')}@{server['host']}:{server['port']}/{name}"

    assert devstack.ensure_database(url) is True
    assert _exists(server, name)


def test_a_socket_directory_given_as_host_option(missing_database):
    server, name = missing_database
    socket_dir = "/var/run/postgresql"
    if not os.path.exists(f"{socket_dir}/.s.PGSQL.{server['port']}"):
        pytest.skip("no local socket for the test database's server")
    url = f"postgres://{quote(server['user'])}@/{name}?host={quote(socket_dir, safe='')}"

    assert devstack.ensure_database(url) is True
    assert _exists(server, name)


def test_an_unreachable_server_is_reported_and_left_to_migrate():
    url = f"postgres://postgres@127.0.0.1:{devstack.free_port()}/crm"

    assert devstack.ensure_database(url) is False


def test_the_message_says_what_to_do(capsys):
    devstack.ensure_database(f"postgres://postgres@127.0.0.1:{devstack.free_port()}/crm_nowhere")

    err = capsys.readouterr().err
    assert 'could not make sure database "crm_nowhere" exists' in err and "createdb crm_nowhere" in err


def test_run_makes_sure_of_the_database_before_migrating(monkeypatch, tmp_path):
    calls = []

    class Stop(Exception):
        pass

    def manage(env, *args):
        calls.append(("manage", args[0]))
        raise Stop

    monkeypatch.setattr(devstack, "VAR_DIR", tmp_path)
    monkeypatch.setattr(devstack, "ensure_dotenv", lambda: None)
    monkeypatch.setattr(devstack, "ensure_services", lambda env: env.update(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/crm_given", REDIS_URL="redis://127.0.0.1:6379/0"))
    monkeypatch.setattr(devstack, "ensure_database", lambda url: calls.append(("ensure_database", url)))
    monkeypatch.setattr(devstack, "_manage", manage)

    with pytest.raises(Stop):
        devstack.run()

    assert calls == [("ensure_database", "postgres://postgres@127.0.0.1:5432/crm_given"), ("manage", "migrate")]


def test_a_user_without_the_right_to_create_is_reported(missing_database, capsys):
    server, name = missing_database
    role = f"crm_nocreate_{uuid.uuid4().hex[:10]}"
    with _admin(server) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB").format(sql.Identifier(role)))
    try:
        assert devstack.ensure_database(_url(name, {**server, "user": role})) is False
        assert not _exists(server, name)
        assert "permission denied to create database" in capsys.readouterr().err
    finally:
        with _admin(server) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
