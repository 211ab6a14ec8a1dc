from datetime import datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub import audit, redact
from cxhub.api import (
    UNSTORABLE,
    HasRequiredPermissions,
    IntegrationTokenAuthentication,
    LimitedJSONParser,
    integration_of_kind,
)
from cxhub.rules import RULES
from cxhub.schema import (
    BAD_REQUEST,
    FORBIDDEN,
    GET_ERRORS,
    NOT_FOUND,
    POST_ERRORS,
    UNAUTHORIZED,
)
from incidents import services
from incidents.api.serializers import (
    IncidentDetailSerializer,
    IncidentNoteSerializer,
    IncidentSerializer,
    IncidentSilenceSerializer,
    ReportOutSerializer,
    TriggerBatchSerializer,
    TriggerOutSerializer,
    TriggersAcceptedSerializer,
)
from incidents.models import Incident, Integration
from incidents.selectors import IncidentReports, incidents_filter

_DAY = timedelta(days=1)


class TriggerIngestApi(APIView):
    """Record a batch of triggers from monitoring; processing happens in the worker.

    The storm's common case is answered before it gets here (`fastpath.FastIngestMiddleware`).
    """

    authentication_classes = [IntegrationTokenAuthentication]
    # Only cxhub-JSON tokens: an Alertmanager token sends to its own endpoint.
    permission_classes = [integration_of_kind(Integration.Kind.CXHUB)]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="triggers_create",
        tags=["triggers"],
        summary="Record a batch of triggers",
        description="Give exactly one list: `gatilhos` (the original payload, "
        "`servico`/`retorno`) or `triggers` (`service`/`code`). A code may be a string or "
        "a number. One request is one occurrence per action it matches. At most "
        "`CXHUB_MAX_TRIGGERS_PER_REQUEST` (1000) triggers and 1 MiB per request.",
        request=TriggerBatchSerializer,
        responses={202: TriggersAcceptedSerializer, **POST_ERRORS},
        examples=[
            OpenApiExample(
                "The original payload",
                request_only=True,
                value={
                    "gatilhos": [
                        {"servico": "login", "retorno": "503"},
                        {"servico": "login", "retorno": "404"},
                    ]
                },
            ),
            OpenApiExample(
                "English keys",
                request_only=True,
                value={"triggers": [{"service": "pix", "code": 500}]},
            ),
        ],
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"gatilhos": "The body must be a JSON object with a list."})
        serializer = TriggerBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Support reads stored payloads: no credential may be kept in them.
        report, triggers = services.report_ingest(
            integration=request.auth,
            triggers=redact.stored(serializer.validated_data["triggers"], request),
            payload=redact.stored(request.data, request),
        )
        return Response(
            {"report": str(report.id), "triggers": TriggerOutSerializer(triggers, many=True).data},
            status=status.HTTP_202_ACCEPTED,
        )


def _parse_date(params, name):
    if name not in params:
        return None
    value = params[name]
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError({name: "Use the form YYYY-MM-DD."}) from None


def _date_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, description=description, allow_blank=False)


# What PostgreSQL can compare: no NUL (the view answers 400 for one).
STORABLE = "^[^\\u0000]*$"


@extend_schema_view(
    get=extend_schema(
        operation_id="incidents_list",
        tags=["incidents"],
        summary="List incidents, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=Incident.Status.values, allow_blank=False),
            OpenApiParameter(
                "service", str, description="A service slug, e.g. login.", pattern=STORABLE
            ),
            OpenApiParameter(
                "action", str, description="An action code, e.g. 0001.", pattern=STORABLE
            ),
            _date_parameter("date", "Opened on this day (YYYY-MM-DD, server time zone)."),
            _date_parameter("since", "Opened on or after this day."),
            _date_parameter("until", "Opened on or before this day."),
        ],
        responses={200: IncidentSerializer(many=True), 400: BAD_REQUEST, **GET_ERRORS},
    )
)
class IncidentListApi(generics.ListAPIView):
    """Incidents, newest first; filter by status, service, action, date, since, until."""

    serializer_class = IncidentSerializer
    permission_classes = [HasRequiredPermissions]
    required_permissions = ["incidents.view_incident"]

    def get_queryset(self):
        params = self.request.query_params
        for name, value in params.items():
            # PostgreSQL cannot compare text with NUL or lone surrogates: a 400, not a 500.
            if UNSTORABLE.search(value):
                raise ValidationError({name: "NUL characters are not allowed."})
        if "status" in params and params["status"] not in Incident.Status.values:
            raise ValidationError({"status": f"One of {', '.join(Incident.Status.values)}."})
        tz = timezone.get_current_timezone()
        starts, ends = [], []
        if day := _parse_date(params, "date"):
            starts.append(datetime.combine(day, time.min, tzinfo=tz))
            ends.append(starts[-1] + _DAY)
        if day := _parse_date(params, "since"):
            starts.append(datetime.combine(day, time.min, tzinfo=tz))
        if day := _parse_date(params, "until"):
            ends.append(datetime.combine(day, time.min, tzinfo=tz) + _DAY)
        return incidents_filter(
            Incident.objects.select_related("action"),
            status=params.get("status", ""),
            service=params.get("service", ""),
            action=params.get("action", ""),
            opened_from=max(starts, default=None),
            opened_before=min(ends, default=None),
        )


