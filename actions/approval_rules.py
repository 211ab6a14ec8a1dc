"""Four eyes that one person cannot switch off: the bank's setting is a floor.

The bank-wide settings (CXHUB_PUSH_APPROVAL_THRESHOLD, CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS)
say how much a mass push needs a second person; an action may only ask for more
(a lower threshold, a timeout that cancels), never for less. A person who changed
an action since its content was last approved is one of its authors, and an
author cannot approve its push alone. Viewing (the dry run) is not authoring.
"""

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _


def approval_threshold(action_threshold: int | None) -> int:
    """Return the stricter of the action's and the bank's threshold (0: never asks)."""
    bank = settings.CXHUB_PUSH_APPROVAL_THRESHOLD
    if not action_threshold:  # empty defers to the bank; 0 cannot switch it off
        return bank
    return min(action_threshold, bank) if bank else action_threshold


def timeout_sends(action_sends: bool) -> bool:
    """Return whether an approval nobody decided may send: only if the bank allows it."""
    return bool(action_sends) and settings.CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS


def laxer_than_bank(*, threshold, timeout_sends) -> dict[str, str]:
    """Return {field: why} for the approval settings that would loosen the bank's."""
    bank = settings.CXHUB_PUSH_APPROVAL_THRESHOLD
    errors = {}
    if bank and threshold == 0:
        errors["approval_threshold"] = _(
            "The bank-wide threshold is %(bank)s customers: an action cannot switch approval "
            "off (leave it empty to use the bank's)."
        ) % {"bank": bank}
    elif bank and threshold and threshold > bank:
        errors["approval_threshold"] = _(
            "The bank-wide threshold is %(bank)s customers: an action may ask at most %(bank)s."
        ) % {"bank": bank}
    if timeout_sends and not settings.CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS:
        errors["approval_timeout_sends"] = _(
            "The bank's setting (CXHUB_PUSH_APPROVAL_TIMEOUT_SENDS) says a timeout may not "
            "send a push nobody approved: it cancels."
        )
    return errors


def authors(action) -> list[str]:
    """Return who changed the action since its content was last approved, and its last editor."""
    approved = action.push_approved_at
    names = {
        name
        for name, at in (action.push_authors or {}).items()
        if approved is None or datetime.fromisoformat(at) > approved
    }
    return sorted((names | {action.last_edited_by}) - {""})


def author_add(action, username: str, *, now) -> None:
    """Record `username` as having changed the action at `now` (saved by the caller)."""
    action.push_authors = {**(action.push_authors or {}), username: now.isoformat()}
