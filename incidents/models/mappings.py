"""An integration's mapping: where each trigger field sits in its sender's payload.

The defaults per kind and the validation of an integration's overrides; the parsers
(incidents.intake.parsers) read payloads through the effective mapping.
"""

from django.utils.translation import gettext

_ALERT_DEFAULTS = {
    "service": "labels.service",
    "code": "labels.code|labels.alertname",
    "status": "status",
    "firing": ["firing"],
    "resolved": ["resolved"],
    "dedup_key": "fingerprint",
    "summary": "annotations.summary|annotations.description",
}

# Paths are dotted keys inside one alert (Alertmanager, Grafana), the whole event
# (PagerDuty) or the whole body (generic); "a|b" takes the first one present.
DEFAULT_MAPPINGS = {
    "cxhub": {},
    "alertmanager": _ALERT_DEFAULTS,
    "grafana": _ALERT_DEFAULTS,
    "pagerduty": {
        "service": "payload.component|payload.source",
        "code": "payload.class|payload.severity",
        "summary": "payload.summary",
        # Change events (/v2/change/enqueue) have no component: the service is a
        # custom detail, else the source.
        "change_service": "payload.custom_details.service|payload.source",
    },
    # Alertmanager's opsgenie_configs put the group's common labels in `details`.
    "opsgenie": {
        "service": "details.service",
        "code": "details.code|details.alertname",
        "summary": "message",
        "dedup_key": "alias",
    },
    "generic": {
        "service": "service",
        "code": "code",
        "status": "status",
        "firing": ["firing", "triggered", "trigger", "alert", "alerting", "problem"],
        "resolved": ["resolved", "resolve", "ok", "recovered"],
        "dedup_key": "dedup_key",
        "summary": "summary",
    },
}
LIST_KEYS = {"firing", "resolved"}


def mapping_errors(kind: str, mapping) -> list[str]:
    """Say what is wrong with an integration's mapping overrides (empty when fine)."""
    if not isinstance(mapping, dict):
        return [gettext("The mapping must be a JSON object.")]
    allowed = DEFAULT_MAPPINGS.get(kind, {})
    errors = []
    for key, value in mapping.items():
        if key not in allowed:
            names = ", ".join(allowed) or gettext("nothing (this kind has a fixed format)")
            errors.append(
                gettext("'%(key)s' is not a mapping key for %(kind)s: use %(names)s.")
                % {"key": key, "kind": kind, "names": names}
            )
        elif key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(gettext("'%(key)s' must be a list of strings.") % {"key": key})
        elif not isinstance(value, str) or not value.strip():
            errors.append(
                gettext("'%(key)s' must be a dotted path such as labels.service.") % {"key": key}
            )
    return errors


def effective_mapping(kind: str, mapping) -> dict:
    return {**DEFAULT_MAPPINGS.get(kind, {}), **(mapping or {})}
