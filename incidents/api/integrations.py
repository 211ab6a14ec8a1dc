"""Ingest in the monitoring tools' own languages: /api/v1/integrations/<kind>/ and /v2/enqueue."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import ParseError, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub import redact
from cxhub.api import MonitoringJSONParser, PayloadTooLarge
from cxhub.ratelimit import FailedAuthLimit
from incidents import services
from incidents.api.serializers import TriggerBatchSerializer, TriggerOutSerializer
from incidents.intake import heartbeats, parsers
from incidents.models import Integration, hash_token, ingest_kinds, mappings


class Rejected(Exception):
    def __init__(self, code: int, reason: str, *, errors=None, headers=None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.errors = errors or [reason]
        self.headers = headers or {}


def ingest_schema(operation_id: str, summary: str, methods=("post", "put"), *, auth=None):
    """Document a sender's webhook: its own JSON in, 202 out, every rejection named."""
    # Rejections are `{"detail"}`, or PagerDuty's `{"status", "message", "errors"}` for
    # PagerDuty events, so their bodies are documented as free-form objects.
    rejected = {
        400: "Invalid payload; the message names the field.",
        401: "Missing or invalid token.",
        403: "The integration is disabled, or the token is of another kind.",
        404: "Unknown integration kind.",
        411: "A chunked body on a server that cannot read one: send Content-Length.",
        413: "The body is larger than CXHUB_MONITORING_MAX_BODY (10 MiB); split it "
        "(Alertmanager: max_alerts).",
        415: "The body is not application/json.",
        429: "Over the integration's rate limit (opt-in), or too many failed tokens; "
        "see Retry-After.",
        503: "The database is unavailable; retry after Retry-After seconds.",
    }
    responses = {
        202: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="Accepted: the triggers recorded (PagerDuty: status and dedup_key).",
        ),
        **{
            code: OpenApiResponse(OpenApiTypes.OBJECT, description=text)
            for code, text in rejected.items()
        },
    }
    return extend_schema_view(
        **{
            method: extend_schema(
                operation_id=operation_id if method == "post" else f"{operation_id}_{method}",
                tags=["integrations"],
                summary=summary,
                request=OpenApiTypes.OBJECT,
                responses=responses,
                # Checked in the view (header, path or routing_key), not by DRF.
                auth=auth or [{"integrationToken": []}],
            )
            for method in methods
        }
    )


