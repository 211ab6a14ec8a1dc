"""Freeze the support pages' figures of every settled incident ahead of its first view."""

import time

from django.core.management.base import BaseCommand

from support.summaries import summaries_freeze


class Command(BaseCommand):
    help = "Count and keep the figures of resolved incidents that have none yet."

    def handle(self, *args, **options):
        started = time.monotonic()
        frozen = summaries_freeze()
        self.stdout.write(f"Froze {frozen} incident(s) in {time.monotonic() - started:.1f} s.")
