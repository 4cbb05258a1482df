"""The code versions a speed run measures (bench/speed.py): the current checkout and, with --compare, an
older commit in its own git worktree. Each version gets its own database (an older schema cannot share
one), its own Redis database and cache prefix, its own collected static files and its own gunicorn.

Databases are named crm_bench_<before|after>_<size> (crm_bench_after_1m; issue 9's dataset of accounts,
contacts and activities crm_bench_after_i9; issue 10's opportunities crm_bench_after_i10) and remember in their PostgreSQL comment what was seeded, so
--reuse can tell a finished seed from a half-done one."""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg

MAIN = Path(__file__).resolve().parent.parent
BENCH = MAIN / "bench"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PASSWORD = "bench-2026"
# Bumped when what a bench database holds changes, so --reuse reseeds instead of measuring other data.
SEED_FORMAT = 1
# One secret for every server of a run: sessions never cross databases anyway.
SECRET_KEY = secrets.token_urlsafe(50)


def size_label(leads: int) -> str:
    if leads % 1_000_000 == 0:
        return f"{leads // 1_000_000}m"
    if leads % 1_000 == 0:
        return f"{leads // 1_000}k"
    return str(leads)


# Issue 9's dataset (bench/speed.py --scale issue9): seed_scale writes the accounts, contacts, opportunities
# (one per account) and activities itself, set-wise, instead of bench/records.py's N/10 accounts.
ISSUE9 = {"leads": 100_000, "accounts": 200_000, "contacts": 500_000, "activities": 5_000_000}
# Issue 10's (--scale issue10): seed_scale's accounts and contacts (no activities, no opportunities of its own),
# then bench/scale_opportunities.py's 300,000 opportunities with their stage history, rates, quotas and snapshots.
ISSUE10 = {"leads": 100_000, "accounts": 30_000, "contacts": 60_000, "activities": 0, "opportunities": 300_000}


def database_label(leads: int, customers: dict | None) -> str:
    """_1m for leads alone (accounts from bench/records.py); i9 for issue 9's dataset; else every size."""
    if not customers:
        return size_label(leads)
    if dict(customers, leads=leads) == ISSUE9:
        return "i9"
    if dict(customers, leads=leads) == ISSUE10:
        return "i10"
    return (f"{size_label(leads)}_{size_label(customers['accounts'])}a_{size_label(customers['contacts'])}c_"
            f"{size_label(customers['activities'])}x"
            + (f"_{size_label(customers['opportunities'])}o" if customers.get("opportunities") else ""))


def git(*args: str, cwd: Path = MAIN) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Version:
    name: str  # "before" or "after"
    code: Path
    commit: str  # the commit; for the current checkout its HEAD, though it runs with the uncommitted edits too
    database: str
    redis_db: int
    static_root: Path = field(default=None)
    server: subprocess.Popen | None = None
    base: str = ""
    log_path: Path | None = None

    def env(self) -> dict[str, str]:
        redis = f"redis://127.0.0.1:6379/{self.redis_db}"
        return dict(
            os.environ, DEBUG="0", SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
            SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", SECURE_HSTS_SECONDS="0", STATIC_ROOT=str(self.static_root),
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{self.database}", REDIS_URL=redis,
            CELERY_BROKER_URL=redis, CACHE_KEY_PREFIX=f"bench-{self.name}", LOG_LEVEL="WARNING",
            PYTHONDONTWRITEBYTECODE="1")

    def manage(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=self.code, env=self.env(), check=True, **kwargs)


def versions(*, compare: str | None, leads: int, customers: dict | None = None) -> list[Version]:
    """The versions to measure, the older one first. Creates (or reuses) the older one's worktree."""
    size = database_label(leads, customers)
    after = Version("after", MAIN, git("rev-parse", "HEAD"), f"crm_bench_after_{size}", 15)
    if compare is None:
        found = [after]
    else:
        commit = git("rev-parse", "--verify", f"{compare}^{{commit}}")
        found = [Version("before", worktree(commit), commit, f"crm_bench_before_{size}", 14), after]
    for v in found:
        v.static_root = Path(f"/tmp/crm-bench-static-{v.name}")
    return found


def worktree(commit: str) -> Path:
    """A worktree of `commit` outside the main checkout, with the main checkout's vendored assets (not in git)."""
    path = Path(f"/tmp/crm-bench-{commit[:7]}")
    if not (path / "manage.py").exists():
        subprocess.run(["git", "-C", str(MAIN), "worktree", "prune"], check=True)
        git("worktree", "add", "--detach", str(path), commit)
    elif git("rev-parse", "HEAD", cwd=path) != commit:
        raise SystemExit(f"{path} is a worktree of another commit; remove it (git worktree remove {path})")
    vendor = path / "static" / "vendor"
    if not vendor.exists():
        vendor.symlink_to(MAIN / "static" / "vendor")
    return path


