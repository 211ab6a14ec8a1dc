"""The incidents app's models, one idea per module; `incidents.models.X` stays the import path."""

from incidents.models.incident import Incident, TimelineEvent
from incidents.models.integrations import Integration, endpoint_of, ingest_kinds
from incidents.models.maintenance import RecurringMaintenance
from incidents.models.monitoring import ChangeEvent, HeartbeatCheck
from incidents.models.reports import AlertInstance, Report, Trigger
from incidents.models.response import MaintenanceWindow, PushApproval
from incidents.models.tokens import hash_token
from incidents.models.triage import TriageAlert, TriageDigest

__all__ = [
    "AlertInstance",
    "ChangeEvent",
    "HeartbeatCheck",
    "Incident",
    "Integration",
    "MaintenanceWindow",
    "PushApproval",
    "RecurringMaintenance",
    "Report",
    "TimelineEvent",
    "TriageAlert",
    "TriageDigest",
    "Trigger",
    "endpoint_of",
    "hash_token",
    "ingest_kinds",
]
