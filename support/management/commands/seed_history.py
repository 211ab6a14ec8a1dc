"""Seed a year (or `--days`) of history into PostgreSQL for the scale benchmarks."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from support.history_seed import HistorySize, history_seed, seeded


class Command(BaseCommand):
    help = (
        "Write realistic history (incidents, reports, triggers, timelines, deliveries, a push "
        "ledger, customers, change events, approvals) with PostgreSQL's bulk paths."
    )

    def add_arguments(self, parser):
        defaults = HistorySize()
        parser.add_argument("--days", type=int, default=defaults.days)
        parser.add_argument("--triggers-per-day", type=int, default=defaults.triggers_per_day)
        parser.add_argument("--incidents-per-day", type=int, default=defaults.incidents_per_day)
        parser.add_argument("--actions", type=int, default=defaults.actions)
        parser.add_argument("--services", type=int, default=defaults.services)
        parser.add_argument("--customers", type=int, default=defaults.customers)
        parser.add_argument("--ledger-rows", type=int, default=defaults.ledger_rows)
        parser.add_argument("--ledger-incidents", type=int, default=defaults.ledger_incidents)
        parser.add_argument(
            "--storm-occurrences",
            type=int,
            default=defaults.storm_occurrences,
            help="Triggers of the storm incident two days ago (the incident page's worst case).",
        )
        parser.add_argument(
            "--change-events-per-day", type=int, default=defaults.change_events_per_day
        )
        parser.add_argument(
            "--approval-every",
            type=int,
            default=defaults.approval_every,
            help="One pushed incident in N asked for an approval (1: every one).",
        )
        parser.add_argument("--no-analyze", action="store_true", help="Skip VACUUM ANALYZE.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_history writes with PostgreSQL's bulk paths: set DATABASE_URL."
            )
        if seeded():
            raise CommandError("This database already holds seeded history; use a fresh one.")
        size = HistorySize(
            days=options["days"],
            triggers_per_day=options["triggers_per_day"],
            incidents_per_day=options["incidents_per_day"],
            actions=options["actions"],
            services=options["services"],
            customers=options["customers"],
            ledger_rows=options["ledger_rows"],
            ledger_incidents=options["ledger_incidents"],
            storm_occurrences=options["storm_occurrences"],
            change_events_per_day=options["change_events_per_day"],
            approval_every=options["approval_every"],
        )
        # The support logins and role groups come with the demo scenario.
        call_command("demo", quiet=True)
        started = time.monotonic()
        history_seed(size, log=self.stdout.write)
        seeding = time.monotonic() - started
        if not options["no_analyze"]:
            started = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            self.stdout.write(f"VACUUM ANALYZE in {time.monotonic() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            database_size = cursor.fetchone()[0]
        self.stdout.write(
            self.style.SUCCESS(f"Seeded in {seeding:.1f} s; the database is {database_size}.")
        )
