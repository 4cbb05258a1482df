"""Page speed measured against a yardstick, so runs on different days (this machine's speed drifts 2-3x)
can be compared, and older code measured side by side with the current checkout in one run.

    python bench/speed.py --leads 100000 --reuse                    # the current checkout alone
    python bench/speed.py --compare 5c31b6f --leads 1000000 --reuse # older code and current code together
    python bench/speed.py --compare 5c31b6f --reuse --wrk           # also throughput under load (wrk)
    python bench/speed.py --profile /leads/ --as manager            # where one page's time goes
    python bench/speed.py --profile all --compare 5c31b6f           # SQL and queries of every page, both versions
    python bench/speed.py --scale issue9 --reuse                    # issue 9: 200,000 accounts, 500,000 contacts,
                                                                    # 5 million activities, the 360° page
    python bench/speed.py --scale issue9 --profile rep-account-2000 # where the 360° page's time goes
    python bench/speed.py --scale issue10 --reuse                   # issue 10: 300,000 opportunities: the board,
                                                                    # the list, forecast, analytics, the dashboard
    python bench/speed.py --scale issue10 --profile issue10         # where each of those pages' time goes

The yardstick is a fixed pure-Python loop (300,000 iterations of `s += i * i % 7`) timed in this process
between every two requests (yardstick, page, yardstick, page...), so a page reads as "2.1x the yardstick"
as well as in milliseconds; with --compare the requests alternate between the two servers, so a slow
minute slows both. Each version runs from its own code (older ones in a git worktree under /tmp) on its
own database (crm_bench_before_1m, crm_bench_after_1m: migrated and filled by that version's own
seed_scale plus bench/records.py; --reuse keeps a database that holds the same seed), with gunicorn, 2
workers, DEBUG=0. Writes bench/results/speed-<time>/: speed.md, speed.json and the servers' logs."""
from __future__ import annotations

import argparse
import csv
import html
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import pages
import versions as vs
from yardstick import LOOPS as YARDSTICK_LOOPS
from yardstick import yardstick

RESULTS = vs.BENCH / "results"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[round(0.95 * (len(ordered) - 1))]


def htmx(page: pages.Page) -> dict | None:
    return {"HX-Request": "true"} if page.htmx else None


def timed_get(session: vs.Session, path: str, headers: dict | None = None) -> tuple[float, int, bytes]:
    start = time.perf_counter()
    status, body = session.get(path, headers=headers)
    return (time.perf_counter() - start) * 1000, status, body


