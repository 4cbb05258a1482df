"""Workflow rules under load (issue 11's targets): 500 active rules on leads, then
1. matching throughput: N lead events through the engine's subscriber (handle_events) in-process, as events/s;
2. event-to-action latency on an idle system: leads saved one at a time through lead_create, delivered by a real
   Celery worker (prefork, 2 processes, as `make run` starts it; no beat), from the event's creation to the
   ActionRun's finish;
3. a burst: thousands of lead events written to the outbox (bulk insert + emit_many, in import-sized
   transactions), drained by that worker, then checked for loss and duplicates against the database.

    python -m bench.automation --rules 500 --events 5000 --burst 10000     # the full run (16 minutes at load 5-8,
                                                                            # most of it the burst's drain)
    python -m bench.automation --quick                                      # small numbers, a minute or two
    python -m bench.automation --profile                                    # also cProfile the matching phase

DATABASE_URL names the database (default postgres://postgres@127.0.0.1:5432/crm_bench_automation); it is created
and migrated when missing, and its leads, events, rules, runs, activities and notifications are emptied at the
start of every run: never point it at a database you care about. The worker takes its tasks from a queue of its
own (CELERY_QUEUE, default bench-automation-<database>). The yardstick (bench/yardstick.py) is timed in this
process during the run, so numbers read as multiples of it too. Writes bench/results/automation-<time>/ with
automation.md, automation.json, the worker's log and, with --profile, profile.txt."""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from bench.yardstick import yardstick  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/crm_bench_automation"
COUNTRIES = ["FI", "SE", "GB", "US", "DE", "IR"]
RATINGS = ["hot", "warm", "cold", ""]
TITLES = ["CEO", "CTO", "Buyer", "IT Manager", "CFO", "Head of Sales"]
INDUSTRIES = ["technology", "finance", "retail", "manufacturing"]
# Countries no bench lead has: the non-matching rules' values.
OTHER_COUNTRIES = [a + b for a in "ABCJKLMNOPQTVWXYZ" for b in "ABCDEFGHKLMNPQRSTUVWXYZ"]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


# --- set-up ---------------------------------------------------------------------------------------------------------

def environment(args) -> dict:
    """The settings both this process and the worker run with (before Django starts)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    name = url.rsplit("/", 1)[-1].split("?")[0]
    env = {
        "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "CELERY_QUEUE": os.environ.get("CELERY_QUEUE") or f"bench-automation-{name}",
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX") or f"bench-automation-{name}",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING", "TEST_FAST_PASSWORD_HASHER": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "crm.settings",
    }
    os.environ.update(env)
    return {**env, "name": name}


def ensure_database(env: dict, log) -> None:
    import psycopg

    url = env["DATABASE_URL"]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (env["name"],)).fetchone()
        if not exists:
            log(f"creating database {env['name']}")
            conn.execute(f'CREATE DATABASE "{env["name"]}"')
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=os.environ,
                   check=True)
    log(f"migrated in {time.monotonic() - started:.0f} s")


def empty_tables() -> None:
    from django.db import connection

    from crm.activities.models import Activity
    from crm.automation.models_rules import WorkflowRule
    from crm.core.models import Event, EventDelivery
    from crm.mail.models import EmailTemplate
    from crm.notifications.models import Notification
    from leads.models import Lead

    tables = [m._meta.db_table for m in (Lead, Event, EventDelivery, WorkflowRule, Activity, Notification,
                                        EmailTemplate)]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def people():
    from crm.access.models import User

    author = User.objects.filter(email="bench-automation-admin@bench.local").first() or User.objects.create_user(
        "bench-automation-admin@bench.local", "bench-2026", first_name="Rule", last_name="Author", is_superuser=True)
    from crm.access.models import ObjectPermission, PermissionProfile

    profile, created = PermissionProfile.objects.get_or_create(name="Bench automation rep")
    if created:
        ObjectPermission.objects.create(profile=profile, record_type="leads.lead", can_view=True, can_create=True,
                                        can_edit=True, can_export=True, can_import=True)
    rep = User.objects.filter(email="bench-automation-rep@bench.local").first() or User.objects.create_user(
        "bench-automation-rep@bench.local", "bench-2026", first_name="Rita", last_name="Rep")
    if rep.profile_id != profile.pk:
        rep.profile = profile
        rep.save(update_fields=["profile"])
    return author, rep


def email_template(author):
    from crm.mail.models import EmailTemplate, EmailTemplateVariant

    template = EmailTemplate.objects.create(name="Bench welcome", record_type="leads.lead", created_by=author)
    EmailTemplateVariant.objects.create(template=template, language="en", subject="Welcome {{ lead.first_name }}",
                                        body_html="<p>Hello {{ lead.first_name }}, thanks for your interest.</p>")
    return template


def matching_rules(template_id: int) -> list[tuple[str, dict]]:
    """The rules bench leads can meet: (name, spec). Their criteria name fields no action changes (country,
    rating, title, industry, employees), so the burst's expected runs can be counted in SQL."""
    task = {"kind": "create_task", "subject": "Call {{ lead.first_name }} today", "assignee": "owner", "due_days": 1}
    note = {"kind": "notify", "to": "owner", "message": "New lead {{ lead.first_name }} {{ lead.last_name }}"}
    return [
        ("Hot Nordic lead: call today", {"trigger": "created", "criteria": {"all": [
            {"field": "rating", "op": "equals", "value": "hot"}, {"field": "country", "op": "in", "value": ["FI", "SE"]}]},
            "actions": [task]}),
        ("CTO lead: tell the owner", {"trigger": "created_or_updated", "criteria": {"all": [
            {"field": "title", "op": "contains", "value": "cto"}]}, "actions": [note]}),
        ("Big warm account", {"trigger": "criteria_became_true", "criteria": {"all": [
            {"field": "employees", "op": "gte", "value": "4500"}, {"field": "rating", "op": "in", "value": ["hot", "warm"]}]},
            "actions": [{"kind": "update_field", "field": "description", "value": "Big account: handle with care"}]}),
        ("UK welcome e-mail", {"trigger": "created", "criteria": {"all": [
            {"field": "country", "op": "equals", "value": "GB"}, {"field": "rating", "op": "not_equals", "value": "cold"}]},
            "actions": [{"kind": "send_email", "template": template_id, "to": "record"}]}),
        ("Rating changed: review", {"trigger": "field_changed", "trigger_field": "rating", "criteria": {"all": [
            {"field": "rating", "op": "equals", "value": "hot"}]}, "actions": [task]}),
        ("Hot tech lead", {"trigger": "created_or_updated", "criteria": {"all": [
            {"field": "rating", "op": "equals", "value": "hot"},
            {"any": [{"field": "industry", "op": "equals", "value": "technology"},
                     {"field": "employees", "op": "gt", "value": "4800"}]}]}, "actions": [note]}),
        ("German CFO", {"trigger": "created", "criteria": {"all": [
            {"field": "country", "op": "equals", "value": "DE"}, {"field": "title", "op": "equals", "value": "CFO"}]},
            "actions": [task, note]}),
        ("Title changed to CEO", {"trigger": "field_changed", "trigger_field": "title", "criteria": {"all": [
            {"field": "title", "op": "changed_to", "value": "CEO"}]}, "actions": [note]}),
    ]


