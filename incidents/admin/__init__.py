"""The Django admin of incidents: each module registers the pages of one idea."""

from incidents.admin import approvals, incidents, monitoring, records  # noqa: F401 (registers)
