"""Fill the database with a large, realistic dataset fast (PostgreSQL COPY).

    python manage.py seed_scale --leads 1000000 --users 200

Creates a sales role tree with managers and reps (password `bench-2026`,
logins printed), private sharing on leads, and leads spread over the reps
with statuses, sources, countries, scores and custom values."""
from __future__ import annotations

import io
import json
import random
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

BENCH_PASSWORD = "bench-2026"
FIRST = ["Mikko", "Anna", "Sara", "Reza", "Emily", "James", "Liisa", "Ali", "Maryam", "Juha", "Olivia", "Noah"]
LAST = ["Virtanen", "Korhonen", "Ahmadi", "Karimi", "Smith", "Johnson", "Laine", "Hosseini", "Brown", "Nieminen"]
COMPANY = ["Nordic", "Aalto", "Pars", "Alborz", "Summit", "Harbor", "Blue", "Green", "Lapland", "Tampere"]
SUFFIX = ["Oy", "Ltd", "Group", "AB", "Inc", "Co"]
COUNTRIES = ["FI", "IR", "GB", "US", "SE", "DE"]
TITLES = ["CEO", "CTO", "Buyer", "IT Manager", "CFO", "Head of Sales"]
STAGES = ["new"] * 6 + ["mql"] * 2 + ["sal", "sql"]


def _users(n_users: int):
    from crm.access import services
    from crm.access.models import ObjectPermission, PermissionProfile, Role, User
    from crm.access.tests.factories import set_org_default

    root = Role.objects.filter(name="Bench sales director").first() or services.role_create(actor=None, name="Bench sales director")
    profile, created = PermissionProfile.objects.get_or_create(name="Bench rep")
    if created:
        ObjectPermission.objects.create(profile=profile, record_type="leads.lead", can_view=True, can_create=True,
                                        can_edit=True, can_export=True, can_import=True)
    set_org_default("leads.lead", "private")
    managers = max(1, n_users // 10)
    reps = []
    for m in range(managers):
        email = f"bench-manager{m}@bench.local"
        manager = User.objects.filter(email=email).first()
        mrole = Role.objects.filter(name=f"Bench manager {m}").first() or services.role_create(
            actor=None, name=f"Bench manager {m}", parent=root)
        rrole = Role.objects.filter(name=f"Bench rep {m}").first() or services.role_create(
            actor=None, name=f"Bench rep {m}", parent=mrole)
        if manager is None:
            User.objects.create_user(email, BENCH_PASSWORD, first_name="Manager", last_name=str(m), role=mrole, profile=profile)
        for r in range(max(1, (n_users - managers) // managers)):
            remail = f"bench-rep{m}-{r}@bench.local"
            rep = User.objects.filter(email=remail).first() or User.objects.create_user(
                remail, BENCH_PASSWORD, first_name="Rep", last_name=f"{m}-{r}", role=rrole, profile=profile)
            reps.append(rep.pk)
    return reps


def seed(*, leads: int, users: int, batch: int = 100_000, stdout=print) -> None:
    from crm.customization.models import PicklistValue

    started = time.time()
    with transaction.atomic():
        reps = _users(users)
    statuses = list(PicklistValue.objects.filter(picklist="leads.status").values_list("pk", flat=True))
    sources = list(PicklistValue.objects.filter(picklist="leads.source").values_list("pk", flat=True))
    rng = random.Random(42)
    now = timezone.now()
    columns = ["first_name", "last_name", "company", "title", "email", "phone", "mobile", "website", "street", "city",
               "state", "postal_code", "country", "industry", "currency", "description", "competitors", "objections",
               "rating", "lifecycle_stage", "unqualified_reason", "need_pain_points", "need_requirements",
               "need_desired_outcome", "authority_role", "timeline_urgency", "timeline_timeframe", "champ_challenges",
               "champ_authority", "champ_prioritization", "score", "score_breakdown", "email_normalized",
               "phone_normalized", "owner_id", "status_id", "source_id", "created_at", "updated_at", "custom"]
    done = 0
    with connection.cursor() as cursor:
        while done < leads:
            size = min(batch, leads - done)
            buffer = io.StringIO()
            for i in range(done, done + size):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                company = f"{rng.choice(COMPANY)} {rng.choice(COMPANY)} {rng.choice(SUFFIX)}"
                email = f"{first.lower()}.{last.lower()}{i}@example{i % 997}.com"
                phone = f"+35840{i:07d}"
                created = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
                custom = json.dumps({"region": rng.choice(["Nordics", "Middle East", "UK"]), "seats": rng.randint(1, 500)})
                row = [first, last, company, rng.choice(TITLES), email, phone, "", "", "", "", "", "",
                       rng.choice(COUNTRIES), "technology", "EUR", "", "", "", rng.choice(["hot", "warm", "cold", ""]),
                       rng.choice(STAGES), "", "", "", "", "", "", "", "", "", "", str(rng.randint(0, 100)), "[]",
                       email, phone, str(rng.choice(reps)), str(rng.choice(statuses)) if statuses else "\\N",
                       str(rng.choice(sources)) if sources else "\\N", created.isoformat(), created.isoformat(), custom]
                buffer.write("\t".join(v.replace("\\", "\\\\").replace("\t", " ") if v != "\\N" else v for v in row) + "\n")
            buffer.seek(0)
            with cursor.cursor.copy(f"COPY leads_lead ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            done += size
            stdout(f"  {done:,} leads ({time.time() - started:.0f} s)")
    # What autovacuum would do on a live system (it may be off where this runs): VACUUM sets the visibility
    # map, so counts can be answered from indexes alone, and ANALYZE gives every table written here (users
    # and picklists too) statistics, without which the planner guesses join orders. Inside a transaction
    # (as in the tests) only ANALYZE can run.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    stdout(f"Done: {leads:,} leads in {time.time() - started:.0f} s. Logins: bench-manager0@bench.local and "
           f"bench-rep0-0@bench.local, password {BENCH_PASSWORD}")