class Run:
    """One speed run: the versions' servers and signed-in sessions, and what they measured."""

    def __init__(self, found: list[vs.Version], args):
        self.versions = found
        self.args = args
        self.sessions: dict[str, dict[str, vs.Session]] = {}
        self.urls: dict[str, dict[str, str]] = {}
        self.yardsticks: list[float] = []
        self.results: dict = {"pages": {}, "exports": {}, "memory": {}, "wrk": [], "checks": []}
        self.seed_s: int | None = None  # how long seed_scale took, as the database's comment remembers

    def yard(self) -> float:
        y = yardstick()
        self.yardsticks.append(y)
        return y

    def sign_in(self) -> None:
        for v in self.versions:
            self.sessions[v.name] = {}
            for who, email in pages.USERS.items():
                session = vs.Session(v.base)
                session.login(email)
                self.sessions[v.name][who] = session

    def discover(self) -> None:
        """Each version's URLs; the lead and account pages show the same record in every version if it can."""
        for v in self.versions:
            self.urls[v.name] = pages.discover(self.getter(v))
        newest = self.urls[self.versions[-1].name]
        for v in self.versions[:-1]:
            for key in ("lead", "account"):
                if all(self.sessions[v.name][who].get(newest[key])[0] == 200 for who in pages.USERS):
                    self.urls[v.name][key] = newest[key]
        for v in self.versions:
            _, body = self.sessions[v.name]["manager"].get(self.urls[v.name]["page100"])
            number = pages.page_number(body.decode(errors="replace"))
            self.check(f"{v.name}: the manager's page {number} is {self.urls[v.name]['page100']}"
                       + ("" if number == pages.PAGE_100 else f" (the list ends before page {pages.PAGE_100})")
                       + (f" ({self.urls[v.name]['page100_note']})" if "page100_note" in self.urls[v.name] else ""))
            if self.args.scale == "issue10":
                self.check(f"{v.name}: the opportunity page is {self.urls[v.name]['opportunity']}; the board's first "
                           f"'Show more' is {self.urls[v.name]['board_more']}")
            elif self.args.customers:
                big = self.urls[v.name]["account360"]
                _, body = self.sessions[v.name]["rep"].get(big)
                named = re.search(r"<title>([^<]*)</title>", body.decode(errors="replace"))
                self.check(f"{v.name}: the 360° account is {big}"
                           + (f" ({html.unescape(named.group(1)).strip()})" if named else ""))
            for who in pages.USERS:
                _, body = self.sessions[v.name][who].get("/leads/")
                rows = len(pages.record_links(body.decode(errors="replace"), "/leads/"))
                self.check(f"{v.name}: the {who}'s lead list shows {rows} leads")

    def getter(self, v: vs.Version):
        def get(who: str, path: str) -> tuple[int, str]:
            status, body = self.sessions[v.name][who].get(path)
            return status, body.decode(errors="replace")

        return get

    def check(self, line: str) -> None:
        print("  " + line, flush=True)
        self.results["checks"].append(line)

    def chosen_pages(self) -> list[pages.Page]:
        if not self.args.pages:
            return pages.SCALE_PAGES.get(self.args.scale) or (pages.ISSUE9_PAGES if self.args.customers else pages.PAGES)
        return [pages.PAGES_BY_KEY[k] for k in self.args.pages.split(",")]

    def measure_pages(self) -> None:
        chosen = self.chosen_pages()
        for page in chosen:  # warm-up: every page on every version before any is timed
            for v in self.versions:
                for _ in range(self.args.warmup):
                    self.sessions[v.name][page.who].get(page.path.format(**self.urls[v.name]), headers=htmx(page))
        for page in chosen:
            times = {v.name: [] for v in self.versions}
            statuses = {v.name: set() for v in self.versions}
            local = []
            for r in range(self.args.requests):
                for v in self.versions if r % 2 == 0 else reversed(self.versions):
                    local.append(self.yard())
                    ms, status, _ = timed_get(self.sessions[v.name][page.who], page.path.format(**self.urls[v.name]),
                                              headers=htmx(page))
                    times[v.name].append(ms)
                    statuses[v.name].add(status)
            y = statistics.median(local)
            entry = {"label": page.label, "who": page.who, "yardstick_ms": round(y, 2), "versions": {}}
            for v in self.versions:
                t = times[v.name]
                entry["versions"][v.name] = {
                    "path": page.path.format(**self.urls[v.name]), "median_ms": round(statistics.median(t), 1),
                    "p95_ms": round(p95(t), 1), "median_x": round(statistics.median(t) / y, 2),
                    "p95_x": round(p95(t) / y, 2), "status": sorted(statuses[v.name])}
            self.results["pages"][page.key] = entry
            print("  " + page_line(page.key, entry), flush=True)

    def measure_exports(self) -> None:
        rounds = self.args.export_rounds
        for fmt in ("csv", "xlsx"):
            path = pages.EXPORT_FULL.format(fmt=fmt)
            for v in self.versions:
                self.sessions[v.name]["rep"].get(path)  # warm-up
            times = {v.name: [] for v in self.versions}
            rows, local, statuses = {}, [], {v.name: set() for v in self.versions}
            for r in range(rounds):
                for v in self.versions if r % 2 == 0 else reversed(self.versions):
                    local.append(self.yard())
                    ms, status, body = timed_get(self.sessions[v.name]["rep"], path)
                    times[v.name].append(ms)
                    statuses[v.name].add(status)
                    rows[v.name] = count_rows(fmt, body) if status == 200 else 0
            y = statistics.median(local)
            entry = {"path": path, "yardstick_ms": round(y, 2), "versions": {}}
            for v in self.versions:
                median = statistics.median(times[v.name])
                entry["versions"][v.name] = {"rows": rows[v.name], "median_ms": round(median, 1),
                                             "rows_per_s": round(rows[v.name] / median * 1000),
                                             "median_x": round(median / y, 2), "status": sorted(statuses[v.name])}
            self.results["exports"][fmt] = entry
            print("  " + "; ".join(f"{name} {fmt}: {e['rows']:,} rows in {e['median_ms']:.0f} ms, {e['rows_per_s']:,} rows/s"
                                   for name, e in entry["versions"].items()), flush=True)

    def measure_memory(self) -> None:
        """Peak RSS growth of the worker that served an export: a small (filtered) one against the full one.
        Streaming exports keep it flat; one built in memory grows with the rows."""
        for v in self.versions:
            session = self.sessions[v.name]["rep"]
            entry = {}
            for fmt in ("csv", "xlsx"):
                for which, template in (("small", pages.EXPORT_SMALL), ("full", pages.EXPORT_FULL)):
                    path = template.format(fmt=fmt)
                    growths, rows = [], 0
                    for _ in range(3):
                        workers = vs.worker_pids(v)
                        before = {}
                        for pid in workers:
                            vs.reset_peak(pid)
                            before[pid] = vs.memory_kb(pid)["VmRSS"]
                        status, body = session.get(path)
                        rows = count_rows(fmt, body) if status == 200 else 0
                        after = {pid: vs.memory_kb(pid) for pid in workers}
                        served = max(workers, key=lambda pid: after[pid]["VmHWM"] - before[pid])
                        growths.append({"peak_mb": round((after[served]["VmHWM"] - before[served]) / 1024, 1),
                                        "rss_before_mb": round(before[served] / 1024, 1),
                                        "rss_after_mb": round(after[served]["VmRSS"] / 1024, 1)})
                    worst = max(growths, key=lambda g: g["peak_mb"])
                    entry[f"{fmt} {which}"] = {"path": path, "rows": rows, **worst,
                                               "peaks_mb": [g["peak_mb"] for g in growths]}
            self.results["memory"][v.name] = entry
            print("  " + v.name + ": " + "; ".join(f"{k} ({e['rows']:,} rows) peak +{e['peak_mb']} MB"
                                                    for k, e in entry.items()), flush=True)

    def measure_wrk(self) -> None:
        if shutil.which("wrk") is None:
            raise SystemExit("wrk is not installed (apt-get install -y wrk)")
        for r in range(self.args.wrk_rounds):
            for v in self.versions:
                session = self.sessions[v.name]["manager"]
                status, _ = session.get("/leads/")
                # The yardstick cannot run during wrk (it would take a core from the servers): five before, five after.
                around = [self.yard() for _ in range(5)]
                command = ["wrk", "-t2", "-c16", f"-d{self.args.wrk_duration}", "--latency",
                           "-H", f"Cookie: {session.cookie_header()}", f"{v.base}/leads/"]
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                around += [self.yard() for _ in range(5)]
                y = statistics.median(around)
                result = {"version": v.name, "round": r + 1, "yardstick_ms": round(y, 2), "status_before": status,
                          **parse_wrk(out)}
                self.results["wrk"].append(result)
                print(f"  {v.name} round {r + 1}: {result['requests_per_s']} req/s, p50 {result['latency_p50']}, "
                      f"p99 {result['latency_p99']}, non-2xx {result['non_2xx']}, errors {result['socket_errors']}",
                      flush=True)


