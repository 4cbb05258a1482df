"""The embedded quick-start stack: PostgreSQL and Redis without installing
either, used when DATABASE_URL / REDIS_URL are unset."""
from __future__ import annotations

import os
import socket
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_services(environ=os.environ) -> None:
    """Fill DATABASE_URL / REDIS_URL: local servers when they answer, else embedded ones."""
    if "DATABASE_URL" not in environ:
        if port_open("127.0.0.1", 5432):
            environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/crm"
        else:
            environ["DATABASE_URL"] = start_embedded_postgres()
    if "REDIS_URL" not in environ:
        if port_open("127.0.0.1", 6379):
            environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"
        else:
            environ["REDIS_URL"] = start_embedded_redis()


def start_embedded_postgres() -> str:
    raise NotImplementedError("embedded PostgreSQL: see crm/devstack.py")


def start_embedded_redis() -> str:
    raise NotImplementedError("embedded Redis: see crm/devstack.py")
