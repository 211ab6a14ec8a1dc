"""Timeline details as a message key with parameters, rendered in the reader's language.

A detail is stored twice: `params` ({"m": key, ...values}) for rendering in any
language, and `detail`, the English text, for rows written before this existed,
for the API's plain `detail` and for logs. Parameter values are plain JSON;
four shapes are rendered specially:
- {"t": "<ISO time>"}: a moment, in the current time zone with its offset;
- {"c": "<choices name>", "v": "<value>"}: a choice's label (a delivery purpose);
- {"m": "<key>", ...}: a nested detail (what failed, inside "failed: ...");
- a list of any of these: rendered one after another, separated by commas.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext_noop

from cxhub.timefmt import local_label

# Every detail cxhub writes; the English text is the msgid, so the .po file
# translates them like any other string (a tuple is a plural, rendered by ngettext).
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
    "oncall_paged": gettext_noop(
        "Tier %(level)s (%(name)s): %(people)s, on call in %(schedule)s, paged in "
        "%(steps)s step(s), one contact method after another until acknowledged"
    ),
    "oncall_paging": (
        "Tier %(level)s (%(name)s) at %(occurrences)s occurrences: paging %(people)s, on "
        "call in %(schedule)s, by %(steps)s, one after another until acknowledged",
        "Tier %(level)s (%(name)s) at %(occurrences)s occurrences: paging %(count)s people "
        "on call in %(schedule)s (%(people)s), each by %(steps)s, one after another until "
        "acknowledged",
        "count",
    ),
    "oncall_repaging": (
        "Tier %(level)s (%(name)s) paged again (repeat %(repeat)s) at %(occurrences)s "
        "occurrences: paging %(people)s, on call in %(schedule)s, by %(steps)s, one after "
        "another until acknowledged",
        "Tier %(level)s (%(name)s) paged again (repeat %(repeat)s) at %(occurrences)s "
        "occurrences: paging %(count)s people on call in %(schedule)s (%(people)s), each by "
        "%(steps)s, one after another until acknowledged",
        "count",
    ),
    "step_now": gettext_noop("%(method)s now"),
    "step_after": gettext_noop("%(method)s after %(minutes)s min"),
    "person_paged": gettext_noop("Paged %(person)s by %(method)s (tier %(level)s)"),
    "person_told": gettext_noop("%(purpose)s to %(person)s by %(method)s"),
    "told_person": gettext_noop("%(person)s by %(method)s"),
    "told_channel": gettext_noop("%(team)s via %(channel)s"),
    "paged_told_acknowledged": (
        "%(count)s paged person or channel told it was acknowledged by %(actor)s: %(whom)s",
        "%(count)s paged people and channels told it was acknowledged by %(actor)s: %(whom)s",
        "count",
    ),
    "paged_told_resolved": (
        "%(count)s paged person or channel told it was resolved by %(actor)s: %(whom)s",
        "%(count)s paged people and channels told it was resolved by %(actor)s: %(whom)s",
        "count",
    ),
    "oncall_gap": gettext_noop(
        "Tier %(level)s (%(name)s): nobody on call in %(schedule)s can be paged "
        "(on call: %(people)s); the team's channels are paged instead"
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
    "reopen_kept": gettext_noop(
        "Kept what the resolve had cancelled before it was sent: %(batches)s push "
        "batch(es) put back (held ones wait for their morning again), %(approval)s push "
        "waiting for approval again"
    ),
    "reopen_paged": gettext_noop(
        "Reopened (%(generation)s): the tiers paged before (%(tiers)s) paged again "
        "through %(channels)s channel(s)"
    ),
    "reopen_paged_people": gettext_noop(
        "Reopened (%(generation)s): the tiers paged before (%(tiers)s) paged again: "
        "%(people)s on call, and %(channels)s channel(s)"
    ),
    "reopen_pushed": gettext_noop(
        "Reopened (%(generation)s): the customers who got the all-clear are told it is "
        "down again, in %(batches)s batch(es)"
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
    "sender_ack_refused": gettext_noop(
        "Acknowledgement from %(sender)s not taken: other senders also feed this incident, "
        "so only a person with the Support role may acknowledge it"
    ),
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
    # Plural messages: (singular, plural, the parameter that counts), through ngettext.
    "push_batch_done": (
        "%(purpose)s batch of %(devices)s device: %(sent)s sent, %(failed)s failed, "
        "%(disabled)s disabled, %(capped)s skipped by the frequency cap",
        "%(purpose)s batch of %(devices)s devices: %(sent)s sent, %(failed)s failed, "
        "%(disabled)s disabled, %(capped)s skipped by the frequency cap",
        "devices",
    ),
    "push_batch_capped": (
        "%(purpose)s batch of %(devices)s device: nothing sent, the frequency cap skipped "
        "%(capped)s",
        "%(purpose)s batch of %(devices)s devices: nothing sent, the frequency cap skipped "
        "%(capped)s",
        "devices",
    ),
    "fallback_batch": (
        "Customer fallback by %(channel)s to %(customers)s customer",
        "Customer fallback by %(channel)s to %(customers)s customers",
        "customers",
    ),
    "fallback_batch_sent": (
        "Customer fallback by %(channel)s to %(customers)s customer: %(sent)s sent, "
        "%(failed)s failed, %(capped)s skipped by the frequency cap",
        "Customer fallback by %(channel)s to %(customers)s customers: %(sent)s sent, "
        "%(failed)s failed, %(capped)s skipped by the frequency cap",
        "customers",
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
    if isinstance(value, list | tuple):
        return [_param(v) for v in value]
    if isinstance(value, datetime):
        return moment(value)
    return value


def _value(value) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
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
    if isinstance(text, tuple):
        singular, plural, counted = text
        count = params.get(counted)
        n = count if isinstance(count, int) else 2
        text = singular if n == 1 else plural
        try:
            return translation.ngettext(singular, plural, n) % values
        except (KeyError, ValueError, TypeError):
            return text % values
    try:
        return translation.gettext(text) % values
    except (KeyError, ValueError, TypeError):
        # A translation that lost a placeholder must not hide the event.
        return text % values


def event_text(event) -> str:
    """Return an event's detail in the active language; rows stored as text keep it."""
    params = getattr(event, "params", None) or {}
    return render_params(params) if params.get("m") else event.detail
