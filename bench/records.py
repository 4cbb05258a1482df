"""Accounts, contacts and opportunities for the bench users, so their lists and an account's page have
something to show (seed_scale writes leads only). Run with the working directory at the code whose
models to use: bench/speed.py runs it once for each version it compares, against that version's database.

    cd <code> && DATABASE_URL=… python /work/main/bench/records.py --accounts 100000

Only fields both the older and the current models have are written, through the ORM (bulk_create), so the
same script fills either schema. Each account gets two contacts and one opportunity of the same owner."""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

COMPANY = ["Nordic", "Aalto", "Pars", "Alborz", "Summit", "Harbor", "Blue", "Green", "Lapland", "Tampere"]
SUFFIX = ["Oy", "Ltd", "Group", "AB", "Inc", "Co"]
FIRST = ["Mikko", "Anna", "Sara", "Reza", "Emily", "James", "Liisa", "Ali", "Maryam", "Juha", "Olivia", "Noah"]
LAST = ["Virtanen", "Korhonen", "Ahmadi", "Karimi", "Smith", "Johnson", "Laine", "Hosseini", "Brown", "Nieminen"]
COUNTRIES = ["FI", "IR", "GB", "US", "SE", "DE"]
CITIES = ["Helsinki", "Tehran", "London", "Boston", "Stockholm", "Berlin"]
RECORD_TYPES = ("accounts.account", "accounts.contact", "opportunities.opportunity")


def seed(*, accounts: int, batch: int = 5_000, stdout=print) -> None:
    from django.db import connection, transaction

    from accounts.models import Account, Contact
    from crm.access import services
    from crm.access.models import ObjectPermission, PermissionProfile, User
    from opportunities.models import Opportunity, Pipeline

    started = time.time()
    with transaction.atomic():
        # The bench profile (seed_scale's) may read and export these types too; sharing stays private, as for
        # leads, so a manager sees the role tree below and a rep only their own.
        profile = PermissionProfile.objects.get(name="Bench rep")
        for record_type in RECORD_TYPES:
            ObjectPermission.objects.update_or_create(profile=profile, record_type=record_type,
                                                      defaults={"can_view": True, "can_export": True})
            services.org_default_set(actor=None, record_type=record_type, access="private")
    reps = list(User.objects.filter(email__startswith="bench-rep").order_by("pk").values_list("pk", flat=True))
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    stages = list(pipeline.stages.all())
    rng = random.Random(7)
    today = date.today()
    done = 0
    while done < accounts:
        size = min(batch, accounts - done)
        with transaction.atomic():
            rows = []
            for i in range(done, done + size):
                k = rng.randrange(len(COUNTRIES))
                rows.append(Account(
                    name=f"{rng.choice(COMPANY)} {rng.choice(COMPANY)} {rng.choice(SUFFIX)} {i}",
                    owner_id=rng.choice(reps), billing_country=COUNTRIES[k], billing_city=CITIES[k],
                    industry="technology", phone=f"+35850{i:07d}", employees=rng.randint(1, 5000)))
            made = Account.objects.bulk_create(rows)
            contacts = []
            for account in made:
                for _ in range(2):
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    contacts.append(Contact(
                        first_name=first, last_name=last, account_id=account.pk, owner_id=account.owner_id,
                        email=f"{first.lower()}.{last.lower()}{account.pk}@example.com", title="Buyer",
                        email_normalized=f"{first.lower()}.{last.lower()}{account.pk}@example.com",
                        mailing_country=account.billing_country))
            contacts = Contact.objects.bulk_create(contacts)
            opportunities = []
            for n, account in enumerate(made):
                stage = rng.choice(stages)
                opportunities.append(Opportunity(
                    name=f"{account.name} deal", account_id=account.pk, contact_id=contacts[2 * n].pk,
                    owner_id=account.owner_id, pipeline=pipeline, stage=stage, probability=stage.probability,
                    amount=Decimal(rng.randint(1, 500) * 100), close_date=today + timedelta(days=rng.randint(-200, 200))))
            Opportunity.objects.bulk_create(opportunities)
        done += size
        if done % 50_000 == 0 or done == accounts:
            stdout(f"  {done:,} accounts, {2 * done:,} contacts, {done:,} opportunities ({time.time() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True)
    args = parser.parse_args()
    # The models are those of the code in the working directory, not of the checkout this file lives in.
    sys.path.insert(0, str(Path.cwd()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    seed(accounts=args.accounts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
