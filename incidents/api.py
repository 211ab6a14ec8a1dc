from datetime import datetime, time, timedelta

from django.utils import timezone
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import IntegrationTokenAuthentication, IsIntegration, LimitedJSONParser
from incidents import lifecycle, services
from incidents.models import Incident
from incidents.serializers import (
    IncidentDetailSerializer,
    IncidentNoteSerializer,
    IncidentSerializer,
    IncidentSilenceSerializer,
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


INCIDENT_DETAIL = Incident.objects.select_related("action").prefetch_related(
    "events", "deliveries__team", "deliveries__channel"
)


class IncidentDetailApi(generics.RetrieveAPIView):
    serializer_class = IncidentDetailSerializer
    queryset = INCIDENT_DETAIL


class IncidentCommandApi(APIView):
    """POST a lifecycle step to one incident: 200 with the incident, 404, or 409 with why."""

    serializer_class = IncidentNoteSerializer

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
        return Response(IncidentDetailSerializer(INCIDENT_DETAIL.get(pk=pk)).data)

    def perform(self, incident, *, by, **data) -> bool:
        raise NotImplementedError

    def conflict(self, incident) -> str:
        if incident.status == Incident.Status.RESOLVED:
            return f"The incident is already resolved (by {incident.resolved_by})."
        return f"The incident is already acknowledged (by {incident.acknowledged_by})."


class IncidentAcknowledgeApi(IncidentCommandApi):
    """Stop further tier pages; the teams already paged are told who acknowledged."""

    def perform(self, incident, *, by, note):
        return services.incident_acknowledge(incident_id=incident.pk, by=by, note=note)


class IncidentResolveApi(IncidentCommandApi):
    """Resolve: stop escalation, tell the paged teams, queue the customers' all-clear."""

    def perform(self, incident, *, by, note):
        return services.incident_resolve(incident_id=incident.pk, by=by, note=note)


class IncidentSilenceApi(IncidentCommandApi):
    """Hold pages for `minutes` (0 ends the silence); occurrences still count."""

    serializer_class = IncidentSilenceSerializer

    def perform(self, incident, *, by, note, minutes):
        return lifecycle.incident_silence(
            incident_id=incident.pk, minutes=minutes, by=by, note=note
        )

    def conflict(self, incident):
        if incident.status == Incident.Status.RESOLVED:
            return "The incident is resolved: there is nothing to silence."
        return "The incident is not silenced."
