"""The verbs people and senders call: the API, the admin, the support pages, commands.

People acknowledge, resolve and silence incidents, keep maintenance windows,
re-process triaged triggers and stop an action's pushes; senders hand in
reports. Everything behind these runs one way, like water downhill (intake ->
counting -> lifecycle -> outreach -> history, see docs/architecture.md), and
is imported from its own package, never through this module.
"""

from incidents.counting.triage import triage_reprocess
from incidents.intake.ingest import integration_admit, integration_reject, report_ingest
from incidents.lifecycle.commands import (
    incident_acknowledge,
    incident_silence,
    maintenance_end,
    maintenance_saved,
)
from incidents.lifecycle.resolution import incident_resolve
from incidents.outreach.pushes import action_pushes_cancel

__all__ = [
    "action_pushes_cancel",
    "incident_acknowledge",
    "incident_resolve",
    "incident_silence",
    "integration_admit",
    "integration_reject",
    "maintenance_end",
    "maintenance_saved",
    "report_ingest",
    "triage_reprocess",
]
