"""python manage.py import_pagerduty --api-key KEY [--api-url URL] [--plan]"""

from importers import pagerduty
from importers.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import PagerDuty users and contact methods, teams, schedules (layers, restrictions, "
        "overrides) and escalation policies (as actions with tiers). Run again: it changes "
        "only what changed. --plan writes nothing."
    )
    tool = "PagerDuty"
    api_url = pagerduty.API_URL

    def client(self, api_url, api_key):
        return pagerduty.client(api_url, api_key)

    def snapshot(self, api, now):
        return pagerduty.translate(pagerduty.read(api, now=now), now=now)
