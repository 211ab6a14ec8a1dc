from datetime import datetime, time, timedelta

from django.utils import timezone
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import (
    HasRequiredPermissions,
    IntegrationTokenAuthentication,
    IsIntegration,
    LimitedJSONParser,
)
from incidents import services
from incidents.models import Incident
from incidents.operations import OPERATIONS
from incidents.serializers import (
    IncidentDetailSerializer,
    IncidentSerializer,
    TriggerBatchSerializer,
    TriggerOutSerializer,
)

_DAY = timedelta(days=1)


class TriggerIngestApi(APIView):
    """Record a batch of triggers from monitoring; processing happens in the worker."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [IsIntegration]
    parser_classes = [LimitedJSONParser]

    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"gatilhos": "The body must be a JSON object with a list."})
        serializer = TriggerBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report, triggers = services.report_ingest(
            integration=request.auth,
            triggers=serializer.validated_data["triggers"],
            payload=request.data,
        )
        return Response(
            {"report": str(report.id), "triggers": TriggerOutSerializer(triggers, many=True).data},
            status=status.HTTP_202_ACCEPTED,
        )


def _parse_date(params, name):
    value = params.get(name)
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError({name: "Use the form YYYY-MM-DD."}) from None


class IncidentListApi(generics.ListAPIView):
    """Incidents, newest first; filter by status, service, action, date, since, until."""

    serializer_class = IncidentSerializer
    permission_classes = [HasRequiredPermissions]
    required_permissions = ["incidents.view_incident"]

    def get_queryset(self):
        params = self.request.query_params
        incidents = Incident.objects.select_related("action")
        if value := params.get("status"):
            if value not in Incident.Status.values:
                raise ValidationError({"status": f"One of {', '.join(Incident.Status.values)}."})
            incidents = incidents.filter(status=value)
        if value := params.get("service"):
            incidents = incidents.filter(action__rules__service__slug=value.lower()).distinct()
        if value := params.get("action"):
            incidents = incidents.filter(action__code=value)
        tz = timezone.get_current_timezone()
        if day := _parse_date(params, "date"):
            start = datetime.combine(day, time.min, tzinfo=tz)
            incidents = incidents.filter(opened_at__gte=start, opened_at__lt=start + _DAY)
        if day := _parse_date(params, "since"):
            incidents = incidents.filter(opened_at__gte=datetime.combine(day, time.min, tzinfo=tz))
        if day := _parse_date(params, "until"):
            end = datetime.combine(day, time.min, tzinfo=tz) + _DAY
            incidents = incidents.filter(opened_at__lt=end)
        return incidents.order_by("-opened_at")


class IncidentDetailApi(generics.RetrieveAPIView):
    """One incident with its frozen policy, timeline and deliveries."""

    serializer_class = IncidentDetailSerializer
    permission_classes = [HasRequiredPermissions]
    required_permissions = ["incidents.view_incident"]
    queryset = Incident.objects.select_related("action").prefetch_related(
        "events", "deliveries__team", "deliveries__channel"
    )


class IncidentOperationApi(APIView):
    """Run one operation (acknowledge, resolve, ...) on an incident as the calling user."""

    permission_classes = [HasRequiredPermissions]

    def post(self, request, pk, operation):
        op = OPERATIONS.get(operation)
        if op is None:
            raise NotFound(f"No operation {operation!r}; one of {', '.join(OPERATIONS)}.")
        if not request.user.has_perm(op.permission):
            raise PermissionDenied(f"You may not {operation} incidents.")
        incident = generics.get_object_or_404(Incident.objects.select_related("action"), pk=pk)
        changed = op.run(incident_id=incident.pk, by=request.user.get_username())
        incident.refresh_from_db()
        return Response(
            {"changed": changed, "incident": IncidentSerializer(incident).data},
            status=status.HTTP_200_OK,
        )
