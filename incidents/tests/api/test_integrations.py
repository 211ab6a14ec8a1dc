"""The monitoring tools' own webhooks: parsing, counting of distinct alerts, resolve, errors."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from incidents import services
from incidents.counting.drain import report_process, reports_drain
from incidents.models import AlertInstance, Incident, Integration, Report, Trigger
from incidents.tests.senders import alert, make_integration, notification, process_all, send


@pytest.fixture
def login_503(scenario):
    """The scenario's action also covers login/HighErrorRate (an Alertmanager alert name)."""
    from actions.models import TriggerRule

    TriggerRule.objects.create(
        action=scenario["action"], service=scenario["login"], code="HighErrorRate"
    )
    return scenario


@pytest.fixture
def am(db):
    return make_integration("alertmanager")


# --- Alertmanager -----------------------------------------------------------------------------


def test_each_alert_of_a_notification_is_a_trigger_with_its_fingerprint(login_503, am):
    integration, token = am
    body = notification(alert(fingerprint="a"), alert(name="Other", service="pix", fingerprint="b"))
    response = send("alertmanager", token, body)
    assert response.status_code == 202, response.content
    assert [(t["service"], t["code"], t["matched"]) for t in response.json()["triggers"]] == [
        ("login", "HighErrorRate", True),
        ("pix", "Other", False),
    ]
    assert sorted(Trigger.objects.values_list("fingerprint", flat=True)) == ["a", "b"]
    assert Report.objects.get().payload == body
    reports_drain()
    integration.refresh_from_db()
    assert integration.trigger_count == 2 and integration.last_received_at is not None


def test_resent_alerts_are_not_new_occurrences_but_new_fingerprints_are(login_503, am):
    _, token = am
    for _ in range(3):  # the same group re-sent on every group_interval
        send("alertmanager", token, notification(alert(fingerprint="a")))
    process_all()
    assert Incident.objects.get().occurrences == 1
    # A digest that repeats "a" and adds two new alerts: two occurrences, whichever request.
    send(
        "alertmanager",
        token,
        notification(alert(fingerprint="a"), alert(fingerprint="b"), alert(fingerprint="c")),
    )
    process_all()
    incident = Incident.objects.get()
    assert incident.occurrences == 3
    assert incident.alerts.count() == 3
    assert incident.events.filter(kind="alert_firing").count() == 3


def test_same_fingerprint_firing_again_after_resolving_is_a_new_occurrence(login_503, am):
    _, token = am
    send("alertmanager", token, notification(alert(fingerprint="a"), alert(fingerprint="b")))
    send("alertmanager", token, notification(alert(fingerprint="a", status="resolved")))
    send(
        "alertmanager",
        token,
        notification(
            alert(fingerprint="a", startsAt="2026-11-28T03:10:00Z"), alert(fingerprint="b")
        ),
    )
    process_all()
    incident = Incident.objects.get()
    assert incident.occurrences == 3
    assert incident.status == "open"  # "b" and the second "a" still fire


def test_incident_resolves_when_all_of_its_alerts_are_resolved(login_503, am):
    _, token = am
    send("alertmanager", token, notification(alert(fingerprint="a"), alert(fingerprint="b")))
    process_all()
    send("alertmanager", token, notification(alert(fingerprint="a", status="resolved")))
    process_all()
    incident = Incident.objects.get()
    assert incident.status == "open"
    send(
        "alertmanager",
        token,
        notification(alert(fingerprint="b", status="resolved"), status="resolved"),
    )
    process_all()
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.resolved_by == "alertmanager"
    assert incident.events.filter(kind="alert_resolved").count() == 2
    assert incident.events.get(kind="resolved").detail == "All 2 alert(s) resolved"
    # Resolved again (Alertmanager re-sends resolved notifications too): nothing changes.
    send("alertmanager", token, notification(alert(fingerprint="b", status="resolved")))
    process_all()
    assert incident.events.filter(kind="resolved").count() == 1


def test_a_resolve_processed_first_still_waits_for_the_trigger_before_it(login_503, am):
    _, token = am
    send("alertmanager", token, notification(alert(fingerprint="a")))
    send("alertmanager", token, notification(alert(fingerprint="a", status="resolved")))
    # The worker picks up the resolve first: it processes the earlier firing report first.
    later = Report.objects.order_by("-received_at", "-id").first()
    assert report_process(later.id) is True
    assert Report.objects.filter(processed_at=None).count() == 0
    incident = Incident.objects.get()
    assert (incident.occurrences, incident.status) == (1, "resolved")


