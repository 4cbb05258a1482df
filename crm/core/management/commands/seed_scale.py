import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Generate a large dataset for benchmarks (bench/scale.py)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--batch", type=int, default=100_000)

    def handle(self, *args, leads, users, batch, **options):
        sys.path.insert(0, str(Path(settings.BASE_DIR)))
        from bench import scale

        scale.seed(leads=leads, users=users, batch=batch, stdout=lambda line: self.stdout.write(line))
