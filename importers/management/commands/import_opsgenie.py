"""python manage.py import_opsgenie --api-key KEY [--api-url URL] [--plan]"""

from importers import opsgenie
from importers.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import Opsgenie users and contact methods, teams, schedules (rotations, time "
        "restrictions, overrides) and escalations (as actions with tiers). Run again: it "
        "changes only what changed. --plan writes nothing."
    )
    tool = "Opsgenie"
    api_url = opsgenie.API_URL

    def client(self, api_url, api_key):
        return opsgenie.client(api_url, api_key)

    def snapshot(self, api, now):
        return opsgenie.translate(opsgenie.read(api), now=now)