def test_alert_resolved_before_its_firing_copy_arrives_is_not_counted_later(login_503, am):
    integration, token = am
    send("alertmanager", token, notification(alert(fingerprint="a", status="resolved")))
    process_all()
    send("alertmanager", token, notification(alert(fingerprint="a")))
    process_all()
    assert not Incident.objects.exists()
    assert AlertInstance.objects.get().status == "resolved"


def test_mapping_takes_service_and_code_from_other_labels(login_503, db):
    _, token = make_integration(
        "alertmanager", mapping={"service": "labels.job", "code": "labels.code"}
    )
    body = notification(alert(name="Whatever", service="ignored", job="Login", code="503"))
    response = send("alertmanager", token, body)
    assert response.status_code == 202
    assert response.json()["triggers"][0]["service"] == "login"
    assert response.json()["triggers"][0]["code"] == "503"


def test_missing_label_is_a_400_naming_the_field_and_kept_as_last_error(am, login_503):
    integration, token = am
    bad = alert()
    del bad["labels"]["service"]
    response = send("alertmanager", token, notification(alert(), bad))
    assert response.status_code == 400
    assert "alerts[1].service" in response.json()["detail"]
    assert "labels.service" in response.json()["detail"]
    integration.refresh_from_db()
    assert "alerts[1].service" in integration.last_error
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "3", "alerts": [alert()]}, "version"),
        ({"version": "4", "alerts": []}, "alerts"),
        ({"version": "4", "alerts": [alert() | {"startsAt": "yesterday"}]}, "startsAt"),
        ({"version": "4", "alerts": [alert() | {"status": "pending"}]}, "status"),
        ([1, 2], "body"),
    ],
)
def test_malformed_alertmanager_notifications_are_refused(am, body, field):
    _, token = am
    response = send("alertmanager", token, body)
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_token_as_last_path_segment_is_accepted(login_503, am):
    _, token = am
    response = send("alertmanager", token, notification(alert()), path_token=True)
    assert response.status_code == 202


# --- Protection -------------------------------------------------------------------------------


def test_unknown_kind_is_404_naming_it(am):
    _, token = am
    response = send("nagios", token, {})
    assert response.status_code == 404
    assert "opsgenie" in response.json()["detail"]


def test_missing_or_wrong_token_is_401(am):
    assert send("alertmanager", "", {}, header=False).status_code == 401
    response = send("alertmanager", "nope", notification(alert()))
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_disabled_integration_is_403_and_says_so(db):
    integration, token = make_integration("alertmanager", enabled=False)
    response = send("alertmanager", token, notification(alert()))
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]
    integration.refresh_from_db()
    assert "disabled" in integration.last_error


def test_token_of_another_kind_is_403_naming_the_right_url(am):
    _, token = am
    response = send("grafana", token, notification(alert()))
    assert response.status_code == 403
    assert "/api/v1/integrations/alertmanager/" in response.json()["detail"]