@ingest_schema("integrations_ingest", "Receive a monitoring tool's webhook (token as Bearer)")
class IntegrationIngestApi(APIView):
    """Accept a sender's own payload, authenticated by its integration token.

    The token comes from `Authorization: Bearer`, the last path segment (for
    senders that cannot set headers) or, for PagerDuty events, `routing_key`.
    Every rejection names its reason; one that can be tied to an integration is
    kept as its last error.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [MonitoringJSONParser]
    # Said with a 413: how to make the sender's notifications fit.
    oversize_hint = (
        "Split it: set max_alerts on the Alertmanager receiver, or raise CXHUB_MONITORING_MAX_BODY."
    )

    def post(self, request, kind, token=None):
        try:
            if kind not in ingest_kinds():
                raise Rejected(
                    404,
                    f"Unknown integration kind '{kind}': use one of {', '.join(ingest_kinds())}.",
                )
            # The token comes before the body where it can (header or path): a sender
            # without one is turned away before a monitoring-sized body is parsed, and a
            # known sender's 400/413 is kept as its last error. Only a PagerDuty event
            # may carry its token (routing_key) inside the body.
            token = token or self._bearer(request)
            in_body = not token and kind == Integration.Kind.PAGERDUTY
            body = self._body(request) if in_body else None
            integration = self._integration(request, kind, token, body)
            try:
                if body is None:
                    body = self._body(request)
                return self._accept(request, integration, body)
            except Rejected as rejected:
                services.integration_reject(integration, f"{rejected.code} {rejected.reason}")
                raise
        except Rejected as rejected:
            return self._rejection(kind, rejected)

    def put(self, request, kind, token=None):
        """Grafana contact points may be set to PUT."""
        return self.post(request, kind, token)

    def _body(self, request):
        try:
            return request.data
        except PayloadTooLarge as error:
            raise Rejected(413, str(error.detail)) from None
        except ParseError as error:
            raise Rejected(400, f"body: {error.detail}") from None

    def _integration(self, request, kind, token, body) -> Integration:
        # Every way of giving a token (header, path, routing_key) counts failures
        # against the one limit shared with the other authentication paths.
        guard = FailedAuthLimit(request)
        try:
            guard.check()
        except Throttled as throttled:
            wait = str(int(throttled.wait or 59) + 1)
            raise Rejected(429, str(throttled.detail), headers={"Retry-After": wait}) from None
        if not token and kind == Integration.Kind.PAGERDUTY and isinstance(body, dict):
            token = body.get("routing_key") if isinstance(body.get("routing_key"), str) else None
        if not token:
            if kind == Integration.Kind.PAGERDUTY:
                raise Rejected(400, "'routing_key' is missing or blank.")
            raise Rejected(
                401, "No token: send 'Authorization: Bearer <token>' or end the URL with the token."
            )
        integration = Integration.objects.filter(token_hash=hash_token(token)).first()
        if integration is None:
            guard.failed()
            if kind == Integration.Kind.PAGERDUTY:
                raise Rejected(400, "'routing_key' is not the token of any integration.")
            raise Rejected(401, "Invalid token.")
        if integration.kind != kind:
            reason = (
                f"This token belongs to a '{integration.kind}' integration; send to "
                f"{integration.endpoint}."
            )
            services.integration_reject(integration, f"403 {reason}")
            raise Rejected(403, reason)
        if not integration.enabled:
            reason = "This integration is disabled."
            services.integration_reject(integration, f"403 {reason}")
            raise Rejected(403, reason)
        return integration

    @staticmethod
    def _bearer(request):
        parts = get_authorization_header(request).split()
        if len(parts) == 2 and parts[0].lower() == b"bearer":
            try:
                return parts[1].decode()
            except UnicodeDecodeError:
                return None
        return None

    def _accept(self, request, integration, body):
        if wait := services.integration_admit(integration):
            raise Rejected(
                429,
                f"Rate limit of {integration.rate_limit} requests a minute exceeded; "
                f"retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        mapping = mappings.effective_mapping(integration.kind, integration.mapping)
        if integration.kind in (Integration.Kind.ALERTMANAGER, Integration.Kind.GRAFANA):
            # A Watchdog alert is a heartbeat check's signal, not a trigger.
            parsed = heartbeats.watchdog_take(integration, body)
            if parsed is None:
                heartbeats.integration_signal(integration)
                return Response({"report": None, "triggers": []}, status=status.HTTP_202_ACCEPTED)
        else:
            parsed = body
        try:
            if integration.kind == Integration.Kind.CXHUB:
                triggers = self._cxhub_triggers(body)
            elif integration.kind == Integration.Kind.PAGERDUTY:
                triggers = [parsers.parse_pagerduty(body, mapping)]
            elif integration.kind == Integration.Kind.GENERIC:
                triggers = parsers.parse_generic(body, mapping)
            elif integration.kind == Integration.Kind.OPSGENIE:
                raise Rejected(
                    404, "Opsgenie senders post to /v2/alerts (api_url: the cxhub root URL)."
                )
            else:
                # Every alert of a notification is recorded, however many: a
                # refused group is never counted (senders drop on 4xx).
                triggers = parsers.parse_alerts(parsed, mapping, kind=integration.kind)
        except parsers.PagerDutyError as error:
            raise Rejected(400, str(error), errors=error.errors) from None
        except parsers.PayloadError as error:
            raise Rejected(400, str(error)) from None
        # routing_key is the token itself; support reads stored payloads.
        secrets = redact.request_secrets(request)
        report, rows = services.report_ingest(
            integration=integration,
            triggers=redact.triggers(triggers, secrets=secrets),
            payload=redact.payload(body, secrets=secrets),
        )
        heartbeats.integration_signal(integration)
        if integration.kind == Integration.Kind.PAGERDUTY:
            return Response(
                {
                    "status": "success",
                    "message": "Event processed",
                    "dedup_key": triggers[0]["fingerprint"],
                },
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(
            {"report": str(report.id), "triggers": TriggerOutSerializer(rows, many=True).data},
            status=status.HTTP_202_ACCEPTED,
        )

    @staticmethod
    def _cxhub_triggers(body):
        serializer = TriggerBatchSerializer(data=body if isinstance(body, dict) else {})
        if not serializer.is_valid():
            field, messages = next(iter(serializer.errors.items()))
            raise parsers.PayloadError(field, str(messages))
        return serializer.validated_data["triggers"]

    @staticmethod
    def _rejection(kind, rejected: Rejected):
        if kind == Integration.Kind.PAGERDUTY:
            body = {
                "status": "invalid event" if rejected.code == 400 else "error",
                "message": "Event object is invalid" if rejected.code == 400 else rejected.reason,
                "errors": rejected.errors,
            }
        else:
            body = {"detail": rejected.reason}
        return Response(body, status=rejected.code, headers=rejected.headers)


@ingest_schema(
    "integrations_ingest_token", "Receive a monitoring tool's webhook (token in the path)"
)
class IntegrationIngestTokenApi(IntegrationIngestApi):
    """The same, for senders that cannot set headers: the token is the last path segment."""


# The token is the body's routing_key: no Authorization header is needed.
@ingest_schema(
    "pagerduty_enqueue",
    "PagerDuty Events API v2 (routing_key = token)",
    ("post",),
    auth=[{"integrationToken": []}, {}],
)
class PagerDutyEnqueueApi(IntegrationIngestApi):
    """`POST /v2/enqueue`, the PagerDuty Events API v2 path, for tools with it built in."""

    def post(self, request):
        return super().post(request, Integration.Kind.PAGERDUTY)

    http_method_names = ["post", "options"]
