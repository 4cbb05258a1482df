"""Accounts, contacts, opportunities and activities at scale, written set-wise (INSERT … SELECT over
generate_series), for the issue-9 benchmark:

    python manage.py seed_scale --leads 100000 --accounts 200000 --contacts 500000 --activities 5000000

Run after bench/scale.py's leads and users (seed_scale does both). Every account belongs to a bench rep;
contacts are spread over the accounts (a few each) and opportunities one per account, each with its
account's owner. Activities (calls, e-mails, notes, tasks, meetings over the last two years) attach to
leads, accounts, contacts and opportunities through the generic relation, actor and (tasks, meetings)
assignee the record's owner. One account of bench-rep0-0, "Bench 360 Customer Oy", has 20 contacts and 5
opportunities and exactly 2,000 timeline items on it, its contacts and its opportunities: the 360° page the
benchmark times. The values are spread by hashing the row number (hashint8extended), so a seed is the
same every time. Indexes of the tables written are dropped and rebuilt around each load (one transaction
per table), which is several times faster than maintaining them row by row."""
from __future__ import annotations

import time
from contextlib import contextmanager

from django.db import connection, transaction

from bench.scale import COMPANY, COUNTRIES, FIRST, LAST, SUFFIX, TITLES

CITIES = ["Helsinki", "Tehran", "London", "Boston", "Stockholm", "Berlin"]
RECORD_TYPES = ("accounts.account", "accounts.contact", "opportunities.opportunity")
BIG_ACCOUNT_NAME = "Bench 360 Customer Oy"
BIG_ACCOUNT_REP = "bench-rep0-0@bench.local"
BIG_ACCOUNT_ITEMS = 2_000
BIG_ACCOUNT_CONTACTS = 20
BIG_ACCOUNT_OPPORTUNITIES = 5
# Where the activities go, by share of those left after the big account's 2,000.
SHARES = (("leads.lead", 0.3), ("accounts.account", 0.2), ("accounts.contact", 0.3),
          ("opportunities.opportunity", 0.2))
TWO_YEARS_MIN = 2 * 365 * 24 * 60


def pick(salt: int, n: int, g: str = "g") -> str:
    """A deterministic, evenly spread number in [0, n) for row `g`."""
    return f"mod(hashint8extended({g}::bigint, {salt}) & 2147483647, {int(n)})::int"


@contextmanager
def indexes_rebuilt(cursor, table: str, stdout):
    """Drop the table's indexes that no constraint owns, then create them again (bulk loads are faster so)."""
    cursor.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s
                      AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)""",
                   [table, table])
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    started = time.time()
    # The deferred foreign-key checks of the rows just written run now: no index is built with events pending.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    stdout(f"    {table}: foreign keys checked in {time.time() - started:.0f} s")
    started = time.time()
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _name, definition in found:
        cursor.execute(definition)
    stdout(f"    {table}: {len(found)} indexes rebuilt in {time.time() - started:.0f} s")


def _permissions() -> None:
    """The bench profile may read and export these types; sharing stays private, as for leads (a manager sees
    the role tree below, a rep only their own)."""
    from crm.access import services
    from crm.access.models import ObjectPermission, PermissionProfile

    profile = PermissionProfile.objects.get(name="Bench rep")
    for record_type in RECORD_TYPES:
        ObjectPermission.objects.update_or_create(profile=profile, record_type=record_type,
                                                  defaults={"can_view": True, "can_create": True, "can_edit": True,
                                                            "can_export": True})
        services.org_default_set(actor=None, record_type=record_type, access="private")


def _big_account():
    """The rep's account with 2,000 timeline items: made through the ORM (a handful of rows)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from accounts.models import Account, Contact
    from crm.access.models import User
    from opportunities.models import Opportunity, Pipeline

    rep = User.objects.get(email=BIG_ACCOUNT_REP)
    account = Account.objects.create(name=BIG_ACCOUNT_NAME, owner=rep, account_type=Account.Type.CUSTOMER,
                                     industry="technology", billing_country="FI", billing_city="Helsinki",
                                     phone="+358501234567", employees=1200, website="https://bench360.example.com")
    contacts = Contact.objects.bulk_create([
        Contact(first_name=FIRST[i % len(FIRST)], last_name=LAST[i % len(LAST)], account=account, owner=rep,
                title=TITLES[i % len(TITLES)], mailing_country="FI",
                email=f"{FIRST[i % len(FIRST)].lower()}.{i}@bench360.example.com",
                email_normalized=f"{FIRST[i % len(FIRST)].lower()}.{i}@bench360.example.com")
        for i in range(BIG_ACCOUNT_CONTACTS)])
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    stages = list(pipeline.stages.all())
    Opportunity.objects.bulk_create([
        Opportunity(name=f"{BIG_ACCOUNT_NAME} deal {i + 1}", account=account, contact=contacts[i], owner=rep,
                    pipeline=pipeline, stage=stages[i % len(stages)], probability=stages[i % len(stages)].probability,
                    amount=Decimal(10_000 * (i + 1)), close_date=date.today() + timedelta(days=30 * i))
        for i in range(BIG_ACCOUNT_OPPORTUNITIES)])
    return account