def other_rule(i: int, rng: random.Random) -> tuple[str, dict]:
    """One of the rules no bench lead meets, of every trigger and shape: most fail on their first leaf, some
    only after AND/OR groups were walked (a hot lead reaches their second leaf)."""
    code = OTHER_COUNTRIES[i % len(OTHER_COUNTRIES)]
    shapes = [
        {"all": [{"field": "country", "op": "equals", "value": code}, {"field": "rating", "op": "equals", "value": "hot"}]},
        {"any": [{"field": "company", "op": "contains", "value": f"Nomatch {i}"},
                 {"field": "title", "op": "starts_with", "value": f"Zz{i}"}]},
        {"all": [{"field": "employees", "op": "gt", "value": str(100_000 + i)}]},
        {"all": [{"field": "rating", "op": "equals", "value": "hot"},
                 {"any": [{"field": "country", "op": "in", "value": [code, OTHER_COUNTRIES[(i + 7) % len(OTHER_COUNTRIES)]]},
                          {"field": "industry", "op": "equals", "value": "agriculture"}]}]},
        {"all": [{"field": "email", "op": "contains", "value": f"@nomatch{i}.example"}]},
        {"all": [{"field": "score", "op": "gt", "value": str(1000 + i)}, {"field": "city", "op": "is_not_empty"}]},
        {"any": [{"field": "industry", "op": "in", "value": ["agriculture", "government"]},
                 {"all": [{"field": "country", "op": "equals", "value": code}, {"field": "title", "op": "contains", "value": "cto"}]}]},
        {"all": [{"field": "last_name", "op": "equals", "value": f"Nobody{i}"}]},
    ]
    criteria = shapes[i % len(shapes)]
    roll = rng.random()
    if roll < 0.3:
        trigger = {"trigger": "created"}
    elif roll < 0.6:
        trigger = {"trigger": "created_or_updated"}
    elif roll < 0.8:
        trigger = {"trigger": "field_changed", "trigger_field": rng.choice(["rating", "title", "description", "country"])}
    else:
        trigger = {"trigger": "criteria_became_true"}
    action = rng.choice([
        {"kind": "create_task", "subject": "Follow up {{ lead.company }}", "assignee": "owner", "due_days": 2},
        {"kind": "notify", "to": "owner", "message": "Rule {i} matched {{ lead.first_name }}".replace("{i}", str(i))},
        {"kind": "update_field", "field": "website", "value": f"https://example.com/{i}"}])
    return f"Bench rule {i:03d}", {**trigger, "criteria": criteria, "actions": [action]}


