"""The monitoring tools' payload languages, read into triggers. Pure functions: no database.

Each parser takes the decoded JSON body and the integration's effective mapping and
returns trigger dicts (service, code, status, fingerprint, starts_at, summary), or
raises PayloadError naming the field that is wrong.
"""

import hashlib
import json
import uuid

from django.utils.dateparse import parse_datetime

FIRING, ACKNOWLEDGED, RESOLVED = "firing", "acknowledged", "resolved"

PD_SEVERITIES = ("critical", "error", "warning", "info")


class PayloadError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def lookup(data, path: str):
    """Return the value at a dotted path ("a.b|c" tries a.b, then c), or None."""
    for alternative in path.split("|"):
        value = data
        for key in alternative.strip().split("."):
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                value = None
            if value is None:
                break
        if value is not None and value != "":
            return value
    return None


def _text(data, path, field, *, max_length, required=True, lower=False):
    value = lookup(data, path)
    if value is None:
        if required:
            raise PayloadError(field, f"missing (mapped from '{path}').")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, f"must be a string or a number (mapped from '{path}').")
    text = str(value).strip()
    if lower:
        text = text.lower()
    if len(text) > max_length:
        if required:
            raise PayloadError(field, f"longer than {max_length} characters.")
        text = text[:max_length]
    return text


def _status(data, mapping, field) -> str:
    value = lookup(data, mapping["status"])
    if value is None:
        return FIRING
    text = str(value).strip().lower()
    if text in (v.lower() for v in mapping["resolved"]):
        return RESOLVED
    if text in (v.lower() for v in mapping["firing"]):
        return FIRING
    known = ", ".join(mapping["firing"] + mapping["resolved"])
    raise PayloadError(field, f"'{value}' is not a known status (one of {known}).")


def _trigger(data, mapping, prefix) -> dict:
    return {
        "service": _text(data, mapping["service"], f"{prefix}service", max_length=100, lower=True),
        "code": _text(data, mapping["code"], f"{prefix}code", max_length=64),
        "summary": _text(
            data, mapping["summary"], f"{prefix}summary", max_length=500, required=False
        ),
    }


def parse_alerts(payload, mapping: dict, *, kind: str) -> list[dict]:
    """Read an Alertmanager (version "4") or Grafana Alerting notification."""
    if not isinstance(payload, dict):
        raise PayloadError("body", "must be a JSON object (an Alertmanager notification).")
    if kind == "alertmanager" and str(payload.get("version")) != "4":
        raise PayloadError("version", 'must be "4" (the Alertmanager webhook format).')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts", "must be a non-empty list of alerts.")
    triggers = []
    for index, alert in enumerate(alerts):
        prefix = f"alerts[{index}]."
        if not isinstance(alert, dict):
            raise PayloadError(f"alerts[{index}]", "must be an object.")
        trigger = _trigger(alert, mapping, prefix)
        trigger["status"] = _status(alert, mapping, f"{prefix}status")
        starts_at = alert.get("startsAt")
        trigger["starts_at"] = parse_datetime(starts_at) if isinstance(starts_at, str) else None
        if trigger["starts_at"] is None:
            raise PayloadError(f"{prefix}startsAt", "missing or not an RFC 3339 time.")
        fingerprint = _text(
            alert, mapping["dedup_key"], f"{prefix}fingerprint", max_length=255, required=False
        )
        # Alertmanager's fingerprint is a hash of the label set; rebuild it when absent.
        trigger["fingerprint"] = fingerprint or _labels_hash(alert.get("labels"))
        triggers.append(trigger)
    return triggers


def _labels_hash(labels) -> str:
    body = json.dumps(labels if isinstance(labels, dict) else {}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def parse_generic(payload, mapping: dict) -> list[dict]:
    """Read one event of any JSON sender through the integration's dotted paths."""
    if not isinstance(payload, dict):
        raise PayloadError("body", "must be a JSON object.")
    trigger = _trigger(payload, mapping, "")
    trigger["status"] = _status(payload, mapping, "status")
    trigger["starts_at"] = None
    # Without a dedup key an event is identified by what failed: a repeat while it
    # is still firing is the same alert, not a new occurrence.
    trigger["fingerprint"] = _text(
        payload, mapping["dedup_key"], "dedup_key", max_length=255, required=False
    ) or (f"{trigger['service']}/{trigger['code']}")
    return [trigger]


class PagerDutyError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_pagerduty(event, mapping: dict) -> dict:
    """Read one PagerDuty Events API v2 event into a trigger (dedup_key generated if absent)."""
    if not isinstance(event, dict):
        raise PagerDutyError(["Event object is invalid: the body must be a JSON object."])
    errors = []
    action = event.get("event_action")
    statuses = {"trigger": FIRING, "acknowledge": ACKNOWLEDGED, "resolve": RESOLVED}
    if action not in statuses:
        errors.append("'event_action' is missing or invalid (trigger, acknowledge or resolve).")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or not 0 < len(dedup_key) <= 255):
        errors.append("'dedup_key' must be a non-empty string of at most 255 characters.")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append(f"'dedup_key' is required to {action}.")
    trigger = {"service": "", "code": "", "summary": "", "starts_at": None}
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object.")
        else:
            for name in ("summary", "source"):
                value = payload.get(name)
                if not isinstance(value, str) or not value.strip():
                    errors.append(f"'payload.{name}' is missing or blank.")
            if payload.get("severity") not in PD_SEVERITIES:
                errors.append(
                    "'payload.severity' is missing or invalid (critical, error, warning, info)."
                )
            if not errors:
                try:
                    trigger = _trigger(event, mapping, "")
                except PayloadError as error:
                    errors.append(f"'{error.field}' {error.message}")
    if errors:
        raise PagerDutyError(errors)
    trigger["status"] = statuses[action]
    trigger["fingerprint"] = dedup_key or uuid.uuid4().hex
    return trigger