def _accounts(cursor, n: int) -> None:
    cursor.execute("SELECT array_agg(id ORDER BY id) FROM access_user WHERE starts_with(email, 'bench-rep')")
    reps = cursor.fetchone()[0]
    types = ["prospect"] * 5 + ["customer"] * 3 + ["partner", "reseller", "competitor", "other"]
    industries = ["technology", "finance", "healthcare", "consulting", "energy", "education"]
    ratings = ["hot", "warm", "cold", ""]
    cursor.execute(f"""
        INSERT INTO accounts_account (name, account_type, industry, parent_id, website, phone, fax, billing_street,
            billing_city, billing_state, billing_postal_code, billing_country, shipping_street, shipping_city,
            shipping_state, shipping_postal_code, shipping_country, employees, annual_revenue, currency, rating,
            description, phone_normalized, owner_id, created_by_id, created_at, updated_at, custom)
        SELECT c1 || ' ' || c2 || ' ' || sfx || ' ' || g, (%(types)s::text[])[1 + {pick(3, len(types))}],
            (%(industries)s::text[])[1 + {pick(4, len(industries))}], NULL,
            'https://www.' || lower(c1) || lower(c2) || g || '.example.com', '+35850' || lpad(g::text, 7, '0'), '',
            (1 + {pick(5, 200)}) || ' ' || c2 || ' Street', (%(cities)s::text[])[1 + k], '',
            lpad({pick(6, 100000)}::text, 5, '0'), (%(countries)s::text[])[1 + k], '', '', '', '', '',
            1 + {pick(7, 5000)}, (1 + {pick(8, 1000)}) * 10000, '', (%(ratings)s::text[])[1 + {pick(9, 4)}], '',
            '+35850' || lpad(g::text, 7, '0'), (%(reps)s::bigint[])[1 + {pick(10, len(reps))}], NULL, t, t, '{{}}'
        FROM generate_series(1, %(n)s) g,
        LATERAL (SELECT (%(company)s::text[])[1 + {pick(1, len(COMPANY))}] c1,
                        (%(company)s::text[])[1 + {pick(2, len(COMPANY))}] c2,
                        (%(suffix)s::text[])[1 + {pick(11, len(SUFFIX))}] sfx, {pick(12, len(COUNTRIES))} k,
                        now() - make_interval(mins => {pick(13, TWO_YEARS_MIN)}) t) r""",
                   dict(n=n, types=types, industries=industries, ratings=ratings, cities=CITIES, countries=COUNTRIES,
                        company=COMPANY, suffix=SUFFIX, reps=reps))


