from django.core.management.base import BaseCommand

from incidents.counting.bounds import (
    incident_bounds_fill,
    incident_bounds_forget,
    incident_bounds_left,
)


class Command(BaseCommand):
    help = (
        "Fill the trigger bounds and report counts of incidents that have none (opened before "
        "the release that keeps them), so their reports are read from their own days. Safe "
        "while workers of this release count; run it after the last worker of an earlier "
        "release stopped (those do not keep the bounds)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--again",
            action="store_true",
            help="Recompute every incident's (after an earlier release's workers counted).",
        )

    def handle(self, *args, again=False, **options):
        if again:
            incident_bounds_forget()
        filled = incident_bounds_fill()
        self.stdout.write(f"Filled the bounds of {filled} incident(s).")
        if left := incident_bounds_left():
            self.stdout.write(f"{left} incident(s) were busy: run it again.")
