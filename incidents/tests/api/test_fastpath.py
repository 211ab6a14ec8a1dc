"""The storm's fast path answers only what the DRF view would accept, and the same way."""

import json
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import DataError, connection, transaction
from rest_framework.exceptions import ValidationError

from cxhub.ratelimit import FailedAuthLimit
from incidents.api import fastpath
from incidents.api.incidents import TriggerIngestApi
from incidents.api.serializers import TriggerBatchSerializer
from incidents.intake import ingest
from incidents.models import Integration, Report, Trigger

pytestmark = pytest.mark.django_db

ORIGINAL = {"gatilhos": [{"servico": "login", "retorno": "503"}]}

# Each one is judged the same by both paths: accepted with the same triggers, or left
# to the serializer (None from the fast path).
PAYLOADS = [
    ORIGINAL,
    {"gatilhos": [{"servico": " Login ", "retorno": " 503 "}, {"servico": "PIX", "retorno": 500}]},
    {"triggers": [{"service": "login", "code": 503}], "extra": {"kept": True}},
    {"gatilhos": [{"servico": "login", "retorno": "503", "other": 1}]},
    {"gatilhos": [{"servico": "s" * 100, "retorno": "c" * 64}]},
    {"gatilhos": [{"servico": "s" * 101, "retorno": "503"}]},
    {"gatilhos": [{"servico": "login", "retorno": "c" * 65}]},
    {"gatilhos": [{"servico": "login", "retorno": True}]},
    {"gatilhos": [{"servico": "login", "retorno": 5.0}]},
    {"gatilhos": [{"servico": "login", "retorno": None}]},
    {"gatilhos": [{"servico": 7, "retorno": "503"}]},
    {"gatilhos": [{"servico": "   ", "retorno": "503"}]},
    {"gatilhos": [{"servico": "login", "retorno": ""}]},
    {"gatilhos": [{"servico": "log\x00in", "retorno": "503"}]},
    {"gatilhos": [{"servico": "Çlogin", "retorno": "503"}]},
    {"gatilhos": [{"servico": "İ" * 60, "retorno": "503"}]},
    {"gatilhos": [{"servico": "login"}]},
    {"gatilhos": [{"retorno": "503"}]},
    {"gatilhos": ["login"]},
    {"gatilhos": []},
    {"gatilhos": None},
    {"gatilhos": {"servico": "login", "retorno": "503"}},
    {"gatilhos": [{"servico": "login", "retorno": "503"}], "triggers": []},
    {"triggers": [{"servico": "login", "retorno": "503"}]},
    {"gatilhos": [{"servico": "login", "retorno": "503"}] * 1000},
    {"gatilhos": [{"servico": "login", "retorno": "503"}] * 1001},
    {},
    [],
    "login",
]


def serializer_triggers(data):
    serializer = TriggerBatchSerializer(data=data)
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError:
        return None
    return [dict(t) for t in serializer.validated_data["triggers"]]