def count_rows(fmt: str, body: bytes) -> int:
    if fmt == "csv":
        return max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return max(0, sum(1 for _ in sheet.iter_rows(values_only=True)) - 1)


def parse_wrk(out: str) -> dict:
    def grab(pattern, default="0"):
        found = re.search(pattern, out)
        return found.group(1) if found else default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"requests_per_s": float(grab(r"Requests/sec:\s+([\d.]+)")), "requests": int(grab(r"(\d+) requests in")),
            "latency_p50": grab(r"\s50%\s+(\S+)", "?"), "latency_p99": grab(r"\s99%\s+(\S+)", "?"),
            "non_2xx": int(grab(r"Non-2xx or 3xx responses: (\d+)")),
            "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups())))
            if errors else {"connect": 0, "read": 0, "write": 0, "timeout": 0}}


def cell(e: dict, kind: str) -> str:
    flag = "" if e["status"] == [200] else f" **{e['status']}**"
    return f"{e[kind + '_ms']:.1f} ms · {e[kind + '_x']:.2f}×{flag}"


def page_line(key: str, entry: dict) -> str:
    parts = [f"{name} {cell(e, 'median')} (p95 {cell(e, 'p95')})" for name, e in entry["versions"].items()]
    return f"{entry['who']} {entry['label']}: " + "; ".join(parts) + f"; yardstick {entry['yardstick_ms']} ms"


