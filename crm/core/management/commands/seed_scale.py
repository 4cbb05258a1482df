import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Generate a large dataset for benchmarks (bench/scale.py): users and leads; with --accounts, also "
            "accounts, contacts, opportunities and activities (bench/scale_customers.py), written set-wise.")

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--batch", type=int, default=100_000)
        parser.add_argument("--accounts", type=int, default=0,
                            help="accounts of the bench reps, one of them bench-rep0-0's with 2,000 timeline items")
        parser.add_argument("--contacts", type=int, default=0, help="contacts, spread over the accounts")
        parser.add_argument("--opportunities", type=int, default=None,
                            help="opportunities, spread over the accounts (default: one per account)")
        parser.add_argument("--activities", type=int, default=0,
                            help="activities on leads, accounts, contacts and opportunities")

    def handle(self, *args, leads, users, batch, accounts, contacts, opportunities, activities, **options):
        sys.path.insert(0, str(Path(settings.BASE_DIR)))
        from bench import scale

        def out(line):
            self.stdout.write(line)

        scale.seed(leads=leads, users=users, batch=batch, stdout=out)
        if accounts or contacts or opportunities or activities:
            from bench import scale_customers

            scale_customers.seed(accounts=accounts, contacts=contacts, opportunities=opportunities,
                                 activities=activities, stdout=out)