def test_rate_limit_answers_429_with_retry_after(login_503, db):
    integration, token = make_integration("alertmanager", rate_limit=2)
    codes = [send("alertmanager", token, notification(alert())).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    response = send("alertmanager", token, notification(alert()))
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Rate limit of 2" in response.json()["detail"]
    integration.refresh_from_db()
    assert "429" in integration.last_error
    assert Report.objects.count() == 2


def test_rate_limit_window_resets_each_minute(db):
    integration, _ = make_integration("generic", rate_limit=1)
    now = timezone.now().replace(second=10)
    assert services.integration_admit(integration, now=now) == 0
    assert services.integration_admit(integration, now=now) == 50
    assert services.integration_admit(integration, now=now + timedelta(minutes=1)) == 0


def test_oversize_body_is_413_saying_how_to_split_it(am, settings):
    settings.CXHUB_MONITORING_MAX_BODY = 100
    _, token = am
    response = send("alertmanager", token, notification(alert(), alert()))
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert "max_alerts" in response.json()["detail"]


def test_monitoring_body_over_one_mebibyte_is_accepted(am, login_503, settings):
    # The 1 MiB of the other endpoints (Django's DATA_UPLOAD_MAX_MEMORY_SIZE) does not apply.
    _, token = am
    alerts = [alert(fingerprint=f"fp{n}", note="x" * 2000) for n in range(700)]
    body = notification(*alerts)
    assert len(json.dumps(body)) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = send("alertmanager", token, body)
    assert response.status_code == 202, response.content[:300]
    assert len(response.json()["triggers"]) == 700


def test_cxhub_kind_works_under_the_integrations_url(scenario, db):
    _, token = make_integration("cxhub")
    body = {
        "gatilhos": [{"servico": "login", "retorno": "503"}, {"servico": "login", "retorno": "404"}]
    }
    assert send("cxhub", token, body).status_code == 202
    assert send("cxhub", token, body, path_token=True).status_code == 202
    process_all()
    # The original semantics: one request, one occurrence, however many triggers it carries.
    assert Incident.objects.get().occurrences == 2
    assert not AlertInstance.objects.exists()
    response = send("cxhub", token, {"gatilhos": []})
    assert response.status_code == 400
    assert "gatilhos" in response.json()["detail"]


# --- Grafana ----------------------------------------------------------------------------------


def grafana(*alerts, state="alerting"):
    return {
        "receiver": "cxhub",
        "status": "firing",
        "orgId": 1,
        "alerts": list(alerts),
        "groupLabels": {},
        "commonLabels": {},
        "externalURL": "http://grafana:3000/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": "[FIRING:1] HighErrorRate",
        "state": state,
        "message": "...",
    }


def test_grafana_post_and_put_count_distinct_alerts_and_resolve(login_503, db):
    _, token = make_integration("grafana")
    assert send("grafana", token, grafana(alert(fingerprint="g1"))).status_code == 202
    response = send("grafana", token, grafana(alert(fingerprint="g1")), method="put")
    assert response.status_code == 202
    process_all()
    assert Incident.objects.get().occurrences == 1
    send("grafana", token, grafana(alert(fingerprint="g1", status="resolved"), state="ok"))
    process_all()
    incident = Incident.objects.get()
    assert (incident.status, incident.resolved_by) == ("resolved", "grafana")


# --- Generic JSON -----------------------------------------------------------------------------


def datadog_docs():
    """Return the Datadog payload template and mapping as docs/integrations.md gives them."""
    text = (settings.BASE_DIR / "docs" / "integrations.md").read_text()
    section = text.split("### Datadog")[1]
    blocks = [b.split("```")[0] for b in section.split("```json\n")[1:3]]
    return blocks[0], json.loads(blocks[1])


def datadog(template, transition, cycle_key="cycle-1", alert_id="503"):
    values = {
        "$ALERT_ID": alert_id,
        "$ALERT_TRANSITION": transition,
        "$ALERT_CYCLE_KEY": cycle_key,
        "$EVENT_TITLE": f"[{transition}] login 5xx",
        "$ALERT_SCOPE": "env:prod",
        "$ALERT_PRIORITY": "P1",
        "$LINK": "https://app.datadoghq.com/monitors/503",
    }
    for variable, value in values.items():
        template = template.replace(variable, value)
    return json.loads(template)


def test_generic_json_through_the_documented_datadog_template(scenario, db):
    template, mapping = datadog_docs()
    integration, token = make_integration("generic", mapping=mapping)
    integration.full_clean()
    assert send("generic", token, datadog(template, "Triggered")).status_code == 202
    assert send("generic", token, datadog(template, "Re-Triggered")).status_code == 202
    assert send("generic", token, datadog(template, "Renotify")).status_code == 202
    other_cycle = datadog(template, "Triggered", cycle_key="cycle-2")
    assert send("generic", token, other_cycle).status_code == 202
    process_all()
    incident = Incident.objects.get()
    assert incident.occurrences == 2  # cycle-1 (re-notified while firing) and cycle-2
    assert Trigger.objects.first().summary == "[Triggered] login 5xx"
    send("generic", token, datadog(template, "Recovered"))
    process_all()
    incident.refresh_from_db()
    assert incident.status == "open"
    send("generic", token, datadog(template, "Recovered", cycle_key="cycle-2"))
    process_all()
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_by) == ("resolved", "generic")
    response = send("generic", token, datadog(template, "No Data"))
    assert response.status_code == 400
    assert "'No Data' is not a known status" in response.json()["detail"]


def test_generic_without_dedup_key_uses_service_and_code(scenario, db):
    _, token = make_integration("generic")
    for status in ("firing", "firing", "resolved", "firing"):
        send("generic", token, {"service": "login", "code": 503, "status": status})
    process_all()
    [first, second] = Incident.objects.order_by("opened_at")
    assert (first.occurrences, first.status) == (1, "resolved")
    assert (second.occurrences, second.status) == (1, "open")


