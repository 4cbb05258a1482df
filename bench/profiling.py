"""Where one page's time goes: the page run in-process (Django's test client, DEBUG off) against a bench
database, under pyinstrument, with its SQL and its template rendering summed up. bench/speed.py --profile
runs this with the working directory at the version's code and that version's environment:

    python bench/speed.py --profile /leads/ --as manager
    python bench/speed.py --profile all --compare 5c31b6f     # every page of the speed run, both versions

Prints the totals per request, the hot spots and the pyinstrument tree trimmed to them; writes the full
profile as HTML to bench/results/. Each page is requested --runs times after a warm-up: once plain (the
total), once counting SQL and timing templates, once under the profiler, so no measurement distorts another."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from yardstick import yardstick

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


class TemplateTimer:
    """Time spent in each template and in each {% block %} (by the template that defines the block's
    content), inclusive and self (minus the templates and blocks rendered inside it), with the SQL run while
    it was the innermost one. A page that extends base.html renders its blocks inside base.html's render:
    without the blocks, everything would look like base.html's own time."""

    def __init__(self):
        self.stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.stack: list[list] = []
        self._undo = []

    def _enter(self, name: str) -> list:
        frame = [name, time.perf_counter(), 0.0]
        self.stack.append(frame)
        return frame

    def _leave(self, frame: list) -> None:
        self.stack.pop()
        elapsed = time.perf_counter() - frame[1]
        stat = self.stats[frame[0]]
        stat["renders"] += 1
        stat["inclusive"] += elapsed
        stat["self"] += elapsed - frame[2]
        if self.stack:
            self.stack[-1][2] += elapsed

    def _wrap(self, owner, attr: str, name_of) -> None:
        original = getattr(owner, attr)
        timer = self

        def timed(node, context, *args, **kwargs):
            name = name_of(node, context)
            if name is None:
                return original(node, context, *args, **kwargs)
            frame = timer._enter(name)
            try:
                return original(node, context, *args, **kwargs)
            finally:
                timer._leave(frame)

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def install(self) -> None:
        from django.template.base import Template
        from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockNode

        def template_name(origin) -> str:
            return getattr(origin, "template_name", None) or getattr(origin, "name", None) or "?"

        def block_name(node, context):
            block_context = context.render_context.get(BLOCK_CONTEXT_KEY)
            block = (block_context.get_block(node.name) if block_context else None) or node
            return f"{template_name(getattr(block, 'origin', None))} {{% block {node.name} %}}"

        self._wrap(Template, "_render", lambda t, c: template_name(t.origin) if t.origin else t.name or "<string>")
        self._wrap(BlockNode, "render", block_name)
        try:  # django-template-partials: a page's named partials ("lists/list.html#results"), inline or alone
            from template_partials.templatetags.partials import (
                DefinePartialNode,
                TemplateProxy,
            )
        except ImportError:
            return
        self._wrap(TemplateProxy, "_render", lambda t, c: f"{template_name(t.origin)}#{t.name}")
        self._wrap(DefinePartialNode, "render", lambda n, c: f"{template_name(getattr(n, 'origin', None))}#"
                   f"{n.partial_name}" if n.inline else None)

    def uninstall(self) -> None:
        for owner, name, original in self._undo:
            setattr(owner, name, original)

    def sql_wrapper(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if self.stack:
                stat = self.stats[self.stack[-1][0]]
                stat["sql"] += time.perf_counter() - start
                stat["queries"] += 1


def _setup(code: Path) -> None:
    # The models and views are those of the version under test, not of the checkout this file lives in.
    sys.path.insert(0, str(code))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()


def _clients() -> dict:
    from django.test import Client
    from pages import USERS

    from crm.access.models import User

    clients = {}
    for who, email in USERS.items():
        client = Client()
        client.force_login(User.objects.get(email=email), backend="django.contrib.auth.backends.ModelBackend")
        clients[who] = client
    return clients


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _module(path: str, code: Path) -> str:
    """A frame's file as a short module-like name: crm/lists/engine.py, django/template/base.py."""
    if path.startswith(str(code) + "/") and "site-packages/" not in path:
        return path[len(str(code)) + 1:]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" and "/" in tail else tail
    return path


def hot_spots(root, code: Path, total: float, limit: int = 15) -> dict[str, list]:
    """From a pyinstrument frame tree: our own functions by time spent inside them (children included,
    recursion counted once), every function by its own time, and own time by module."""
    ours, own, by_module = defaultdict(float), defaultdict(float), defaultdict(float)

    def walk(frame, seen: frozenset):
        if frame.is_synthetic:
            return
        path = frame.file_path or ""
        key = f"{frame.function} ({_module(path, code)}:{frame.line_no})"
        if path.startswith(str(code) + "/") and "/.venv/" not in path and not path.startswith(str(BENCH)) \
                and key not in seen:
            ours[key] += frame.time
            seen = seen | {key}
        self_time = frame.time - sum(c.time for c in frame.children if not c.is_synthetic)
        own[f"{frame.function} ({_module(path, code)})"] += self_time
        by_module[_module(path, code)] += self_time
        for child in frame.children:
            walk(child, seen)

    walk(root, frozenset())

    def top(d, most=1.0):
        ranked = [(k, round(v / total * 100, 1)) for k, v in sorted(d.items(), key=lambda kv: -kv[1])]
        return [(k, share) for k, share in ranked if share <= most * 100][:limit]

    # Our middleware and the view hold the whole request: listed, they would only push the hot spots down.
    return {"ours": top(ours, most=0.9), "own": top(own), "modules": top(by_module)}


def profile_page(clients, who: str, path: str, *, runs: int, code: Path, html_path: Path, tree_threshold: float,
                 htmx: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    client = clients[who]

    def request():
        response = client.get(path, headers={"HX-Request": "true"} if htmx else None)
        body = _body(response)
        if response.status_code != 200:
            raise SystemExit(f"{who} {path}: status {response.status_code}\n{body[:2000].decode(errors='replace')}")
        return body

    for _ in range(3):
        request()
    totals, yardsticks = [], []
    for _ in range(runs):  # yardstick, page, yardstick, page..., as bench/speed.py does over HTTP
        yardsticks.append(yardstick())
        start = time.perf_counter()
        request()
        totals.append((time.perf_counter() - start) * 1000)

    timer = TemplateTimer()
    timer.install()
    try:
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer.sql_wrapper):
            for _ in range(runs):
                request()
    finally:
        timer.uninstall()
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000 / runs
    queries = len(captured.captured_queries) / runs
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]

    profiler = Profiler(interval=0.001)
    profiler.start()
    for _ in range(runs):
        request()
    profiler.stop()
    session = profiler.last_session
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(profiler.output_html())
    root = session.root_frame()
    tree = profiler.output_text(unicode=True, color=False, show_all=False,
                                processor_options={"filter_threshold": tree_threshold})
    templates = sorted(timer.stats.items(), key=lambda kv: -kv[1]["self"])
    return {
        "who": who, "path": path, "runs": runs,
        "total_ms": round(statistics.median(totals), 1),
        "total_x": round(statistics.median(totals) / statistics.median(yardsticks), 2),
        "yardstick_ms": round(statistics.median(yardsticks), 1),
        "sql_ms": round(sql_ms, 1), "queries": round(queries, 1),
        "slowest_sql": [{"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:300]} for q in slowest],
        "templates": [{"name": name, "renders": s["renders"] / runs, "inclusive_ms": round(s["inclusive"] * 1000 / runs, 2),
                       "self_ms": round(s["self"] * 1000 / runs, 2), "sql_ms": round(s["sql"] * 1000 / runs, 2),
                       "queries": s["queries"] / runs} for name, s in templates],
        "hot": hot_spots(root, code, root.time if root else 1.0) if root else {},
        "profiled_ms": round(session.duration * 1000 / runs, 1),
        "tree": tree, "html": str(html_path.relative_to(BENCH.parent)),
    }


def report(result: dict, *, version: str, templates: int = 12) -> str:
    out = [f"## {version}: {result['who']} {result['path']}",
           (f"total {result['total_ms']} ms per request ({result['total_x']}× the yardstick; median of "
            f"{result['runs']}, in-process), "
            f"SQL {result['sql_ms']} ms in {result['queries']:g} queries; under the profiler {result['profiled_ms']} ms; "
            f"profile: {result['html']}"), ""]
    out.append("Slowest queries: " + "; ".join(f"{q['ms']} ms `{q['sql'][:120]}`" for q in result["slowest_sql"]))
    out += ["", ("Our functions, by time inside them (% of the profiled time; middleware and views that hold "
                 "over 90% left out):")]
    out += [f"  {share:5.1f}%  {name}" for name, share in result["hot"].get("ours", [])]
    out += ["", "Own time by function (any code):"]
    out += [f"  {share:5.1f}%  {name}" for name, share in result["hot"].get("own", [])]
    out += ["", "Own time by module:"]
    out += [f"  {share:5.1f}%  {name}" for name, share in result["hot"].get("modules", [])[:10]]
    out += ["", "Templates and blocks, by self time per request (ms; SQL run while innermost):",
            f"  {'self':>7} {'incl.':>7} {'SQL':>6} {'queries':>7} {'renders':>7}  template"]
    for t in result["templates"][:templates]:
        out.append(f"  {t['self_ms']:7.2f} {t['inclusive_ms']:7.2f} {t['sql_ms']:6.2f} {t['queries']:7.1f} "
                   f"{t['renders']:7.1f}  {t['name']}")
    out += ["", "pyinstrument (all runs together, frames under the threshold left out):", result["tree"]]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description="Profile pages in-process (run by bench/speed.py --profile).")
    parser.add_argument("url", help="a path such as /leads/?q=virtanen, page keys of bench/pages.py (comma-separated), "
                        "'all', 'issue9' or 'issue10' (bench/pages.py's ISSUE9_PAGES, ISSUE10_PAGES)")
    parser.add_argument("--as", dest="who", choices=["rep", "manager"], default="rep")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--version", default="after", help="label for the output and file names")
    parser.add_argument("--threshold", type=float, default=0.03, help="pyinstrument tree: hide frames under this share")
    parser.add_argument("--out-dir", type=Path, help="where the HTML profiles go (default: bench/results/profile-<time>)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--quiet", action="store_true", help="one line per page instead of the whole report")
    args = parser.parse_args()
    code = Path.cwd().resolve()
    _setup(code)
    from pages import PAGES, PAGES_BY_KEY, SCALE_PAGES, discover

    clients = _clients()

    def get(who, path):
        response = clients[who].get(path)
        return response.status_code, _body(response).decode(errors="replace")

    if args.url == "all" or args.url in SCALE_PAGES:
        chosen = [(p.key, p.who, p.path, p.htmx) for p in (PAGES if args.url == "all" else SCALE_PAGES[args.url])]
    elif all(key in PAGES_BY_KEY for key in args.url.split(",")):
        chosen = [(p.key, p.who, p.path, p.htmx) for p in (PAGES_BY_KEY[key] for key in args.url.split(","))]
    else:
        slug = "".join(c if c.isalnum() else "-" for c in args.url).strip("-")[:60] or "home"
        chosen = [(slug, args.who, args.url, False)]
    found = discover(get) if any("{" in path for _, _, path, _ in chosen) else {}
    out_dir = args.out_dir or RESULTS / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    results = []
    for key, who, path, htmx in chosen:
        path = path.format(**found)
        result = profile_page(clients, who, path, runs=args.runs, code=code, tree_threshold=args.threshold,
                              html_path=out_dir / f"{args.version}-{key}.html", htmx=htmx)
        result["key"] = key
        results.append(result)
        if args.quiet:
            print(f"{args.version} {key}: {result['total_ms']} ms ({result['total_x']}×), SQL {result['sql_ms']} ms in {result['queries']:g} "
                  f"queries", flush=True)
        else:
            print(report(result, version=args.version), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