def make_rules(n: int, author, template_id: int, log) -> list:
    from crm.automation import rule_services

    started = time.monotonic()
    rng = random.Random(11)
    specs = matching_rules(template_id)
    specs += [other_rule(i, rng) for i in range(max(0, n - len(specs)))]
    rules = []
    for order, (name, spec) in enumerate(specs[:n]):
        rules.append(rule_services.rule_create(actor=author, record_type="leads.lead", name=name, spec=spec,
                                               order=order))
    log(f"{len(rules)} active rules ({min(n, len(matching_rules(template_id)))} that bench leads can meet) "
        f"in {time.monotonic() - started:.1f} s")
    return rules


def new_lead(rng: random.Random, i: int, owner, tag: str):
    from crm.customization.models import PicklistValue
    from leads.models import Lead

    status = getattr(new_lead, "status", None)
    if status is None:
        status = new_lead.status = PicklistValue.objects.filter(picklist="leads.status", is_default=True).first()
    first = rng.choice(["Aino", "Mikko", "Sara", "Reza", "Emily", "Juha", "Maryam", "Noah"])
    last = rng.choice(["Laine", "Virtanen", "Ahmadi", "Smith", "Korhonen", "Karimi"])
    return Lead(first_name=first, last_name=last, company=f"{tag} Company {i} Oy", title=rng.choice(TITLES),
                email=f"{first.lower()}.{last.lower()}.{tag}{i}@example.com", country=rng.choice(COUNTRIES),
                rating=rng.choice(RATINGS), industry=rng.choice(INDUSTRIES), employees=rng.randint(1, 5000),
                owner=owner, status=status, created_by=owner)


# --- 1. matching throughput ------------------------------------------------------------------------------------------

