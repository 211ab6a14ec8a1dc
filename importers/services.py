"""Writes: an imported snapshot becomes people, contact methods, teams, schedules, actions, tiers.

One function, `snapshot_apply`, in one transaction. `plan=True` runs the very
same writes and rolls them back, so the plan cannot drift from what a run does.
Each object of the source is remembered in `ImportedObject`, so a second run
finds what the first made and changes only what differs (nothing, if the source
did not change). The importer adds and updates; it never deletes a person, a
team or a schedule (it rewrites the layers and tiers of what it imported, and
removes the overrides the source cancelled).
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from importers import specs
from importers.escalations import policies_write
from importers.people import people_write, teams_write
from importers.run import Report, Run
from importers.schedules import schedules_write


def snapshot_apply(
    snapshot: specs.Snapshot, *, plan: bool = False, now: datetime | None = None
) -> Report:
    """Write a snapshot into cxhub (or, with `plan`, say what that would do); return the report."""
    run = Run(snapshot.source, Report(), now or timezone.now())
    with transaction.atomic():
        people = people_write(run, snapshot.people)
        teams = teams_write(run, snapshot.teams)
        schedules = schedules_write(run, snapshot.schedules, people, teams)
        policies_write(run, snapshot.policies, people, teams, schedules)
        for text in snapshot.skipped:
            run.report.skip(text)
        if plan:
            transaction.set_rollback(True)
    return run.report