def _pool(cursor, name: str, sql: str) -> int:
    """A temporary table (rn, id, owner_id) numbering the rows of `sql` from 1, for joins by a picked number."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} AS SELECT row_number() OVER (ORDER BY id) AS rn, id, owner_id "
                   f"FROM ({sql}) s")
    cursor.execute(f"CREATE UNIQUE INDEX ON {name} (rn)")
    cursor.execute(f"ANALYZE {name}")
    cursor.execute(f"SELECT count(*) FROM {name}")
    return cursor.fetchone()[0]


def _contacts(cursor, n: int, big_id: int) -> None:
    accounts = _pool(cursor, "seed_accounts", f"SELECT id, owner_id FROM accounts_account WHERE id <> {big_id}")
    if not accounts or n <= 0:
        return
    salutations = ["", "", "Mr.", "Ms.", "Dr."]
    languages = ["", "fi", "en", "fa", "sv", "de"]
    # Every account gets n // accounts contacts or one more: contact g is of account 1 + (g - 1) % accounts.
    cursor.execute(f"""
        INSERT INTO accounts_contact (salutation, first_name, last_name, title, department, account_id,
            reports_to_id, email, secondary_email, phone, mobile, mailing_street, mailing_city, mailing_state,
            mailing_postal_code, mailing_country, birthdate, preferred_language, description,
            email_opt_in, email_opt_in_at, email_opt_in_source, email_opt_out, email_opt_out_at,
            email_opt_out_source, do_not_call, do_not_call_at, do_not_call_source, email_normalized,
            phone_normalized, owner_id, created_by_id, created_at, updated_at, custom)
        SELECT (%(salutations)s::text[])[1 + {pick(21, len(salutations))}], f, l,
            (%(titles)s::text[])[1 + {pick(22, len(TITLES))}], '', a.id, NULL, e, '', p, '', '',
            (%(cities)s::text[])[1 + k], '', lpad({pick(23, 100000)}::text, 5, '0'), (%(countries)s::text[])[1 + k],
            CASE WHEN {pick(24, 3)} = 0 THEN date '1960-01-01' + {pick(25, 15000)} END,
            (%(languages)s::text[])[1 + {pick(26, len(languages))}], '',
            consent = 1, CASE WHEN consent = 1 THEN t END, CASE WHEN consent = 1 THEN 'import' ELSE '' END,
            consent = 2, CASE WHEN consent = 2 THEN t END, CASE WHEN consent = 2 THEN 'manual' ELSE '' END,
            dnc, CASE WHEN dnc THEN t END, CASE WHEN dnc THEN 'manual' ELSE '' END,
            e, p, a.owner_id, NULL, t, t, '{{}}'
        FROM generate_series(1, %(n)s) g
        JOIN seed_accounts a ON a.rn = 1 + (g - 1) %% {accounts},
        LATERAL (SELECT (%(first)s::text[])[1 + {pick(27, len(FIRST))}] f, (%(last)s::text[])[1 + {pick(28, len(LAST))}] l,
                        {pick(29, len(COUNTRIES))} k, now() - make_interval(mins => {pick(30, TWO_YEARS_MIN)}) t,
                        '+35844' || lpad(g::text, 7, '0') p,
                        CASE WHEN {pick(31, 10)} < 3 THEN 1 WHEN {pick(31, 10)} = 3 THEN 2 ELSE 0 END consent,
                        {pick(32, 10)} = 0 dnc) r,
        LATERAL (SELECT lower(f) || '.' || lower(l) || g || '@example' || (g %% 997) || '.com' e) m""",
                   dict(n=n, salutations=salutations, titles=TITLES, cities=CITIES, countries=COUNTRIES,
                        languages=languages, first=FIRST, last=LAST))


def _opportunities(cursor, n: int, big_id: int) -> None:
    from opportunities.models import Pipeline

    accounts = _pool(cursor, "seed_accounts", f"SELECT id, owner_id FROM accounts_account WHERE id <> {big_id}")
    if not accounts or n <= 0:
        return
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    stages = list(pipeline.stages.order_by("order", "pk").values_list("pk", "probability"))
    # The account's first contact (the lowest id) is the opportunity's contact.
    cursor.execute(f"""
        INSERT INTO opportunities_opportunity (name, account_id, contact_id, pipeline_id, stage_id, amount, currency,
            probability, close_date, lead_source, campaign_id, description, owner_id, created_by_id, created_at,
            updated_at, custom, opportunity_type, next_step, competitors, stage_entered_at)
        SELECT acc.name || ' deal' || CASE WHEN g > {accounts} THEN ' ' || (1 + (g - 1) / {accounts}) ELSE '' END,
            a.id, (SELECT min(c.id) FROM accounts_contact c WHERE c.account_id = a.id), %(pipeline)s,
            (%(stage_ids)s::bigint[])[1 + s], (1 + {pick(41, 500)}) * 100, 'EUR', (%(probabilities)s::int[])[1 + s],
            current_date - 200 + {pick(42, 400)}::int, '', NULL, '', a.owner_id, NULL, t, t, '{{}}',
            'new_business', '', '', t
        FROM generate_series(1, %(n)s) g
        JOIN seed_accounts a ON a.rn = 1 + (g - 1) %% {accounts}
        JOIN accounts_account acc ON acc.id = a.id,
        LATERAL (SELECT {pick(43, len(stages))} s, now() - make_interval(mins => {pick(44, TWO_YEARS_MIN)}) t) r""",
                   dict(n=n, pipeline=pipeline.pk, stage_ids=[s for s, _ in stages],
                        probabilities=[p for _, p in stages]))


ACTIVITY_COLUMNS = """kind, verb, subject, body, content_type_id, object_id, actor_id, assigned_to_id, status, priority,
    direction, due_at, ends_at, location, duration_minutes, outcome, remind_minutes, body_html, sequence, data,
    occurred_at, created_at, updated_at"""


def _activity_select(pool: str, count_sql: str, n: int, content_type: int, salt: int) -> str:
    """INSERT … SELECT of `n` activities on the records of `pool`, one picked per row."""
    return f"""
        INSERT INTO activities_activity ({ACTIVITY_COLUMNS})
        SELECT kind, '',
            CASE kind WHEN 'call' THEN 'Call about ' || (%(topics)s::text[])[1 + topic]
                      WHEN 'email' THEN 'Re: ' || (%(topics)s::text[])[1 + topic]
                      WHEN 'note' THEN 'Note: ' || (%(topics)s::text[])[1 + topic]
                      WHEN 'task' THEN 'Follow up on ' || (%(topics)s::text[])[1 + topic]
                      ELSE 'Meeting: ' || (%(topics)s::text[])[1 + topic] END,
            CASE WHEN kind IN ('call', 'note', 'email') THEN 'Talked through ' || (%(topics)s::text[])[1 + topic]
                 || '; next step agreed.' ELSE '' END,
            {content_type}, t.id, t.owner_id, CASE WHEN kind IN ('task', 'meeting') THEN t.owner_id END,
            CASE WHEN kind = 'task' AND ts > now() - interval '7 days' THEN 'open' ELSE 'done' END,
            CASE {pick(salt + 1, 10)} WHEN 0 THEN 'high' WHEN 1 THEN 'low' ELSE 'normal' END,
            CASE WHEN kind IN ('call', 'email') THEN CASE WHEN {pick(salt + 2, 3)} = 0 THEN 'inbound' ELSE 'outbound'
                 END ELSE '' END,
            CASE WHEN kind = 'task' THEN ts + interval '3 days' WHEN kind = 'meeting' THEN ts END,
            CASE WHEN kind = 'meeting' THEN ts + interval '1 hour' END,
            CASE WHEN kind = 'meeting' THEN (%(places)s::text[])[1 + {pick(salt + 3, 3)}] ELSE '' END,
            CASE WHEN kind = 'call' THEN 1 + {pick(salt + 4, 45)} END,
            CASE WHEN kind = 'call' THEN (%(outcomes)s::text[])[1 + {pick(salt + 5, 6)}] ELSE '' END,
            NULL,
            CASE WHEN kind = 'note' THEN '<p>Talked through <strong>' || (%(topics)s::text[])[1 + topic]
                 || '</strong>; next step agreed.</p>' ELSE '' END,
            0, '{{}}', ts, ts, ts
        FROM generate_series(1, {int(n)}) g
        JOIN {pool} t ON t.rn = 1 + {pick(salt, count_sql)},
        LATERAL (SELECT CASE WHEN k < 7 THEN 'call' WHEN k < 12 THEN 'email' WHEN k < 15 THEN 'note'
                             WHEN k < 18 THEN 'task' ELSE 'meeting' END kind,
                        {pick(salt + 6, 8)} topic, now() - make_interval(mins => {pick(salt + 7, TWO_YEARS_MIN)}) ts
                 FROM (SELECT {pick(salt + 8, 20)} k) kk) r"""


ACTIVITY_PARAMS = dict(
    topics=["pricing", "the renewal", "the pilot", "integration", "the contract", "onboarding", "support", "the demo"],
    places=["Office", "Video call", "Customer site"],
    outcomes=["connected", "voicemail", "no_answer", "busy", "call_back", "connected"])


def _activities(cursor, n: int, big_id: int, stdout) -> None:
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import Account, Contact
    from leads.models import Lead
    from opportunities.models import Opportunity

    models = {"leads.lead": Lead, "accounts.account": Account, "accounts.contact": Contact,
              "opportunities.opportunity": Opportunity}
    content_types = {key: ContentType.objects.get_for_model(model).pk for key, model in models.items()}
    big = {"accounts.account": f"SELECT id, owner_id FROM accounts_account WHERE id = {big_id}",
           "accounts.contact": f"SELECT id, owner_id FROM accounts_contact WHERE account_id = {big_id}",
           "opportunities.opportunity": f"SELECT id, owner_id FROM opportunities_opportunity WHERE account_id = {big_id}"}
    rest = {"leads.lead": "SELECT id, owner_id FROM leads_lead",
            "accounts.account": f"SELECT id, owner_id FROM accounts_account WHERE id <> {big_id}",
            "accounts.contact": f"SELECT id, owner_id FROM accounts_contact WHERE account_id IS DISTINCT FROM {big_id}",
            "opportunities.opportunity": f"SELECT id, owner_id FROM opportunities_opportunity "
                                         f"WHERE account_id IS DISTINCT FROM {big_id}"}
    big_items = min(BIG_ACCOUNT_ITEMS, n)
    # The big account: half on the account itself, 35% on its contacts, 15% on its opportunities.
    big_split = {"accounts.account": big_items // 2, "accounts.contact": big_items * 35 // 100}
    big_split["opportunities.opportunity"] = big_items - sum(big_split.values())
    plan = [(f"big_{key.split('.')[1]}", big[key], key, count) for key, count in big_split.items()]
    remaining = n - big_items
    split = {key: int(remaining * share) for key, share in SHARES}
    split["leads.lead"] += remaining - sum(split.values())
    plan += [(f"pool_{key.split('.')[1]}", rest[key], key, count) for key, count in split.items()]
    for salt, (pool, sql, key, count) in enumerate(plan):
        if count <= 0:
            continue
        started = time.time()
        size = _pool(cursor, pool, sql)
        if size == 0:
            stdout(f"    no {key} to attach {count:,} activities to")
            continue
        cursor.execute(_activity_select(pool, str(size), count, content_types[key], 100 + 10 * salt), ACTIVITY_PARAMS)
        stdout(f"    {count:,} activities on {size:,} {key} ({time.time() - started:.0f} s)")


def seed(*, accounts: int, contacts: int, opportunities: int | None, activities: int, stdout=print) -> None:
    opportunities = accounts if opportunities is None else opportunities
    started = time.time()
    with transaction.atomic():
        _permissions()
        big = _big_account() if accounts else None
    big_id = big.pk if big else 0
    with connection.cursor() as cursor:
        for table, count, load in (
                ("accounts_account", accounts, lambda: _accounts(cursor, max(0, accounts - 1))),
                ("accounts_contact", contacts, lambda: _contacts(cursor, max(0, contacts - BIG_ACCOUNT_CONTACTS), big_id)),
                ("opportunities_opportunity", opportunities,
                 lambda: _opportunities(cursor, max(0, opportunities - BIG_ACCOUNT_OPPORTUNITIES), big_id)),
                ("activities_activity", activities, lambda: _activities(cursor, activities, big_id, stdout))):
            if count <= 0:
                continue
            step = time.time()
            with transaction.atomic(), indexes_rebuilt(cursor, table, stdout):
                load()
            cursor.execute(f"ANALYZE {table}")
            stdout(f"  {table}: {count:,} rows ({time.time() - step:.0f} s)")
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    stdout(f"Done: {accounts:,} accounts, {contacts:,} contacts, {opportunities:,} opportunities and {activities:,} "
           f"activities in {time.time() - started:.0f} s; {BIG_ACCOUNT_NAME} ({BIG_ACCOUNT_REP}) has "
           f"{min(BIG_ACCOUNT_ITEMS, activities):,} timeline items")