def markdown(run: Run, found: list[vs.Version], started: float) -> str:
    names = [v.name for v in found]
    r = run.results
    y = run.yardsticks or [yardstick()]
    code = ", ".join(f"{v.name}: {v.commit[:7]}{' and the uncommitted edits' if v.name == 'after' else ''} on "
                     f"{v.database}" for v in found)
    data = f"{run.args.leads:,} leads"
    if run.args.customers:
        c = run.args.customers
        data += (f", {c['accounts']:,} accounts, {c['contacts']:,} contacts, {c['activities']:,} activities"
                 + (f" (seeded in {run.seed_s / 60:.1f} min)" if run.seed_s else ""))
    lines = [f"Speed run {time.strftime('%Y-%m-%d %H:%M')}, {data}, {run.args.users} users; {code}",
             (f"Yardstick ({YARDSTICK_LOOPS:,} loops): median {statistics.median(y):.1f} ms, p5–p95 "
              f"{sorted(y)[len(y) // 20]:.1f}–{p95(y):.1f} ms over {len(y)} runs; load average at the end "
              f"{os.getloadavg()[0]:.1f}; took {(time.time() - started) / 60:.1f} min."), ""]
    if r["checks"]:
        lines += ["Checks: " + "; ".join(r["checks"]), ""]
    if r["pages"]:
        head = "| page | as | " + " | ".join(f"{n} median | {n} p95" for n in names)
        head += " | after ÷ before (median) |" if len(names) > 1 else " |"
        lines += [head, "|" + "---|" * (2 + 2 * len(names) + (len(names) > 1))]
        for entry in r["pages"].values():
            ev = entry["versions"]
            row = f"| {entry['label']} | {entry['who']} | " + " | ".join(
                f"{cell(ev[n], 'median')} | {cell(ev[n], 'p95')}" for n in names)
            if len(names) > 1:
                row += f" | {ev['after']['median_ms'] / ev['before']['median_ms']:.2f} |"
            else:
                row += " |"
            lines.append(row)
        found_paths = [f"{k}: " + ", ".join(f"{n} `{e['path']}`" for n, e in v["versions"].items())
                       for k, v in r["pages"].items() if "{" in pages.PAGES_BY_KEY[k].path]
        lines += ["", *(["Paths: " + "; ".join(found_paths), ""] if found_paths else [])]
    if r["exports"]:
        lines += ["| rep's open leads, export | " + " | ".join(f"{n} rows | {n} median | {n} rows/s" for n in names)
                  + " |", "|---|" + "---|---|---|" * len(names)]
        for fmt, entry in r["exports"].items():
            ev = entry["versions"]
            lines.append(f"| {fmt.upper()} `{entry['path']}` | " + " | ".join(
                f"{ev[n]['rows']:,} | {ev[n]['median_ms']:.0f} ms · {ev[n]['median_x']:.1f}× | {ev[n]['rows_per_s']:,}"
                for n in names) + " |")
        lines.append("")
    if r["memory"]:
        lines += ["Peak RSS growth of the gunicorn worker serving the export (worst of 3; VmHWM reset before each):", "",
                  "| export | " + " | ".join(f"{n} rows | {n} peak growth | {n} RSS before → after" for n in names)
                  + " |", "|---|" + "---|---|---|" * len(names)]
        for key in r["memory"][names[0]]:
            lines.append(f"| {key} | " + " | ".join(
                f"{m['rows']:,} | +{m['peak_mb']} MB | {m['rss_before_mb']} → {m['rss_after_mb']} MB"
                for m in (r["memory"][n][key] for n in names)) + " |")
        lines.append("")
        for n in names:
            verdicts = []
            for fmt in ("csv", "xlsx"):
                small, full = r["memory"][n][f"{fmt} small"], r["memory"][n][f"{fmt} full"]
                extra_rows = full["rows"] - small["rows"]
                extra_mb = full["peak_mb"] - small["peak_mb"]
                per_k = extra_mb / extra_rows * 1000 if extra_rows > 0 else 0.0
                # Under a couple of thousand rows, an export built in memory and a streamed one differ by less
                # than the allocator's noise; above, building in memory costs over a MB per thousand rows.
                verdict = "too few rows to tell" if extra_rows < 2000 else "flat" if per_k < 0.5 else "GROWS"
                verdicts.append(f"{fmt.upper()} {verdict} ({extra_mb:+.1f} MB for {extra_rows:,} more rows, "
                                f"{per_k:.2f} MB per 1,000 rows)")
            lines.append(f"- {n}: " + "; ".join(verdicts))
        lines.append("")
    if r["wrk"]:
        lines += ["`wrk -t2 -c16 -d" + run.args.wrk_duration + "` on the manager's lead list:", "",
                  ("| version | round | req/s | requests per yardstick | latency p50 | p99 | non-2xx | socket errors "
                   "(connect/read/write/timeout) | yardstick ms |"), "|---|---|---|---|---|---|---|---|---|"]
        for w in r["wrk"]:
            e = w["socket_errors"]
            lines.append(f"| {w['version']} | {w['round']} | {w['requests_per_s']} | "
                         f"{w['requests_per_s'] * w['yardstick_ms'] / 1000:.2f} | {w['latency_p50']} | "
                         f"{w['latency_p99']} | {w['non_2xx']} | {e['connect']}/{e['read']}/{e['write']}/{e['timeout']} "
                         f"| {w['yardstick_ms']} |")
        lines.append("")
    for v in found:
        errors = server_errors(v)
        if errors:
            lines += [f"Errors in {v.name}'s server log ({v.log_path}):", "```", errors, "```", ""]
    return "\n".join(lines)


