from django.core.management.base import BaseCommand

from incidents.counting.retention import retention_prune


class Command(BaseCommand):
    help = (
        "Delete processed reports and their triggers older than CXHUB_RETENTION_DAYS and blank "
        "old delivery messages and recipients; incidents and timelines are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override CXHUB_RETENTION_DAYS.")

    def handle(self, *args, days=None, **options):
        result = retention_prune(trigger_days=days, delivery_days=days)
        self.stdout.write(
            f"Pruned {result['reports']} report(s) with their triggers and "
            f"{result['deliveries']} delivery detail(s)."
        )