def throughput(n: int, rep, *, batch: int, profile: bool, out: Path, log) -> dict:
    """n events (half lead.created, half lead.updated with changes) through handle_events, batch by batch, each
    in a transaction rolled back afterwards (no action is queued, the next phase starts clean); then the same
    through crm.core.events.deliver (every subscriber of lead events, as the worker runs it) and through matching
    alone (the runs not written)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from crm.automation import engine
    from crm.automation.models_rules import RuleRun
    from crm.core import events as outbox
    from crm.core.models import Event
    from leads.models import Lead

    rng = random.Random(7)
    leads = Lead.objects.bulk_create([new_lead(rng, i, rep, "tp") for i in range(n)])
    ct = ContentType.objects.get_for_model(Lead)
    rows = [Event(name="lead.created", content_type=ct, object_id=lead.pk, actor=rep, changes={}, data={})
            for i, lead in enumerate(leads) if i % 2 == 0]
    for i, lead in enumerate(leads):
        if i % 2 == 0:
            continue
        kind = (i // 2) % 4
        if kind == 0:
            changes = {"rating": ["cold" if lead.rating != "cold" else "warm", lead.rating]}
        elif kind == 1:
            changes = {"title": ["Intern", lead.title]}
        elif kind == 2:
            changes = {"description": ["", "Met at the fair"]}
        else:
            changes = {"employees": [10, lead.employees], "country": ["IR" if lead.country != "IR" else "FI", lead.country]}
        rows.append(Event(name="lead.updated", content_type=ct, object_id=lead.pk, actor=rep, changes=changes, data={}))
    created = Event.objects.bulk_create(rows)
    ids = [e.pk for e in created]
    engine.active_rules("leads.lead")  # compiled once per process, as a worker would have them
    result, yards = {}, []

    names = dict(zip(ids, (e.name for e in created)))

    def timed(label: str, call, runs_counted: bool):
        total, runs, by_name = 0.0, 0, {}
        profiler = cProfile.Profile() if label.endswith("under cProfile") else None
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            yards.append(yardstick())
            events = list(Event.objects.filter(pk__in=chunk).order_by("pk"))
            with transaction.atomic():
                began = time.perf_counter()
                if profiler:
                    profiler.enable()
                call(events, chunk)
                if profiler:
                    profiler.disable()
                spent = time.perf_counter() - began
                total += spent
                for name in {names[pk] for pk in chunk}:
                    share = sum(1 for pk in chunk if names[pk] == name)
                    seconds, count = by_name.get(name, (0.0, 0))
                    by_name[name] = (seconds + spent * share / len(chunk), count + share)
                if runs_counted:
                    runs += RuleRun.objects.filter(event_id__in=chunk).count()
                transaction.set_rollback(True)
        if profiler:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
            stats.print_stats(45)
            text.write("\n\n--- by own time ---\n")
            stats.sort_stats("tottime").print_stats(30)
            (out / "profile.txt").write_text(text.getvalue())
            log(f"profile of handle_events written to {out / 'profile.txt'}")
            return
        result[label] = {"seconds": round(total, 3), "events_per_s": round(len(ids) / total, 1),
                         "by_event": {name: round(count / seconds, 1) for name, (seconds, count) in sorted(by_name.items())},
                         **({"runs_written": runs} if runs_counted else {})}
        log(f"  {label}: {len(ids)} events in {total:.2f} s = {len(ids) / total:,.0f} events/s"
            + (f", {runs} runs written" if runs_counted else "")
            + " (" + ", ".join(f"{k} {v:,.0f}/s" for k, v in result[label]["by_event"].items()) + ")")

    # Warm-up (connections, prepared statements, compiled rules), not timed.
    with transaction.atomic():
        engine.handle_events(list(Event.objects.filter(pk__in=ids[:batch])))
        transaction.set_rollback(True)
    timed("handle_events", lambda events, chunk: engine.handle_events(events), True)

    original_save = engine._Plan.save
    engine._Plan.save = lambda self: []
    try:
        timed("matching only (runs not written)", lambda events, chunk: engine.handle_events(events), False)
    finally:
        engine._Plan.save = original_save
    timed("deliver (all lead subscribers)", lambda events, chunk: outbox.deliver(chunk), False)
    if profile:
        timed("handle_events under cProfile", lambda events, chunk: engine.handle_events(events), False)
    result["yardstick_ms"] = round(statistics.median(yards), 2)
    result["_yards"] = yards
    result["events"] = len(ids)
    result["batch"] = batch
    Event.objects.filter(pk__in=ids).delete()
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).delete()
    return result


# --- 1b. action execution in-process ---------------------------------------------------------------------------------

def actions_inprocess(n: int, rep, *, profile: bool, out: Path, log) -> dict:
    """n leads (bulk insert + emit_many) delivered in-process (crm.core.events.deliver, committed), then their
    queued actions run one after another in this process as the action task would (execute_action_run): actions
    per second of one process, without the broker; with --profile, where an action's time goes."""
    from django.db import transaction

    from crm.automation.engine import execute_action_run
    from crm.automation.models_rules import ActionRun
    from crm.core import events as outbox
    from crm.core.events import emit_many
    from crm.core.models import Event
    from leads.models import Lead

    rng = random.Random(9)
    with transaction.atomic():
        made = Lead.objects.bulk_create([new_lead(rng, i, rep, "inproc") for i in range(n)])
        emit_many("lead.created", Lead, [lead.pk for lead in made], actor=rep)
    ids = list(Event.objects.filter(delivered_at__isnull=True, object_id__in=[m.pk for m in made])
               .values_list("pk", flat=True))
    for start in range(0, len(ids), 200):
        outbox.deliver(ids[start:start + 200])
    todo = list(ActionRun.objects.filter(run__object_id__in=[m.pk for m in made], status="pending", attempts=0,
                                         index=0).order_by("pk").values_list("pk", flat=True))
    # With --profile the second half runs under cProfile, and only the first half is timed.
    timed, profiled = (todo[:len(todo) // 2], todo[len(todo) // 2:]) if profile else (todo, [])
    yards, began = [yardstick()], time.perf_counter()
    for pk in timed:
        execute_action_run(pk)
    spent = time.perf_counter() - began
    yards.append(yardstick())
    done = ActionRun.objects.filter(run__object_id__in=[m.pk for m in made]).exclude(status="pending")
    done = done.filter(run_id__in=ActionRun.objects.filter(pk__in=timed).values("run_id"))
    count = done.count()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
        for pk in profiled:
            execute_action_run(pk)
        profiler.disable()
    by_kind = {}
    for kind in done.values_list("kind", flat=True):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
        stats.print_stats(60)
        (out / "profile-actions.txt").write_text(text.getvalue())
        log(f"profile of execute_action_run written to {out / 'profile-actions.txt'}")
    log(f"  {count} actions of {n} leads' runs in {spent:.2f} s in-process = {count / spent:.1f} actions/s "
        f"({spent / max(1, count) * 1000:.1f} ms each)")
    return {"leads": n, "actions": count, "seconds": round(spent, 2), "actions_per_s": round(count / spent, 1),
            "ms_per_action": round(spent / max(1, count) * 1000, 1), "by_kind": by_kind, "_yards": yards}


# --- the worker ------------------------------------------------------------------------------------------------------

def start_worker(out: Path, concurrency: int):
    from crm.celery import app

    app.control.purge()
    log_file = open(out / "worker.log", "w")
    pool = ["--pool=solo"] if concurrency == 0 else ["--concurrency", str(concurrency)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", *pool, "-Q", os.environ["CELERY_QUEUE"],
         "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{os.environ['CELERY_QUEUE']}@%h"],
        cwd=BASE_DIR, env=os.environ, stdout=log_file, stderr=subprocess.STDOUT)
    return proc, log_file


def stop_worker(proc, log_file) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log_file.close()


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


# --- 2. latency ------------------------------------------------------------------------------------------------------

def latency(n: int, rep, *, rate: float, log) -> dict:
    """Leads saved one at a time through lead_create (each meets two to four rules), `rate` per second; from
    each event's creation to its runs' first and last finished action."""
    from django.db.models import Max, Min

    from crm.automation.models_rules import ActionRun
    from crm.core.models import Event
    from leads.models import Lead
    from leads.services import lead_create

    rng = random.Random(3)
    # Warm-up: the worker's processes compile the rules and open their connections.
    warm = []
    for i in range(4):
        lead = new_lead(rng, i, rep, "warm")
        lead.rating, lead.country, lead.title = "hot", "FI", "CTO"
        warm.append(lead_create(actor=rep, lead=lead).pk)
    ok = wait_for(lambda: ActionRun.objects.filter(run__object_id__in=warm, status="succeeded").count() >= 8, 90)
    if not ok:
        raise SystemExit("the worker did not run the warm-up leads' actions within 90 s (see worker.log)")
    time.sleep(1)
    ids, yards = [], []
    for i in range(n):
        began = time.monotonic()
        lead = new_lead(rng, i, rep, "lat")
        lead.rating, lead.country, lead.title = "hot", rng.choice(["FI", "SE"]), "CTO"
        ids.append(lead_create(actor=rep, lead=lead).pk)
        yards.append(yardstick())
        time.sleep(max(0.0, 1 / rate - (time.monotonic() - began)))
    events = dict(Event.objects.filter(object_id__in=ids, name="lead.created").values_list("object_id", "created_at"))
    expected = {pk: 0 for pk in ids}

    def settled():
        done = dict(ActionRun.objects.filter(run__object_id__in=ids, run__depth=1, status__in=["succeeded", "skipped", "failed"])
                    .values_list("run__object_id").annotate(n=Min("id")).values_list("run__object_id", "n"))
        return len(done) == len(expected)

    wait_for(settled, 60, 0.25)
    time.sleep(2)  # the last runs' later actions and cascades
    rows = (ActionRun.objects.filter(run__object_id__in=ids, run__depth=1, finished_at__isnull=False)
            .values("run__object_id").annotate(first=Min("finished_at"), last=Max("finished_at")))
    first, last = [], []
    for row in rows:
        created = events[row["run__object_id"]]
        first.append((row["first"] - created).total_seconds() * 1000)
        last.append((row["last"] - created).total_seconds() * 1000)
    from django.db.models import Count

    statuses = dict(ActionRun.objects.filter(run__object_id__in=ids).values_list("status").annotate(n=Count("id"))
                    .values_list("status", "n"))
    result = {"leads": n, "rate_per_s": rate, "measured": len(first), "statuses": statuses,
              "first_action_ms": {"p50": round(p(first, .5)), "p95": round(p(first, .95)), "max": round(max(first or [0]))},
              "all_actions_ms": {"p50": round(p(last, .5)), "p95": round(p(last, .95)), "max": round(max(last or [0]))},
              "yardstick_ms": round(statistics.median(yards), 2), "_yards": yards}
    log(f"  latency over {len(first)} of {n} leads: first action p50 {result['first_action_ms']['p50']} ms, "
        f"p95 {result['first_action_ms']['p95']} ms, max {result['first_action_ms']['max']} ms; all actions p95 "
        f"{result['all_actions_ms']['p95']} ms; action statuses {statuses}")
    return result


# --- 3. the burst ----------------------------------------------------------------------------------------------------

def burst(n: int, rep, rules, *, batch: int, timeout: float, log) -> dict:
    """n leads inserted in transactions of `batch` (bulk insert, then emit_many: the import path), each
    committed transaction's events sent to the worker in one task; then wait until every event is delivered and
    no action waits, and check the database against what the rules should have done."""
    from django.db import transaction
    from django.db.models import Count, Max, Q

    from crm.activities.models import Activity
    from crm.automation.models_rules import ActionRun, RuleRun
    from crm.core import conditions
    from crm.core.events import emit_many
    from crm.core.models import Event, EventDelivery
    from crm.notifications.models import Notification
    from leads.models import Lead

    rng = random.Random(5)
    before_event = Event.objects.aggregate(m=Max("pk"))["m"] or 0
    started = time.monotonic()
    from django.utils import timezone

    wall_start = timezone.now()
    lead_ids = []
    for start in range(0, n, batch):
        with transaction.atomic():
            made = Lead.objects.bulk_create([new_lead(rng, i, rep, "burst") for i in range(start, min(n, start + batch))])
            ids = [lead.pk for lead in made]
            emit_many("lead.created", Lead, ids, actor=rep)
        lead_ids += ids
    written = time.monotonic() - started
    log(f"  {n} leads and their events written in {written:.1f} s; draining…")
    burst_events = Event.objects.filter(pk__gt=before_event, name="lead.created", object_id__in=lead_ids)
    lead_set = Lead.objects.filter(pk__in=lead_ids)

    def drained():
        """Every event delivered, and no action waiting for its first attempt (one waiting for a retry after
        its backoff is beat's to queue, and beat does not run here: it counts as a failure below)."""
        if Event.objects.filter(pk__gt=before_event, delivered_at__isnull=True).exists():
            return False
        return not ActionRun.objects.filter(created_at__gte=wall_start, status="pending", attempts=0).exists()

    logged_at, last_done, moved_at = time.monotonic(), -1, time.monotonic()
    while not drained():
        now = time.monotonic()
        if now - started > timeout:
            log(f"    gave up after {timeout:.0f} s")
            break
        if now - logged_at > 15:
            logged_at = now
            done = ActionRun.objects.filter(created_at__gte=wall_start).exclude(status="pending").count()
            if done != last_done:
                last_done, moved_at = done, now
            elif now - moved_at > 60:
                log("    no action finished for 60 s: stopping")
                break
            log(f"    {now - started:.0f} s: events waiting "
                f"{Event.objects.filter(pk__gt=before_event, delivered_at__isnull=True).count()}, actions waiting "
                f"{ActionRun.objects.filter(created_at__gte=wall_start, status='pending').count()}, done {done}")
        time.sleep(0.5)
    finished = drained()
    last_action = ActionRun.objects.filter(created_at__gte=wall_start).aggregate(m=Max("finished_at"))["m"]
    last_delivered = burst_events.aggregate(m=Max("delivered_at"))["m"]
    drain_s = (last_action - wall_start).total_seconds() if last_action else None
    matched_s = (last_delivered - wall_start).total_seconds() if last_delivered else None

    # What the rules should have done directly (depth 1): counted in SQL, by the criteria's SQL twin.
    fields = conditions.fields_for("leads.lead")
    expected, found = {}, dict(RuleRun.objects.filter(event_id__in=burst_events.values("pk"), depth=1)
                               .values_list("rule_id").annotate(n=Count("id")).values_list("rule_id", "n"))
    for rule in rules:
        version = rule.current_version
        if version.trigger in ("created", "created_or_updated", "criteria_became_true"):
            count = lead_set.filter(conditions.to_q(version.criteria, Lead, fields=fields)).count()
            if count:
                expected[rule.pk] = count
    names = {rule.pk: rule.name for rule in rules}
    per_rule = [{"rule": names[pk], "expected": expected.get(pk, 0), "found": found.get(pk, 0)}
                for pk in sorted(set(expected) | set(found))]
    runs = RuleRun.objects.filter(Q(event_id__in=burst_events.values("pk")) | Q(object_id__in=lead_ids, created_at__gte=wall_start))
    run_outcomes = dict(runs.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    by_depth = dict(runs.values_list("depth").annotate(n=Count("id")).values_list("depth", "n"))
    actions = ActionRun.objects.filter(run__in=runs)
    action_statuses = dict(actions.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    action_expected = sum(len(r.current_version.actions) * found.get(r.pk, 0) for r in rules)
    duplicate_runs = runs.values("rule_id", "object_id", "event_id").annotate(n=Count("id")).filter(n__gt=1).count()
    tasks = Activity.objects.filter(kind="task", object_id__in=lead_ids, created_at__gte=wall_start)
    task_keys = [((a or {}).get("automation") or {}).get("key") for a in tasks.values_list("data", flat=True)]
    task_actions = actions.filter(kind="create_task", status="succeeded").count()
    notify_actions = sum(len((r or {}).get("notified") or []) for r in actions.filter(kind="notify", status="succeeded")
                         .values_list("result", flat=True))
    notifications = Notification.objects.filter(created_at__gte=wall_start, verb="automation.notify").count()
    deliveries = EventDelivery.objects.filter(event_id__in=burst_events.values("pk"),
                                              subscriber="automation.workflow_rules:lead")
    caused = dict(Event.objects.filter(pk__gt=before_event).exclude(pk__in=burst_events.values("pk"))
                  .values_list("name").annotate(n=Count("id")).values_list("name", "n"))
    checks = {
        "drained": finished,
        "events": burst_events.count(),
        "events_undelivered": burst_events.filter(delivered_at__isnull=True).count(),
        "engine_deliveries_done": deliveries.filter(status="done").count(),
        "engine_deliveries_not_done": deliveries.exclude(status="done").count(),
        "depth1_runs_expected": sum(expected.values()),
        "depth1_runs_found": sum(found.values()),
        "depth1_actions_expected": action_expected,
        "runs_by_depth": by_depth,
        "run_outcomes": run_outcomes,
        "action_statuses": action_statuses,
        "duplicate_runs": duplicate_runs,
        "tasks": len(task_keys), "task_actions_succeeded": task_actions,
        "duplicate_task_keys": len(task_keys) - len(set(task_keys)),
        "notifications": notifications, "notified_by_actions": notify_actions,
    }
    total_actions = sum(action_statuses.values())
    ok = (finished and checks["events_undelivered"] == 0 and checks["engine_deliveries_not_done"] == 0
          and checks["engine_deliveries_done"] == n
          and all(r["expected"] == r["found"] for r in per_rule) and duplicate_runs == 0
          and checks["duplicate_task_keys"] == 0 and task_actions == len(task_keys)
          and notifications == notify_actions
          and set(action_statuses) <= {"succeeded"} and set(run_outcomes) <= {"succeeded"}
          and sum(a for d, a in by_depth.items() if d == 1) == checks["depth1_runs_found"])
    result = {"events": n, "batch": batch, "write_s": round(written, 1), "matched_s": round(matched_s, 1) if matched_s else None,
              "drain_s": round(drain_s, 1) if drain_s else None, "actions": total_actions,
              "actions_per_s": round(total_actions / drain_s, 1) if drain_s else None,
              "events_per_s": round(n / drain_s, 1) if drain_s else None,
              "no_loss": ok, "checks": checks, "per_rule": per_rule, "events_caused_by_actions": caused}
    log(f"  burst: drained {finished} in {drain_s} s (matching done after {matched_s} s); {total_actions} actions "
        f"({result['actions_per_s']}/s); no loss: {ok}")
    return result


# --- the report -------------------------------------------------------------------------------------------------------

def report(res: dict) -> str:
    t, lat, b = res.get("throughput"), res.get("latency"), res.get("burst")
    y = res["yardstick_ms"]
    lines = [f"## Workflow rules, {res['date']} (commit {res['commit']}, {res['rules']} active rules on leads)", "",
             f"Yardstick median {y} ms over the run (p5–p95 {res['yardstick_p5']}–{res['yardstick_p95']} ms, "
             f"{res['yardstick_runs']} runs); load average {res['load_start']} at the start, {res['load_end']} at the end.", "",
             "| measure | result | × yardstick | target | met |", "|---|---|---|---|---|"]
    if t:
        h = t["handle_events"]
        per_k = 1000 / h["events_per_s"] * 1000
        lines.append(f"| matching: {t['events']:,} lead events through handle_events (batches of {t['batch']}, runs "
                     f"written: {h['runs_written']:,}) | {h['events_per_s']:,.0f} events/s ({per_k:.0f} ms per 1,000; "
                     + ", ".join(f"{k} {v:,.0f}/s" for k, v in h["by_event"].items()) + ") | "
                     f"{per_k / t['yardstick_ms']:.1f}× per 1,000 | ≥ 1,000 events/s | "
                     f"{'yes' if h['events_per_s'] >= 1000 else 'no'} |")
        m = t["matching only (runs not written)"]
        lines.append(f"| matching alone (the runs not written) | {m['events_per_s']:,.0f} events/s ("
                     + ", ".join(f"{k} {v:,.0f}/s" for k, v in m["by_event"].items()) + ") | "
                     f"{1e6 / m['events_per_s'] / t['yardstick_ms']:.1f}× per 1,000 | | |")
        d = t["deliver (all lead subscribers)"]
        lines.append(f"| crm.core.events.deliver: every lead subscriber (engine, scoring, auto-responders…) | "
                     f"{d['events_per_s']:,.0f} events/s | {1e6 / d['events_per_s'] / t['yardstick_ms']:.1f}× per 1,000 | | |")
    act = res.get("actions")
    if act:
        lines.append(f"| action execution in-process, one process ({act['actions']} actions of {act['leads']} leads' "
                     f"runs: " + ", ".join(f"{k} {v}" for k, v in sorted(act["by_kind"].items())) + ") | "
                     f"{act['actions_per_s']} actions/s ({act['ms_per_action']} ms each) | "
                     f"{act['ms_per_action'] / y:.1f}× per action | | |")
    if lat:
        f, a = lat["first_action_ms"], lat["all_actions_ms"]
        lines.append(f"| latency, event → first action finished ({lat['measured']} leads, {lat['rate_per_s']}/s, idle, "
                     f"real worker) | p50 {f['p50']} ms, p95 {f['p95']} ms, max {f['max']} ms | p95 {f['p95'] / y:.0f}× | "
                     f"p95 ≤ 2 s | {'yes' if f['p95'] <= 2000 else 'no'} |")
        lines.append(f"| latency, event → all its actions finished | p50 {a['p50']} ms, p95 {a['p95']} ms, max {a['max']} ms "
                     f"| p95 {a['p95'] / y:.0f}× | | |")
    if b:
        c = b["checks"]
        lines.append(f"| burst: {b['events']:,} lead events (transactions of {b['batch']}) drained by the worker | "
                     f"{b['drain_s']} s ({b['events_per_s']} events/s; {b['actions']:,} actions, {b['actions_per_s']}/s; "
                     f"matching done after {b['matched_s']} s) | | drains, no loss | "
                     f"{'yes' if b['no_loss'] else 'no'} |")
        lines += ["", "Burst checks (from the database): " + "; ".join(f"{k} {v}" for k, v in c.items()), "",
                  "Events the burst's actions caused (each one more delivery task on the same worker): "
                  + (", ".join(f"{k} {v}" for k, v in sorted(b["events_caused_by_actions"].items())) or "none"), "",
                  "| rule | runs expected (SQL) | runs found |", "|---|---|---|"]
        lines += [f"| {r['rule']} | {r['expected']} | {r['found']} |" for r in b["per_rule"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--burst", type=int, default=10000)
    parser.add_argument("--latency-leads", type=int, default=60)
    parser.add_argument("--action-leads", type=int, default=500, help="leads whose actions run in-process")
    parser.add_argument("--rate", type=float, default=2.0, help="latency leads per second")
    parser.add_argument("--batch", type=int, default=200, help="events per handle_events call (the sweep's chunk)")
    parser.add_argument("--burst-batch", type=int, default=500, help="leads per committed transaction in the burst")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (0: --pool=solo)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds the burst may take to drain")
    parser.add_argument("--quick", action="store_true", help="500 rules, 1,000 events, 20 latency leads, burst 1,000")
    parser.add_argument("--profile", action="store_true", help="cProfile handle_events in the matching phase")
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: throughput,actions,latency,burst")
    args = parser.parse_args()
    if args.quick:
        args.events, args.burst, args.latency_leads = min(args.events, 1000), min(args.burst, 1000), 20
        args.action_leads = min(args.action_leads, 200)
    skip = set(filter(None, args.skip.split(",")))

    env = environment(args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = BASE_DIR / "bench" / "results" / f"automation-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {message}", flush=True)

    ensure_database(env, log)
    import django

    django.setup()
    from django.core import mail  # noqa: F401 - locmem outbox in this process

    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rules": args.rules,
           "commit": subprocess.run(["git", "-C", str(BASE_DIR), "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True).stdout.strip(),
           "load_start": round(os.getloadavg()[0], 2), "database": env["name"]}
    yards = [yardstick() for _ in range(5)]
    empty_tables()
    author, rep = people()
    template = email_template(author)
    rules = make_rules(args.rules, author, template.pk, log)
    if "throughput" not in skip:
        log(f"matching throughput: {args.events} events")
        res["throughput"] = throughput(args.events, rep, batch=args.batch, profile=args.profile, out=out, log=log)
        yards += res["throughput"].pop("_yards")
    if "actions" not in skip:
        log(f"action execution in-process: the runs of {args.action_leads} leads")
        res["actions"] = actions_inprocess(args.action_leads, rep, profile=args.profile, out=out, log=log)
        yards += res["actions"].pop("_yards")
    if not {"latency", "burst"} <= skip:
        proc, log_file = start_worker(out, args.concurrency)
        try:
            if "latency" not in skip:
                log(f"latency: {args.latency_leads} leads at {args.rate}/s, worker concurrency {args.concurrency}")
                res["latency"] = latency(args.latency_leads, rep, rate=args.rate, log=log)
                yards += res["latency"].pop("_yards")
            if "burst" not in skip:
                log(f"burst: {args.burst} events")
                res["burst"] = burst(args.burst, rep, rules, batch=args.burst_batch, timeout=args.timeout, log=log)
        finally:
            stop_worker(proc, log_file)
    yards += [yardstick() for _ in range(5)]
    res.update(yardstick_ms=round(statistics.median(yards), 2), yardstick_p5=round(p(yards, .05), 2),
               yardstick_p95=round(p(yards, .95), 2), yardstick_runs=len(yards), load_end=round(os.getloadavg()[0], 2),
               total_s=round(time.monotonic() - began))
    table = report(res)
    (out / "automation.md").write_text(table)
    (out / "automation.json").write_text(json.dumps(res, indent=2, default=str))
    print()
    print(table)
    log(f"done in {res['total_s']} s; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
