"""Measure page latency with gunicorn (2 workers) against the configured database.

    python bench/run.py [--requests 50] [--rep EMAIL] [--manager EMAIL]

Signs in as a rep (private sharing) and a manager, requests each page N times
after a warm-up, and writes bench/results/<time>.json plus a Markdown table.
Benchmarks are not tests: run them on a quiet machine after `seed_scale`."""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PAGES = [
    ("home", "/"),
    ("search", "/search/?q=virtanen"),
    ("notifications", "/notifications/"),
    ("leads list", "/leads/"),
    ("leads search", "/leads/?q=virtanen"),
    ("leads my open", "/leads/?mine=1&open=1"),
    ("leads filtered by country, best score first", "/leads/?country=FI&score_min=50&sort=-score"),
    ("leads page 100", "/leads/?page=100"),
    ("leads list: its count, loaded after the page", "/leads/?count=1"),
    ("leads search: its count", "/leads/?q=virtanen&count=1"),
    ("leads filtered: its count", "/leads/?country=FI&score_min=50&sort=-score&count=1"),
    ("lead detail", "{lead}"),
    ("lead qualification tab", "{lead}?tab=qualification"),
    ("lead history tab", "{lead}?tab=history"),
    ("leads export CSV (my open)", "/leads/?mine=1&open=1&export=csv"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Session:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def login(self, email: str, password: str) -> None:
        _, body = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        data = urllib.parse.urlencode({"username": email, "password": password, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + "/login/", data=data, headers={"Referer": self.base + "/login/"})
        with self.opener.open(request, timeout=30) as r:
            if "/login/" in r.geturl():
                raise SystemExit(f"could not sign in as {email}")


def measure(session: Session, path: str, n: int) -> dict:
    for _ in range(3):
        session.get(path)
    times, statuses = [], set()
    for _ in range(n):
        start = time.perf_counter()
        status, _ = session.get(path)
        times.append((time.perf_counter() - start) * 1000)
        statuses.add(status)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "status": sorted(statuses)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rep", default="bench-rep0-0@bench.local")
    parser.add_argument("--manager", default="bench-manager0@bench.local")
    parser.add_argument("--password", default="bench-2026")
    args = parser.parse_args()

    port = free_port()
    static_root = tempfile.mkdtemp(prefix="crm-bench-static-")
    env = dict(os.environ, DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1",
               SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", SECURE_HSTS_SECONDS="0", STATIC_ROOT=static_root)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "crm.wsgi:application", "--workers", "2",
                              "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=BASE_DIR, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        results = {}
        for who, email in (("rep", args.rep), ("manager", args.manager)):
            session = Session(base)
            session.login(email, args.password)
            _, listing = session.get("/leads/")
            lead = re.search(rb'href="(/leads/\d+/)"', listing).group(1).decode()
            for name, path in PAGES:
                path = path.format(lead=lead)
                results[f"{who} {name}"] = {"path": path, **measure(session, path, args.requests)}
    finally:
        server.terminate()
        server.wait(10)

    out = BASE_DIR / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    lines = ["| page | path | median ms | p95 ms | status |", "|---|---|---|---|---|"]
    lines += [f"| {k} | `{v['path']}` | {v['median_ms']} | {v['p95_ms']} | {v['status']} |" for k, v in results.items()]
    table = "\n".join(lines)
    (out / f"{stamp}.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
