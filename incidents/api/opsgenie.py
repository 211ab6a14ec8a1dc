"""The Opsgenie Alert API at the root (`api_url: https://cxhub.example/`), GenieKey auth.

Create (`POST /v2/alerts`), close and acknowledge (`POST /v2/alerts/{id}/close`,
`.../acknowledge`, `?identifierType=id|alias|tiny`) are recorded like any other
sender's report and counted by the worker; `PUT .../message` and
`.../description` go on the timeline. Answers have Opsgenie's shape.
"""

import time
import uuid

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import ParseError, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import MonitoringJSONParser, PayloadTooLarge, integration_for_token
from cxhub.ratelimit import FailedAuthLimit
from incidents import services
from incidents.intake import heartbeats, opsgenie, parsers
from incidents.models import Integration, mappings


class OpsgenieError(Exception):
    def __init__(self, code: int, message: str, errors: dict | None = None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def opsgenie_schema(operation_id, summary, request=OpenApiTypes.OBJECT, method="post"):
    responses = {
        202: OpenApiResponse(
            OpenApiTypes.OBJECT, description='{"result": "Request will be processed", ...}'
        ),
        **{
            code: OpenApiResponse(OpenApiTypes.OBJECT, description=text)
            for code, text in {
                400: "The body is not JSON.",
                401: "Missing or invalid GenieKey.",
                403: "The integration is disabled, or the key is of another kind.",
                404: "No alert with that tiny id.",
                411: "A chunked body on a server that cannot read one.",
                413: "The body is larger than CXHUB_MONITORING_MAX_BODY.",
                415: "The body is not application/json.",
                422: "The request is not processable; `errors` names the field.",
                429: "Too many failed keys from this address.",
                503: "The database is unavailable; retry after Retry-After seconds.",
            }.items()
        },
    }
    return extend_schema_view(
        **{
            method: extend_schema(
                operation_id=operation_id,
                tags=["integrations"],
                summary=summary,
                request=request,
                responses=responses,
                auth=[{"integrationToken": []}],
            )
        }
    )


class OpsgenieApi(APIView):
    """Common part: the GenieKey, Opsgenie's answers and errors."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [MonitoringJSONParser]
    oversize_hint = "Split it: set max_alerts on the sender, or raise CXHUB_MONITORING_MAX_BODY."

    def dispatch(self, request, *args, **kwargs):
        self.started = time.monotonic()
        self.request_id = str(uuid.uuid4())
        return super().dispatch(request, *args, **kwargs)

    def handle(self, request, work):
        integration = None
        try:
            integration = self._integration(request)
            # Opt-in only (0 by default): a sender drops what is refused.
            if wait := services.integration_admit(integration):
                raise OpsgenieError(
                    429,
                    f"Rate limit of {integration.rate_limit} requests a minute exceeded; "
                    f"retry in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )
            return work(integration, self._body(request))
        except OpsgenieError as error:
            if integration is not None:
                services.integration_reject(integration, f"{error.code} {error.message}")
            body = {"message": error.message, **self._timing()}
            if error.errors:
                body["errors"] = error.errors
            return Response(body, status=error.code, headers=error.headers)

    def _timing(self) -> dict:
        return {"took": round(time.monotonic() - self.started, 3), "requestId": self.request_id}

    def accepted(self) -> Response:
        return Response({"result": "Request will be processed", **self._timing()}, status=202)

    def _body(self, request):
        try:
            return request.data
        except PayloadTooLarge as error:
            raise OpsgenieError(413, str(error.detail)) from None
        except ParseError as error:
            raise OpsgenieError(400, f"body: {error.detail}") from None

    def _integration(self, request) -> Integration:
        guard = FailedAuthLimit(request)
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"geniekey":
            raise OpsgenieError(
                401, "Key format is not valid! Send 'Authorization: GenieKey <key>'."
            )
        try:
            guard.check()
        except Throttled as error:
            raise OpsgenieError(429, str(error.detail)) from None
        try:
            integration = integration_for_token(parts[1].decode())
        except UnicodeDecodeError:
            integration = None
        if not integration:
            guard.failed()
            raise OpsgenieError(401, "Could not authenticate.")
        if integration.kind != Integration.Kind.OPSGENIE:
            raise OpsgenieError(
                403,
                f"This key belongs to a '{integration.kind}' integration, not an opsgenie one.",
            )
        if not integration.enabled:
            raise OpsgenieError(403, "This integration is disabled.")
        return integration

    def ingest(self, integration, trigger, body):
        services.report_ingest(integration=integration, triggers=[trigger], payload=body)
        heartbeats.integration_signal(integration)
        return self.accepted()


@opsgenie_schema("opsgenie_alert_create", "Opsgenie: create an alert")
class OpsgenieAlertCreateApi(OpsgenieApi):
    def post(self, request):
        def work(integration, body):
            mapping = mappings.effective_mapping(integration.kind, integration.mapping)
            try:
                trigger = opsgenie.parse_create(body, mapping, request_id=self.request_id)
            except parsers.PayloadError as error:
                raise OpsgenieError(
                    422,
                    "Request body is not processable. Please check the errors.",
                    {error.field: error.message},
                ) from None
            return self.ingest(integration, trigger, body)

        return self.handle(request, work)


class OpsgenieAlertStateApi(OpsgenieApi):
    """Close or acknowledge the alert an identifier names (`?identifierType=`)."""

    status = ""

    def post(self, request, identifier):
        def work(integration, body):
            kind = request.query_params.get("identifierType", "id")
            if kind not in opsgenie.IDENTIFIER_TYPES:
                raise OpsgenieError(
                    422,
                    "Request is not processable.",
                    {"identifierType": "must be id, alias or tiny."},
                )
            fingerprint = opsgenie.identifier_fingerprint(integration, identifier, kind)
            if fingerprint is None:
                raise OpsgenieError(404, f"Alert with tiny id [{identifier}] does not exist.")
            trigger = {
                "service": "",
                "code": "",
                "summary": "",
                "status": self.status,
                "fingerprint": fingerprint,
                "starts_at": None,
            }
            payload = {"identifier": identifier, "identifierType": kind, **body}
            return self.ingest(integration, trigger, payload)

        return self.handle(request, work)


@opsgenie_schema("opsgenie_alert_close", "Opsgenie: close an alert")
class OpsgenieAlertCloseApi(OpsgenieAlertStateApi):
    status = parsers.RESOLVED


@opsgenie_schema("opsgenie_alert_acknowledge", "Opsgenie: acknowledge an alert")
class OpsgenieAlertAcknowledgeApi(OpsgenieAlertStateApi):
    status = parsers.ACKNOWLEDGED


class OpsgenieAlertUpdateApi(OpsgenieApi):
    """`PUT .../message` or `.../description`: noted on the alert's open incidents."""

    field = ""
    http_method_names = ["put", "options"]

    def put(self, request, identifier):
        def work(integration, body):
            text = body.get(self.field) if isinstance(body, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise OpsgenieError(
                    422,
                    "Request body is not processable. Please check the errors.",
                    {self.field: f"{self.field.capitalize()} can not be empty."},
                )
            kind = request.query_params.get("identifierType", "id")
            fingerprint = opsgenie.identifier_fingerprint(integration, identifier, kind)
            if fingerprint is None:
                raise OpsgenieError(404, f"Alert with tiny id [{identifier}] does not exist.")
            opsgenie.alert_update_note(
                integration, fingerprint, self.field, text, at=timezone.now()
            )
            heartbeats.integration_signal(integration)
            return self.accepted()

        return self.handle(request, work)


@opsgenie_schema("opsgenie_alert_message", "Opsgenie: update an alert's message", method="put")
class OpsgenieAlertMessageApi(OpsgenieAlertUpdateApi):
    field = "message"


@opsgenie_schema(
    "opsgenie_alert_description", "Opsgenie: update an alert's description", method="put"
)
class OpsgenieAlertDescriptionApi(OpsgenieAlertUpdateApi):
    field = "description"