def server_errors(v: vs.Version, limit: int = 6000) -> str:
    if v.log_path is None or not v.log_path.exists():
        return ""
    text = v.log_path.read_text(errors="replace")
    if "Traceback" not in text and " ERROR " not in text:
        return ""
    return text[-limit:]


def profile(args, found: list[vs.Version]) -> int:
    out_dir = RESULTS / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    out_dir.mkdir(parents=True)
    summaries = {}
    for v in found:
        vs.prepare_database(v, leads=args.leads, users=args.users, reuse=True, customers=args.customers)
        vs.collectstatic(v)
        out = out_dir / f"{v.name}.json"
        command = [sys.executable, str(vs.BENCH / "profiling.py"), args.profile, "--as", args.who, "--runs",
                   str(args.runs), "--version", v.name, "--json", str(out), "--out-dir", str(out_dir)]
        if args.profile in ("all", "issue9", "issue10"):
            command.append("--quiet")
        subprocess.run(command, cwd=v.code, env=v.env(), check=True)
        summaries[v.name] = json.loads(out.read_text())
    if len(summaries) > 1 or args.profile in ("all", "issue9", "issue10"):
        from profiling import report

        code = ", ".join(f"{v.name}: {v.commit[:7]}{' and the uncommitted edits' if v.name == 'after' else ''} on "
                         f"{v.database}" for v in found)
        text = (f"Profiles {time.strftime('%Y-%m-%d %H:%M')}, {args.leads:,} leads, {args.runs} requests per page and "
                f"phase, in-process; {code}\n\n" + profile_table(summaries))
        (out_dir / "summary.md").write_text(text + "\n")
        full = "\n\n".join(report(p, version=name) for name, results in summaries.items() for p in results)
        (out_dir / "full.txt").write_text(full + "\n")
        print("\n" + text)
        print(f"\nEvery page's hot spots and tree: {(out_dir / 'full.txt').relative_to(vs.MAIN)}")
    print(f"HTML profiles: {out_dir.relative_to(vs.MAIN)}/")
    return 0