def _admin(sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def seeded_as(database: str) -> dict | None:
    rows = _admin("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (database,))
    if not rows:
        return None
    try:
        return json.loads(rows[0][0] or "null") or {}
    except ValueError:
        return {}


def prepare_database(v: Version, *, leads: int, users: int, reuse: bool, customers: dict | None = None,
                     log=print) -> None:
    """Migrate and seed the version's own database with its own seed_scale, unless --reuse finds it done.
    `customers` ({accounts, contacts, activities}): seed_scale writes those too, and bench/records.py is not run;
    with `opportunities` as well, seed_scale writes none (but the 360° account's five) and
    bench/scale_opportunities.py writes that many, with their history, rates, quotas and snapshots."""
    wanted = {"leads": leads, "users": users, "accounts": leads // 10, "format": SEED_FORMAT}
    if customers:
        wanted.update(customers)
    if v.name == "before":
        wanted["commit"] = v.commit
    found = seeded_as(v.database)
    if reuse and found is not None and all(found.get(k) == w for k, w in wanted.items()):
        log(f"{v.name}: reusing {v.database} ({leads:,} leads, seeded {found.get('at', '?')})")
        if v.name == "after":  # the working tree may have gained migrations since
            v.manage("migrate", "--noinput", "-v0")
        return
    if reuse and found is not None:
        log(f"{v.name}: {v.database} holds other data ({found}); seeding it again")
    if not v.database.startswith("crm_bench_"):
        raise SystemExit(f"refusing to drop {v.database}")
    started = time.time()
    _admin(f'DROP DATABASE IF EXISTS "{v.database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{v.database}"')
    log(f"{v.name}: migrating {v.database} with {v.code}")
    v.manage("migrate", "--noinput", "-v0")
    if customers:
        options = ["--leads", str(leads), "--users", str(users)] + [
            f"--{k}={customers[k]}" for k in ("accounts", "contacts", "activities")]
        if customers.get("opportunities"):
            options.append("--opportunities=0")
        log(f"{v.name}: seed_scale {' '.join(options)}")
        seeding = time.time()
        v.manage("seed_scale", *options)
        if customers.get("opportunities"):
            log(f"{v.name}: {customers['opportunities']:,} opportunities (bench/scale_opportunities.py)")
            subprocess.run([sys.executable, str(BENCH / "scale_opportunities.py"), "--opportunities",
                            str(customers["opportunities"])], cwd=v.code, env=v.env(), check=True)
        wanted["seed_s"] = round(time.time() - seeding)
    else:
        log(f"{v.name}: seed_scale --leads {leads} --users {users}")
        v.manage("seed_scale", "--leads", str(leads), "--users", str(users))
        log(f"{v.name}: {leads // 10:,} accounts with two contacts and an opportunity each")
        subprocess.run([sys.executable, str(BENCH / "records.py"), "--accounts", str(leads // 10)], cwd=v.code,
                       env=v.env(), check=True)
    wanted["at"] = time.strftime("%Y-%m-%d %H:%M")
    comment = json.dumps(wanted).replace("'", "''")
    _admin(f"COMMENT ON DATABASE \"{v.database}\" IS '{comment}'")
    log(f"{v.name}: {v.database} ready in {time.time() - started:.0f} s")


def collectstatic(v: Version) -> None:
    v.static_root.mkdir(parents=True, exist_ok=True)
    v.manage("collectstatic", "--noinput", "-v0")


def flush_redis(v: Version) -> None:
    """Empty the version's Redis database: cached sessions, permissions and queued tasks of earlier runs."""
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=v.redis_db).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(v: Version, log_dir: Path) -> None:
    """gunicorn with 2 sync workers, as bench/run.py starts it; its log (tracebacks of 500s) goes to log_dir."""
    port = free_port()
    v.base = f"http://127.0.0.1:{port}"
    v.log_path = log_dir / f"server-{v.name}.log"
    with open(v.log_path, "w") as log_file:  # the server keeps its own copy of the descriptor
        v.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "crm.wsgi:application", "--workers", "2", "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
            cwd=v.code, env=v.env(), stdout=log_file, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(v.base + "/login/", timeout=2)
            return
        except OSError:  # URLError and refused connections while it starts
            if v.server.poll() is not None:
                raise SystemExit(f"{v.name}: gunicorn exited; see {v.log_path}")
            time.sleep(0.2)
    raise SystemExit(f"{v.name}: gunicorn did not answer; see {v.log_path}")


def stop_server(v: Version) -> None:
    if v.server is not None and v.server.poll() is None:
        v.server.terminate()
        try:
            v.server.wait(15)
        except subprocess.TimeoutExpired:
            v.server.kill()


def worker_pids(v: Version) -> list[int]:
    pid = v.server.pid
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak since the last reset_peak) of a process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> None:
    # Linux resets a process's peak resident set size (VmHWM) to its current size on "5" (proc(5)).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Session:
    """A signed-in browser: cookies, and GETs that return the status and body however the server answers."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, timeout: float = 120, headers: dict | None = None) -> tuple[int, bytes]:
        try:
            with self.opener.open(urllib.request.Request(self.base + path, headers=headers or {}),
                                  timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def login(self, email: str, password: str = PASSWORD) -> None:
        _, body = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        data = urllib.parse.urlencode({"username": email, "password": password, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + "/login/", data=data, headers={"Referer": self.base + "/login/"})
        with self.opener.open(request, timeout=30) as r:
            if "/login/" in r.geturl():
                raise SystemExit(f"could not sign in as {email} on {self.base}")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)
