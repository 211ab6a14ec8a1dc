"""The incident side's public writes, for the API, the admin, commands and tests.

Behind it the pipeline runs one way, like water downhill:
ingest -> (doorbell) -> drain -> counting -> evaluation -> resolution ->
paging / pushes -> timeline -> notifications (the delivery engine).
`commands` (acknowledge, silence, maintenance) sit above evaluation. Those
modules import each other downhill only and never this one.
"""

from incidents.counting.alerts import alerts_acknowledge, alerts_record, alerts_resolve
from incidents.counting.drain import report_process, reports_drain
from incidents.counting.opening import incident_count_occurrence, incident_reopen_flapping
from incidents.counting.rule import occurrences_count
from incidents.counting.sweep import sweep
from incidents.counting.triage import triage_digest_send, triage_record, triage_reprocess
from incidents.history.timeline import event_add
from incidents.intake.ingest import integration_admit, integration_reject, report_ingest
from incidents.lifecycle.commands import (
    incident_acknowledge,
    incident_silence,
    maintenance_end,
    maintenance_saved,
)
from incidents.lifecycle.evaluation import incident_check, incident_evaluate
from incidents.lifecycle.resolution import incident_resolve
from incidents.outreach.paging import incident_link, page_tier, page_triage, teams_tell
from incidents.outreach.pushes import action_pushes_cancel, all_clear_fan_out, push_fan_out

__all__ = [
    "action_pushes_cancel",
    "alerts_acknowledge",
    "alerts_record",
    "alerts_resolve",
    "all_clear_fan_out",
    "event_add",
    "incident_acknowledge",
    "incident_check",
    "incident_count_occurrence",
    "incident_evaluate",
    "incident_link",
    "incident_reopen_flapping",
    "incident_resolve",
    "incident_silence",
    "integration_admit",
    "integration_reject",
    "maintenance_end",
    "maintenance_saved",
    "occurrences_count",
    "page_tier",
    "page_triage",
    "push_fan_out",
    "report_ingest",
    "report_process",
    "reports_drain",
    "sweep",
    "teams_tell",
    "triage_digest_send",
    "triage_record",
    "triage_reprocess",
]
