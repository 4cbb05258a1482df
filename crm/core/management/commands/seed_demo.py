from django.core.management.base import BaseCommand

from crm.core import demo


class Command(BaseCommand):
    help = "Load the demo data (idempotent: a second run keeps what users changed)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=60)

    def handle(self, *args, leads, **options):
        demo.seed_all(leads=leads, stdout=self.stdout if options["verbosity"] else None)