INCIDENT_DETAIL = Incident.objects.select_related("action").prefetch_related(
    "events", "deliveries__team", "deliveries__channel"
)


@extend_schema_view(
    get=extend_schema(
        operation_id="incidents_retrieve",
        tags=["incidents"],
        summary="One incident with its timeline and deliveries",
        responses={200: IncidentDetailSerializer, 404: NOT_FOUND, **GET_ERRORS},
    )
)
class IncidentDetailApi(generics.RetrieveAPIView):
    """One incident with its frozen policy, timeline and deliveries."""

    serializer_class = IncidentDetailSerializer
    permission_classes = [HasRequiredPermissions]
    required_permissions = ["incidents.view_incident"]
    queryset = INCIDENT_DETAIL


class ReportPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


@extend_schema_view(
    get=extend_schema(
        operation_id="incidents_reports_list",
        tags=["incidents"],
        summary="Every payload of one incident, whole, newest first",
        responses={200: ReportOutSerializer(many=True), 404: NOT_FOUND, **GET_ERRORS},
    )
)
class IncidentReportsApi(generics.ListAPIView):
    """The payloads whose triggers counted toward or ended an incident, paginated."""

    serializer_class = ReportOutSerializer
    permission_classes = [HasRequiredPermissions]
    required_permissions = ["incidents.view_incident"]
    pagination_class = ReportPagination

    def get_queryset(self):
        return IncidentReports(get_object_or_404(Incident, pk=self.kwargs["pk"]))


CONFLICT = inline_serializer(
    "IncidentConflict",
    fields={"detail": serializers.CharField(), "status": serializers.CharField()},
)


def command_schema(summary, request=IncidentNoteSerializer):
    """Document one lifecycle step: the incident on success, 409 when it cannot apply."""
    return extend_schema_view(
        post=extend_schema(
            operation_id=None,
            tags=["incidents"],
            summary=summary,
            request=request,
            responses={
                200: IncidentDetailSerializer,
                400: BAD_REQUEST,
                401: UNAUTHORIZED,
                403: FORBIDDEN,
                404: NOT_FOUND,
                409: CONFLICT,
            },
        )
    )


class IncidentCommandApi(APIView):
    """POST a lifecycle step to one incident: 200 with the incident, 404, or 409 with why.

    Responding to incidents is the Support role's `incidents.change_incident`.
    """

    serializer_class = IncidentNoteSerializer
    permission_classes = [HasRequiredPermissions]
    operation = ""

    @property
    def required_permissions(self):
        return [RULES[self.operation]]

    def permission_denied(self, request, message=None, code=None):
        message = message or f"You may not {self.operation} incidents."
        super().permission_denied(request, message=message, code=code)

    def post(self, request, pk):
        incident = get_object_or_404(Incident, pk=pk)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not self.perform(incident, by=request.user.get_username(), **serializer.validated_data):
            incident.refresh_from_db()
            return Response(
                {"detail": self.conflict(incident), "status": incident.status},
                status=status.HTTP_409_CONFLICT,
            )
        audit.record(request.user, [incident], f"API: {self.operation}")
        return Response(IncidentDetailSerializer(INCIDENT_DETAIL.get(pk=pk)).data)

    def perform(self, incident, *, by, **data) -> bool:
        raise NotImplementedError

    def conflict(self, incident) -> str:
        if incident.status == Incident.Status.RESOLVED:
            return f"The incident is already resolved (by {incident.resolved_by})."
        return f"The incident is already acknowledged (by {incident.acknowledged_by})."


@command_schema("Acknowledge an incident (stops further tier pages)")
class IncidentAcknowledgeApi(IncidentCommandApi):
    """Stop further tier pages; the teams already paged are told who acknowledged."""

    operation = "acknowledge"

    def perform(self, incident, *, by, note):
        return services.incident_acknowledge(incident_id=incident.pk, by=by, note=note)


@command_schema("Resolve an incident (all-clear to the customers pushed)")
class IncidentResolveApi(IncidentCommandApi):
    """Resolve: stop escalation, tell the paged teams, queue the customers' all-clear."""

    operation = "resolve"

    def perform(self, incident, *, by, note):
        return services.incident_resolve(incident_id=incident.pk, by=by, note=note)


@command_schema("Silence an incident's pages for some minutes", IncidentSilenceSerializer)
class IncidentSilenceApi(IncidentCommandApi):
    """Hold pages for `minutes` (0 ends the silence); occurrences still count."""

    serializer_class = IncidentSilenceSerializer
    operation = "silence"

    def perform(self, incident, *, by, note, minutes):
        return services.incident_silence(incident_id=incident.pk, minutes=minutes, by=by, note=note)

    def conflict(self, incident):
        if incident.status == Incident.Status.RESOLVED:
            return "The incident is resolved: there is nothing to silence."
        return "The incident is not silenced."
