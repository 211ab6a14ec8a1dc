"""One permission per operation, whatever the path: API, support page, admin action, link.

Every path that runs an operation asks `may(user, name)`; the role groups
(support.roles) grant the permissions named here. docs/security.md lists the
matrix, and cxhub/tests/test_permission_matrix.py checks it on every URL.
"""

RULES = {
    # Responding to an incident changes its state.
    "acknowledge": "incidents.change_incident",
    "resolve": "incidents.change_incident",
    "silence": "incidents.change_incident",
    # Ending a maintenance window changes what pages and pushes are held.
    "end_maintenance": "incidents.change_maintenancewindow",
    "test_page": "notifications.change_team",
    "test_push": "notifications.change_device",
    "kill_switch": "notifications.change_pushswitch",
    # Counting recent unmatched triggers into the action just created for them.
    "triage_reprocess": "actions.add_action",
    # Reading a channel's full target (an Apprise URL with its secrets).
    "reveal_channel_target": "notifications.change_channel",
}


def may(user, operation: str) -> bool:
    """Return whether `user` may run `operation` (a key of RULES)."""
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "is_active", False)
        and user.has_perm(RULES[operation])
    )
