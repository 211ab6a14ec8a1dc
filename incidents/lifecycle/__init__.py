"""An incident's life: pure escalation, what is due, approvals, resolution, commands."""