@pytest.mark.parametrize("data", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_fast_path_never_accepts_what_the_serializer_refuses(data):
    fast = fastpath.triggers_of(data)
    if fast is not None:
        assert fast == serializer_triggers(data)


def test_the_common_cases_take_the_fast_path():
    for data in PAYLOADS[:5]:
        assert fastpath.triggers_of(data) is not None, data


@pytest.fixture
def token(integration_token):
    return integration_token


def post(client, token, body, **headers):
    return client.post(
        "/api/v1/triggers",
        body if isinstance(body, bytes | str) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def test_a_valid_request_is_recorded_without_the_drf_view(client, scenario, token):
    with mock.patch.object(TriggerIngestApi, "post", side_effect=AssertionError("DRF")):
        response = post(client, token, {"gatilhos": [{"servico": "LOGIN", "retorno": 503}]})
    assert response.status_code == 202
    body = response.json()
    trigger = Trigger.objects.get()
    assert body == {
        "report": str(trigger.report_id),
        "triggers": [{"id": trigger.id, "service": "login", "code": "503", "matched": True}],
    }
    assert (trigger.service, trigger.code, trigger.status) == ("login", "503", "firing")
    report = Report.objects.get()
    assert report.payload == {"gatilhos": [{"servico": "LOGIN", "retorno": 503}]}
    assert not report.ordered and report.processed_at is None


def test_a_valid_request_skips_the_middleware_people_need(client, scenario, token):
    from django.contrib.sessions.middleware import SessionMiddleware

    with mock.patch.object(SessionMiddleware, "process_request", side_effect=AssertionError):
        response = post(client, token, ORIGINAL, HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 202
    # What the outer middleware adds stays: no-store, the security headers.
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Language" not in response  # LocaleMiddleware never ran


def test_a_request_the_fast_path_declines_goes_through_every_middleware(client, scenario, token):
    response = post(client, token, {"gatilhos": []}, HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 400
    assert response["Content-Language"] == "pt-br"  # judged by DRF, in the sender's language
    assert response["X-Frame-Options"] == "DENY"
    assert not Report.objects.exists()


def test_both_paths_answer_the_same(client, scenario, token):
    fast = post(client, token, ORIGINAL)
    with mock.patch.object(fastpath, "_record", return_value=None):
        full = post(client, token, ORIGINAL)
    assert fast.status_code == full.status_code == 202
    assert fast["Content-Type"] == full["Content-Type"]
    a, b = fast.json(), full.json()
    for answer in (a, b):
        assert Report.objects.filter(id=answer["report"]).exists()
        for t in answer["triggers"]:
            assert Trigger.objects.filter(id=t.pop("id"), report_id=answer["report"]).exists()
    assert a["triggers"] == b["triggers"] == [{"service": "login", "code": "503", "matched": True}]
    assert Report.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gatilhos": [{"servico": "login"}]}, "retorno"),
        ({"gatilhos": []}, "gatilhos"),
        ({"gatilhos": [{"servico": "login", "retorno": 5.5}]}, "retorno"),
        (b"{not json", "detail"),
    ],
)
def test_bad_input_still_gets_the_drf_answer_naming_the_field(client, scenario, token, body, field):
    response = post(client, token, body)
    assert response.status_code == 400
    assert field in json.dumps(response.json())
    assert not Report.objects.exists()


def test_a_bad_token_is_counted_once_and_refused(client, scenario, settings):
    cache.clear()
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 2
    for _ in range(2):
        assert post(client, "not-a-token", ORIGINAL).status_code == 401
    assert post(client, "not-a-token", ORIGINAL).status_code == 429


def test_a_throttled_address_is_refused_even_with_a_good_token(
    rf, client, scenario, token, settings
):
    cache.clear()
    settings.CXHUB_AUTH_FAILURES_PER_MINUTE = 1
    FailedAuthLimit(rf.post("/")).failed()
    assert post(client, token, ORIGINAL).status_code == 429
    assert not Report.objects.exists()


def test_disabled_and_other_kinds_are_refused(client, scenario, token):
    other = Integration(name="am", kind=Integration.Kind.ALERTMANAGER)
    other_token = other.set_new_token()
    other.save()
    assert post(client, other_token, ORIGINAL).status_code == 403
    Integration.objects.filter(name="monitoring").update(enabled=False)
    from cxhub import hotcache

    hotcache.integrations.clear()
    assert post(client, token, ORIGINAL).status_code == 403
    assert not Report.objects.exists()


def test_html_clients_and_big_bodies_go_to_the_drf_view(client, scenario, token):
    drf_post = TriggerIngestApi.post
    with mock.patch.object(TriggerIngestApi, "post", autospec=True, side_effect=drf_post) as spy:
        assert post(client, token, ORIGINAL, HTTP_ACCEPT="text/html").status_code == 202
        big = {"gatilhos": [{"servico": "login", "retorno": "503"}] * 500}
        assert post(client, token, big).status_code == 202
    assert spy.call_count == 2
    assert Report.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement insert")
def test_the_one_statement_insert_records_all_or_nothing(scenario):
    integration = Integration.objects.create(name="x", token_hash="h")
    triggers = [{"service": "login", "code": "503"}, {"service": "login", "code": "404"}]
    report, rows = ingest.report_ingest(integration=integration, triggers=triggers, payload={})
    assert sorted(Trigger.objects.filter(report=report).values_list("id", flat=True)) == sorted(
        r.id for r in rows
    )
    assert [r.code for r in rows] == ["503", "404"] and all(r.matched for r in rows)
    assert Report.objects.get(id=report.id).integration_id == integration.id

    too_long = [{"service": "login", "code": "503"}, {"service": "x" * 101, "code": "1"}]
    with pytest.raises(DataError), transaction.atomic():
        ingest.report_ingest(integration=integration, triggers=too_long, payload={})
    assert Report.objects.count() == 1 and Trigger.objects.count() == 2
