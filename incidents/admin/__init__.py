"""The Django admin of incidents: each module registers the pages of one idea."""

from incidents.admin import (  # noqa: F401 (registers)
    approvals,
    incidents,
    maintenance,
    monitoring,
    records,
)
