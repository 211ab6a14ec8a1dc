"""Signals besides alerts: change events (deploys) and heartbeat pings."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import (
    IntegrationPrincipal,
    IntegrationTokenAuthentication,
    IsIntegration,
    LimitedJSONParser,
    out_of_scope,
)
from cxhub.ratelimit import FailedAuthLimit
from cxhub.schema import FORBIDDEN, POST_ERRORS, THROTTLED, UNAUTHORIZED, UNAVAILABLE
from incidents.api.integrations import IntegrationIngestApi, Rejected, ingest_schema
from incidents.intake import changes, heartbeats, parsers
from incidents.models import Integration, ingest_kinds, mappings


@ingest_schema(
    "pagerduty_change_enqueue", "PagerDuty change event (routing_key = token)", ("post",)
)
class PagerDutyChangeApi(IntegrationIngestApi):
    """`POST /v2/change/enqueue`: a deploy or config change, as CI/CD tools send it."""

    http_method_names = ["post", "options"]

    def post(self, request):
        return super().post(request, Integration.Kind.PAGERDUTY)

    def _accept(self, request, integration, body):
        mapping = mappings.effective_mapping(integration.kind, integration.mapping)
        try:
            change = changes.parse_pagerduty_change(body, mapping)
        except parsers.PagerDutyError as error:
            raise Rejected(400, str(error), errors=error.errors) from None
        changes.change_record(integration=integration, change=change)
        return Response(
            {"status": "success", "message": "Change event processed"},
            status=status.HTTP_202_ACCEPTED,
        )


class IsSignalSender(IsIntegration):
    """Admit the token of any monitoring integration (every kind but the app backend)."""

    def has_permission(self, request, view):
        user = request.user
        if isinstance(user, IntegrationPrincipal) and user.integration.kind in ingest_kinds():
            return True
        if isinstance(user, IntegrationPrincipal):
            self.message = out_of_scope(user.integration)
        return False


class ChangeApi(APIView):
    """Record a deploy or configuration change of a service (a monitoring integration's token)."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [IsSignalSender]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="changes_create",
        tags=["changes"],
        summary="Record a change (deploy, configuration) of a service",
        description='`{"service", "summary", "at"?, "source"?, "links"?: '
        '[{"href", "text"}], "details"?}`; shown on the incidents of that service '
        "that open within the hour after it.",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT, **POST_ERRORS},
    )
    def post(self, request):
        try:
            change = changes.parse_change(request.data)
        except parsers.PayloadError as error:
            raise ValidationError({error.field: [error.message]}) from None
        row = changes.change_record(integration=request.auth, change=change)
        return Response(
            {"id": str(row.id), "service": row.service, "at": row.at.isoformat()},
            status=status.HTTP_201_CREATED,
        )


# Tokens are URL-safe base64 (secrets.token_urlsafe).
TOKEN_PARAMETER = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="The heartbeat check's token (shown once when created).",
)
PING_ANSWERS = {
    200: OpenApiResponse(OpenApiTypes.OBJECT, description='{"status": "ok"}'),
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    429: THROTTLED,
    503: UNAVAILABLE,
}


class HeartbeatPingApi(APIView):
    """`POST` or `GET /api/v1/heartbeats/<token>`: the check's signal (from cron, say)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        operation_id="heartbeats_ping",
        tags=["heartbeats"],
        summary="Ping a heartbeat check (its token in the path)",
        request=None,
        parameters=[TOKEN_PARAMETER],
        responses=PING_ANSWERS,
        auth=[],
    )
    def post(self, request, token):
        guard = FailedAuthLimit(request)
        guard.check()
        check = heartbeats.heartbeat_ping(token)
        if check is None:
            guard.failed()
            # Not NotAuthenticated: without an authenticator DRF would make it a 403.
            return Response({"detail": "No heartbeat check has this token."}, status=401)
        if not check.enabled:
            raise PermissionDenied("This heartbeat check is disabled.")
        return Response({"status": "ok"})

    @extend_schema(
        operation_id="heartbeats_ping_get",
        tags=["heartbeats"],
        summary="Ping a heartbeat check with GET (for senders that only GET)",
        request=None,
        parameters=[TOKEN_PARAMETER],
        responses=PING_ANSWERS,
        auth=[],
    )
    def get(self, request, token):
        return self.post(request, token)
