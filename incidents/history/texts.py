"""Timeline details as a message key with parameters, rendered in the reader's language.

A detail is stored twice: `params` ({"m": key, ...values}) for rendering in any
language, and `detail`, the English text, for rows written before this existed,
for the API's plain `detail` and for logs. Parameter values are plain JSON;
three shapes are rendered specially:
- {"t": "<ISO time>"}: a moment, in the current time zone with its offset;
- {"c": "<choices name>", "v": "<value>"}: a choice's label (a delivery purpose);
- {"m": "<key>", ...}: a nested detail (what failed, inside "failed: ...").
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext_noop

from cxhub.timefmt import local_label

# Every detail cxhub writes; the English text is the msgid, so the .po file
# translates them like any other string.
MESSAGES = {
    "opened": gettext_noop("Opened by action %(action)s"),
    "milestone": gettext_noop("%(n)s occurrences"),
    "push_queued": gettext_noop(
        "Outage push queued at %(occurrences)s occurrences in %(batches)s batch(es)"
    ),
    "tier_paged": gettext_noop(
        "Tier %(level)s (%(name)s) paged through %(channels)s channel(s) at "
        "%(occurrences)s occurrences"
    ),
    "all_clear_queued": gettext_noop(
        "All-clear queued in %(batches)s batch(es) for the customers who got the push; "
        "%(cancelled)s unsent push batch(es) cancelled"
    ),
    "ack_expired": gettext_noop(
        "Acknowledged by %(by)s at %(at)s and not resolved within %(minutes)s minute(s): "
        "open again, escalation resumes after tier %(level)s."
    ),
    "silence_ran_out": gettext_noop("Silence by %(by)s ran out."),
    "maintenance": gettext_noop(
        "Maintenance window “%(reason)s” until %(until)s: occurrences count, no push and "
        "no page go out."
    ),
    "maintenance_ended": gettext_noop(
        "Maintenance over with the failure still going (%(occurrences)s occurrences): "
        "normal escalation starts now."
    ),
    "repeat_paged": gettext_noop(
        "Tier %(level)s (%(name)s) paged again (repeat %(repeat)s) through %(channels)s "
        "channel(s): still not acknowledged at %(occurrences)s occurrences"
    ),
    "teams_told_acknowledged": gettext_noop(
        "%(count)s paged channel(s) told it was acknowledged by %(actor)s"
    ),
    "teams_told_resolved": gettext_noop(
        "%(count)s paged channel(s) told it was resolved by %(actor)s"
    ),
    "reopened": gettext_noop(
        "A trigger came %(minutes)s minute(s) after it was resolved by %(by)s, within the "
        "%(flap)s-minute flap window: the same incident reopens at tier %(level)s."
    ),
    "reopened_all_clear_cancelled": gettext_noop(
        "%(cancelled)s unsent all-clear batch(es) cancelled"
    ),
    "silenced": gettext_noop(
        "No pages for %(minutes)s minute(s), until %(until)s; occurrences still count."
    ),
    "silenced_note": gettext_noop(
        "No pages for %(minutes)s minute(s), until %(until)s; occurrences still count. "
        "Note: %(note)s"
    ),
    "silence_ended": gettext_noop("Silence ended by hand."),
    "silence_ended_note": gettext_noop("Silence ended by hand. Note: %(note)s"),
    "push_batch": gettext_noop("%(purpose)s batch of %(devices)s device(s)"),
    "push_batch_sent": gettext_noop(
        "%(purpose)s batch of %(devices)s device(s): %(sent)s sent, %(failed)s failed, "
        "%(disabled)s disabled"
    ),
    "push_batch_empty": gettext_noop(
        "%(purpose)s batch of %(devices)s device(s): nothing left to send"
    ),
    "page_sent": gettext_noop("%(purpose)s to %(team)s via %(channel)s"),
    "delivery_error": gettext_noop("%(what)s: %(error)s (attempt %(attempt)s)"),
    "quiet_resolved": gettext_noop("No occurrence for %(minutes)s minute(s), since %(since)s."),
    "alerts_resolved": gettext_noop("All %(total)s alert(s) resolved"),
    "push_held": gettext_noop(
        "Outage push to %(customers)s customer(s) (%(devices)s device(s)) waits for a second "
        "person's approval: more than the threshold of %(threshold)s."
    ),
    "push_held_sends": gettext_noop(
        "Outage push to %(customers)s customer(s) (%(devices)s device(s)) waits for a second "
        "person's approval: more than the threshold of %(threshold)s; if nobody decides by "
        "%(until)s it is sent."
    ),
    "push_held_cancels": gettext_noop(
        "Outage push to %(customers)s customer(s) (%(devices)s device(s)) waits for a second "
        "person's approval: more than the threshold of %(threshold)s; if nobody decides by "
        "%(until)s it is cancelled."
    ),
    "push_approved": gettext_noop(
        "Outage push approved by %(by)s at %(at)s: queued in %(batches)s batch(es)."
    ),
    "push_rejected": gettext_noop("Outage push not approved by %(by)s at %(at)s: nothing is sent."),
    "push_timeout_sent": gettext_noop(
        "Nobody decided on the outage push by %(at)s: sent on timeout in %(batches)s batch(es)."
    ),
    "push_timeout_cancelled": gettext_noop(
        "Nobody decided on the outage push by %(at)s: cancelled on timeout, nothing is sent."
    ),
    "alerts_truncated": gettext_noop(
        "%(count)s alert(s) of this group left out of the notification by the sender "
        "(Alertmanager max_alerts): counted only when a notification carries them"
    ),
    "alert_message": gettext_noop("Message of [%(alert)s]: %(text)s"),
    "alert_description": gettext_noop("Description of [%(alert)s]: %(text)s"),
}


def _choices() -> dict:
    from notifications.models import Delivery

    return {"delivery_purpose": Delivery.Purpose}


@dataclass(frozen=True)
class Detail:
    """A timeline detail: a message key and its parameters (plain JSON values)."""

    message: str
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.message not in MESSAGES:
            raise KeyError(f"No timeline message {self.message!r}")

    def as_json(self) -> dict:
        return {"m": self.message, **self.params}

    def english(self) -> str:
        with translation.override("en"):
            return render_params(self.as_json())

    def __str__(self):
        return self.english()


def detail(message: str, **params) -> Detail:
    """Return a Detail; datetimes become {"t": iso}, nested Details their JSON."""
    return Detail(message, {k: _param(v) for k, v in params.items()})


def moment(at: datetime) -> dict:
    return {"t": at.isoformat()}


def choice(name: str, value: str) -> dict:
    return {"c": name, "v": str(value)}


def _param(value):
    if isinstance(value, Detail):
        return value.as_json()
    if isinstance(value, datetime):
        return moment(value)
    return value


def _value(value) -> str:
    if isinstance(value, dict):
        if "m" in value:
            return render_params(value)
        if "t" in value:
            return local_label(datetime.fromisoformat(value["t"]), "%Y-%m-%d %H:%M")
        if "c" in value:
            choices = _choices().get(value["c"])
            try:
                return str(choices(value["v"]).label) if choices else str(value["v"])
            except ValueError:
                return str(value["v"])
    return str(value)


def render_params(params: dict) -> str:
    """Render {"m": key, ...} in the active language; an unknown key renders as its key."""
    text = MESSAGES.get(params.get("m"))
    if text is None:
        return str(params.get("m", ""))
    values = {k: _value(v) for k, v in params.items() if k != "m"}
    try:
        return translation.gettext(text) % values
    except (KeyError, ValueError, TypeError):
        # A translation that lost a placeholder must not hide the event.
        return text % values


def event_text(event) -> str:
    """Return an event's detail in the active language; rows stored as text keep it."""
    params = getattr(event, "params", None) or {}
    return render_params(params) if params.get("m") else event.detail
