"""What `import_opsgenie` and `import_pagerduty` share: arguments, the run, the report."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from importers import specs
from importers.client import Client, SourceError
from importers.services import snapshot_apply


class ImportCommand(BaseCommand):
    """Read a tool's account through its REST API and write it into cxhub (or plan it)."""

    tool = ""  # "Opsgenie"
    api_url = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "--api-url", default=self.api_url, help=f"The API's root (default {self.api_url})."
        )
        parser.add_argument("--api-key", required=True, help=f"A {self.tool} API key (read).")
        parser.add_argument(
            "--plan",
            action="store_true",
            help="Print what would be created or changed, and write nothing.",
        )

    def client(self, api_url: str, api_key: str) -> Client:
        raise NotImplementedError

    def snapshot(self, api: Client, now) -> specs.Snapshot:
        raise NotImplementedError

    def handle(self, *args, api_url, api_key, plan, **options):
        now = timezone.now()
        try:
            api = self.client(api_url, api_key)
            snapshot = self.snapshot(api, now)
        except SourceError as error:
            raise CommandError(f"{self.tool}: {error}") from None
        self.stdout.write(
            f"Read from {api.base_url} in {api.requests} request(s): "
            f"{len(snapshot.people)} people, {len(snapshot.teams)} team(s), "
            f"{len(snapshot.schedules)} schedule(s), {len(snapshot.policies)} escalation(s)."
        )
        report = snapshot_apply(snapshot, plan=plan, now=now)
        for line in report.lines:
            self.stdout.write(line)
        counts = f"{report.created} to create, {report.changed} to change"
        if plan:
            self.stdout.write(f"Plan: {counts}, {report.skipped} skipped. Nothing was written.")
        elif report.created or report.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Done: {report.created} created, {report.changed} changed, "
                    f"{report.skipped} skipped."
                )
            )
        else:
            self.stdout.write(
                f"Nothing to change: cxhub already matches {self.tool} "
                f"({report.skipped} skipped, as before)."
            )