def test_generic_errors_name_the_field(db):
    _, token = make_integration("generic")
    response = send("generic", token, {"service": "login"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("code: missing")
    response = send("generic", token, {"service": "login", "code": "1", "status": "weird"})
    assert response.status_code == 400
    assert "status" in response.json()["detail"]
    response = send("generic", token, "{not json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("body:")


def test_mapping_is_validated_in_the_model(db):
    from django.core.exceptions import ValidationError

    integration = Integration(name="x", kind="generic", mapping={"servce": "a", "firing": "x"})
    integration.set_new_token()
    with pytest.raises(ValidationError) as error:
        integration.full_clean()
    text = str(error.value)
    assert "'servce' is not a mapping key" in text
    assert "'firing' must be a list" in text


# --- PagerDuty Events API v2 ------------------------------------------------------------------


def pd_event(token, action="trigger", dedup_key=None, **payload):
    event = {"routing_key": token, "event_action": action}
    if dedup_key:
        event["dedup_key"] = dedup_key
    if action == "trigger":
        event["payload"] = {
            "summary": "Login returning 503",
            "source": "login-api-01",
            "severity": "critical",
            "component": "login",
            "class": "503",
            "custom_details": {"errors_per_minute": 120},
        } | payload
    return event


def enqueue(body):
    return APIClient().post("/v2/enqueue", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def pd(db):
    return make_integration("pagerduty")


def test_pagerduty_trigger_generates_and_returns_a_dedup_key(scenario, pd):
    _, token = pd
    response = enqueue(pd_event(token))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Event processed"
    assert len(body["dedup_key"]) == 32
    trigger = Trigger.objects.get()
    assert (trigger.service, trigger.code, trigger.matched) == ("login", "503", True)
    assert trigger.fingerprint == body["dedup_key"]
    assert trigger.summary == "Login returning 503"


def test_pagerduty_same_dedup_key_is_one_occurrence_then_acknowledge_and_resolve(scenario, pd):
    _, token = pd
    for _ in range(3):
        assert enqueue(pd_event(token, dedup_key="login-503")).json()["dedup_key"] == "login-503"
    enqueue(pd_event(token, dedup_key="other"))
    process_all()
    incident = Incident.objects.get()
    assert incident.occurrences == 2
    assert enqueue(pd_event(token, "acknowledge", "login-503")).status_code == 202
    process_all()
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", "pagerduty")
    enqueue(pd_event(token, "resolve", "login-503"))
    process_all()
    incident.refresh_from_db()
    assert incident.status == "acknowledged"  # "other" still fires
    response = enqueue(pd_event(token, "resolve", "other"))
    assert response.json()["dedup_key"] == "other"
    process_all()
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_by) == ("resolved", "pagerduty")


def test_pagerduty_acknowledge_and_resolve_name_their_alert_not_a_nameless_service(scenario, pd):
    from support import reports

    _, token = pd
    enqueue(pd_event(token, dedup_key="login-503"))
    process_all()
    enqueue(pd_event(token, "acknowledge", "login-503"))
    enqueue(pd_event(token, "resolve", "login-503"))
    process_all()
    incident = Incident.objects.get()
    assert set(incident.triggers.values_list("service", "code", "status")) == {
        ("login", "503", "firing"),
        ("login", "503", "acknowledged"),
        ("login", "503", "resolved"),
    }
    today = timezone.localdate()
    per_service = reports.report(reports.period_of("7d", today=today))["per_service"]
    assert list(per_service["services"]) == ["login"]
    assert sum(per_service["services"]["login"]) == 1


def test_pagerduty_under_the_integrations_url_with_bearer_or_path_token(scenario, pd):
    _, token = pd
    event = pd_event(token)
    del event["routing_key"]
    assert send("pagerduty", token, event).status_code == 202
    assert send("pagerduty", token, event, path_token=True).status_code == 202


def test_pagerduty_acknowledge_of_an_unknown_key_changes_nothing(scenario, pd):
    _, token = pd
    assert enqueue(pd_event(token, "acknowledge", "nobody")).status_code == 202
    process_all()
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"event_action": "explode"}, "'event_action' is missing or invalid"),
        ({"payload": {"source": "x", "severity": "critical"}}, "'payload.summary' is missing"),
        ({"payload": {"summary": "x", "source": "x", "severity": "bad"}}, "'payload.severity'"),
        ({"payload": None}, "'payload' is missing"),
        ({"event_action": "resolve"}, "'dedup_key' is required to resolve"),
        ({"dedup_key": 5}, "'dedup_key' must be a non-empty string"),
    ],
)
def test_pagerduty_invalid_events_get_pagerduty_style_400(pd, change, error):
    integration, token = pd
    response = enqueue(pd_event(token) | change)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert any(e.startswith(error) for e in body["errors"]), body
    integration.refresh_from_db()
    assert error in integration.last_error