def profile_table(summaries: dict[str, list[dict]]) -> str:
    names = list(summaries)
    by_key = {name: {p["key"]: p for p in results} for name, results in summaries.items()}
    lines = ["| page | as | " + " | ".join(f"{n} total ms · × yardstick | {n} SQL ms | {n} queries" for n in names)
             + " | slowest template or block (self ms, after) |", "|---|---|" + "---|---|---|" * len(names) + "---|"]
    for key in by_key[names[-1]]:
        label = pages.PAGES_BY_KEY[key].label if key in pages.PAGES_BY_KEY else key
        newest = by_key[names[-1]][key]
        top = newest["templates"][0] if newest["templates"] else {"name": "–", "self_ms": "–"}
        cells = []
        for n in names:
            p = by_key[n].get(key)
            cells.append(f"{p['total_ms']} · {p['total_x']}× | {p['sql_ms']} | {p['queries']:g}" if p else "– | – | –")
        lines.append(f"| {label} | {newest['who']} | " + " | ".join(cells) + f" | {top['name']} ({top['self_ms']}) |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Page speed against a yardstick, side by side with older code.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--compare", metavar="REF", help="also measure the code at this git ref, side by side")
    parser.add_argument("--leads", type=int, help="leads (default 1,000,000; with --scale issue9 or --accounts "
                        "100,000)")
    parser.add_argument("--scale", choices=["issue9", "issue10"], help="issue9: 200,000 accounts, 500,000 contacts and "
                        "5 million activities (and 100,000 leads), written by seed_scale, in crm_bench_after_i9; times "
                        "the account and contact lists and the 360° page of an account with 2,000 timeline items. "
                        "issue10: 300,000 opportunities (bench/scale_opportunities.py) on 30,000 accounts, with 100,000 "
                        "leads, in crm_bench_after_i10; times the board, its 'show more', the opportunity list and "
                        "page, the forecast, the analytics and the manager's home (the sales dashboard)")
    parser.add_argument("--accounts", type=int, help="seed_scale writes this many accounts (one per rep with 2,000 "
                        "timeline items) instead of bench/records.py's leads/10; with --contacts and --activities")
    parser.add_argument("--contacts", type=int)
    parser.add_argument("--activities", type=int)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep bench databases that hold this seed already")
    parser.add_argument("--prepare", action="store_true", help="only migrate and seed the databases (with --reuse: "
                        "those not seeded yet)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page and version")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pages", help="comma-separated page keys of bench/pages.py (default: all)")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--export-rounds", type=int, default=5)
    parser.add_argument("--wrk", action="store_true", help="also measure throughput with wrk -t2 -c16")
    parser.add_argument("--wrk-duration", default="20s")
    parser.add_argument("--wrk-rounds", type=int, default=2)
    parser.add_argument("--profile", metavar="URL", help="profile this path (or a page key, 'all', or 'issue9' or "
                        "'issue10': their pages) in-process")
    parser.add_argument("--as", dest="who", choices=["rep", "manager"], default="rep")
    parser.add_argument("--runs", type=int, default=10, help="requests per page under --profile")
    args = parser.parse_args()
    args.customers = None
    if args.scale in ("issue9", "issue10"):
        dataset = vs.ISSUE9 if args.scale == "issue9" else vs.ISSUE10
        args.customers = {k: v for k, v in dataset.items() if k != "leads"}
        args.leads = args.leads or dataset["leads"]
    for key in ("accounts", "contacts", "activities"):
        if getattr(args, key) is not None:
            args.customers = dict(args.customers or {"accounts": 0, "contacts": 0, "activities": 0},
                                  **{key: getattr(args, key)})
    args.leads = args.leads or (vs.ISSUE9["leads"] if args.customers else 1_000_000)
    if args.customers:
        if args.compare:
            raise SystemExit("--scale/--accounts/--contacts/--activities measure the current checkout alone: older "
                             "code's seed_scale cannot write that dataset")
        args.no_export = True  # the exports are the leads issue's; this dataset's pages are the lists and the 360°

    found = vs.versions(compare=args.compare, leads=args.leads, customers=args.customers)
    if args.profile:
        return profile(args, found)
    if args.prepare:
        for v in found:
            vs.prepare_database(v, leads=args.leads, users=args.users, reuse=args.reuse, customers=args.customers)
        return 0
    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_dir = RESULTS / f"speed-{stamp}"
    log_dir.mkdir()
    for v in found:
        vs.prepare_database(v, leads=args.leads, users=args.users, reuse=args.reuse, customers=args.customers)
        vs.collectstatic(v)
        vs.flush_redis(v)
    run = Run(found, args)
    run.seed_s = (vs.seeded_as(found[-1].database) or {}).get("seed_s")
    try:
        for v in found:
            vs.start_server(v, log_dir)
        print("Signing in and finding the pages' URLs", flush=True)
        run.sign_in()
        run.discover()
        if not args.no_pages:
            print(f"Pages ({args.requests} requests each per version, yardstick between every two)", flush=True)
            run.measure_pages()
        if not args.no_export:
            print("Exports", flush=True)
            run.measure_exports()
            run.measure_memory()
        if args.wrk:
            print("wrk", flush=True)
            run.measure_wrk()
    finally:
        for v in found:
            vs.stop_server(v)
    text = markdown(run, found, started)
    (log_dir / "speed.md").write_text(text + "\n")
    (log_dir / "speed.json").write_text(json.dumps({"args": vars(args), "yardsticks": run.yardsticks,
                                                    "versions": {v.name: {"commit": v.commit, "database": v.database}
                                                                 for v in found}, **run.results}, indent=1))
    print("\n" + text)
    print(f"\nWritten to {log_dir.relative_to(vs.MAIN)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
