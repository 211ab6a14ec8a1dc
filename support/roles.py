"""The two staff roles, as auth groups created from code after every migrate.

CX staff configure what cxhub does (actions, teams, audiences, integrations);
Support read what happened and respond to incidents (acknowledge, resolve,
silence). Both are `is_staff` users: the admin shows each only what its
group's model permissions allow.
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

CX_STAFF = "CX staff"
SUPPORT = "Support"

VIEW_INCIDENTS = "incidents.view_incident"
# The customer lookup: a customer's services and what was pushed to them (token tails only).
VIEW_CUSTOMERS = "notifications.view_customer"

ALL = ("add", "change", "delete", "view")

# Models whose rows cxhub writes itself: people only read them.
HISTORY = {
    ("incidents", "incident"),
    ("incidents", "trigger"),
    ("incidents", "report"),
    ("incidents", "timelineevent"),
    ("incidents", "triagealert"),
    ("incidents", "changeevent"),
    ("notifications", "delivery"),
}


def _cx_staff_grants(app_label: str, model: str) -> tuple[str, ...]:
    if (app_label, model) in HISTORY:
        return ("view",)
    if (app_label, model) == ("incidents", "pushapproval"):
        # A second CX staff member approves a mass push (never the action's editor).
        return ("view", "decide")
    if app_label in ("actions", "notifications") or (app_label, model) in {
        ("incidents", "integration"),
        ("incidents", "maintenancewindow"),
        ("incidents", "recurringmaintenance"),
        ("incidents", "heartbeatcheck"),
        ("statuspage", "openfinanceendpoint"),  # edited inline on a service
    }:
        return ALL
    if app_label == "apikeys":
        return ALL  # their own keys only: apikeys.admin shows nobody else's
    return ()


def _support_grants(app_label: str, model: str) -> tuple[str, ...]:
    if (app_label, model) == ("incidents", "incident"):
        return ("view", "change")
    if app_label == "apikeys":
        return ALL  # their own keys only: apikeys.admin shows nobody else's
    if (app_label, model) in HISTORY:
        return ("view",)
    # What an incident refers to: its action, the tiers and teams paged.
    if app_label == "actions" or (app_label, model) in {
        ("statuspage", "openfinanceendpoint"),  # shown inline on a service
        ("notifications", "team"),
        ("notifications", "channel"),
        # The customer lookup: customers and the push ledger, never device tokens.
        ("notifications", "customer"),
        ("notifications", "pushrecord"),
        ("incidents", "heartbeatcheck"),  # why a "monitoring is blind" incident opened
    }:
        return ("view",)
    return ()


ROLES = {CX_STAFF: _cx_staff_grants, SUPPORT: _support_grants}
ROLE_LABELS = {CX_STAFF: _("CX staff"), SUPPORT: _("Support")}


def role_permissions(role: str, using: str = "default") -> list[Permission]:
    """Return the model permissions a role's group holds, from the models installed now."""
    grants = ROLES[role]
    wanted = set()
    for model in global_apps.get_models():
        meta = model._meta
        for verb in grants(meta.app_label, meta.model_name):
            wanted.add((meta.app_label, f"{verb}_{meta.model_name}"))
    return [
        perm
        for perm in Permission.objects.using(using).select_related("content_type")
        if (perm.content_type.app_label, perm.codename) in wanted
    ]


def groups_ensure(using: str = "default", **kwargs) -> None:
    """Create or update the role groups so they hold exactly their permissions.

    Connected to post_migrate of the last app, after Django has created every
    model's permissions; running it again changes nothing.
    """
    for role in ROLES:
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(role_permissions(role, using))