def test_pagerduty_routing_key_missing_or_unknown_is_400(pd):
    response = enqueue({"event_action": "trigger"})
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("'routing_key' is missing or blank")
    response = enqueue(pd_event("not-a-token"))
    assert response.status_code == 400
    assert "routing_key" in response.json()["errors"][0]


# --- Exactly once: the constraints ------------------------------------------------------------


def test_alert_constraints_refuse_a_resent_alert_and_a_second_firing_key(am):
    from django.db import IntegrityError, transaction

    integration, _ = am
    now = timezone.now()
    fields = {"integration": integration, "service": "s", "code": "c", "first_seen_at": now}
    AlertInstance.objects.create(fingerprint="a", starts_at=now, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertInstance.objects.create(
            fingerprint="a", starts_at=now, status="resolved", **fields
        )  # one_alert_per_start
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertInstance.objects.create(
            fingerprint="a", starts_at=now + timedelta(seconds=1), **fields
        )  # one_firing_alert_per_key
    # A resolved episode leaves room for the next one.
    AlertInstance.objects.filter(fingerprint="a").update(status="resolved")
    AlertInstance.objects.create(fingerprint="a", starts_at=now + timedelta(seconds=1), **fields)


# --- History ----------------------------------------------------------------------------------


def test_incident_detail_and_admin_show_the_payloads_that_opened_and_resolved_it(
    login_503, am, admin_client
):
    _, token = am
    firing = notification(alert(fingerprint="a"))
    resolved = notification(alert(fingerprint="a", status="resolved"), status="resolved")
    send("alertmanager", token, firing)
    send("alertmanager", token, resolved)
    process_all()
    incident = Incident.objects.get()
    assert incident.status == "resolved"
    response = admin_client.get(f"/api/v1/incidents/{incident.pk}/")
    reports = response.json()["reports"]
    assert [r["payload"] for r in reports] == [resolved, firing]
    assert {r["integration"] for r in reports} == {"alertmanager"}
    timeline = [e["kind"] for e in response.json()["timeline"]]
    assert timeline == ["opened", "alert_firing", "alert_resolved", "resolved"]
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "groupKey" in page and "Payloads received" in page


def test_pagerduty_acknowledge_is_kept_with_the_incident(scenario, pd, admin_client):
    _, token = pd
    enqueue(pd_event(token, dedup_key="k"))
    ack = pd_event(token, "acknowledge", "k")
    enqueue(ack)
    process_all()
    incident = Incident.objects.get()
    reports = admin_client.get(f"/api/v1/incidents/{incident.pk}/").json()["reports"]
    # Kept, but without the routing key: it is the integration's token.
    assert reports[0]["payload"] == {**ack, "routing_key": "[redacted]"}
    assert token not in str(reports)


# --- Resolved by hand -------------------------------------------------------------------------


def test_after_a_manual_resolve_a_resent_alert_stays_quiet_and_a_new_key_reopens(login_503, am, pd):
    _, am_token = am
    send("alertmanager", am_token, notification(alert(fingerprint="a")))
    process_all()
    incident = Incident.objects.get()
    services.incident_resolve(incident_id=incident.pk, by="admin")
    send("alertmanager", am_token, notification(alert(fingerprint="a")))  # a re-send
    process_all()
    assert Incident.objects.count() == 1
    # PagerDuty: the same dedup key triggered again after its incident was resolved.
    _, pd_token = pd
    enqueue(pd_event(pd_token, dedup_key="k", **{"class": "HighErrorRate"}))
    process_all()
    second = Incident.objects.exclude(pk=incident.pk).get()
    services.incident_resolve(incident_id=second.pk, by="admin")
    enqueue(pd_event(pd_token, dedup_key="k", **{"class": "HighErrorRate"}))
    process_all()
    assert Incident.objects.count() == 3
    assert Incident.objects.filter(status="open").get().occurrences == 1


def test_an_alert_covered_by_two_actions_resolves_both_incidents(login_503, am):
    from actions.models import Action, TriggerRule

    other = Action.objects.create(code="0002", name="Login alarm", push_threshold=100)
    TriggerRule.objects.create(action=other, service=login_503["login"], code="HighErrorRate")
    _, token = am
    send("alertmanager", token, notification(alert(fingerprint="a")))
    process_all()
    first, second = Incident.objects.order_by("action__code")
    assert (first.occurrences, second.occurrences) == (1, 1)
    services.incident_resolve(incident_id=first.pk, by="admin")
    send("alertmanager", token, notification(alert(fingerprint="a", status="resolved")))
    process_all()
    second.refresh_from_db()
    assert (second.status, second.resolved_by) == ("resolved", "alertmanager")
