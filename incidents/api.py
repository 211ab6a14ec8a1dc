from datetime import datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import IntegrationTokenAuthentication, IsIntegration, LimitedJSONParser
from cxhub.schema import GET_ERRORS, POST_ERRORS
from incidents import services
from incidents.models import Incident
from incidents.serializers import (
    IncidentDetailSerializer,
    IncidentSerializer,
    TriggerAcceptedSerializer,
    TriggerBatchSerializer,
    TriggerOutSerializer,
)

_DAY = timedelta(days=1)


class TriggerIngestApi(APIView):
    """Record a batch of triggers from monitoring; processing happens in the worker."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [IsIntegration]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        request=TriggerBatchSerializer,
        responses={202: TriggerAcceptedSerializer, **POST_ERRORS},
    )
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


@extend_schema_view(
    get=extend_schema(
        responses={
            200: IncidentSerializer(many=True),
            400: POST_ERRORS[400],
            **GET_ERRORS,
        }
    )
)
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


@extend_schema_view(
    get=extend_schema(
        responses={
            200: IncidentDetailSerializer,
            404: OpenApiResponse(description="No such incident."),
            **GET_ERRORS,
        }
    )
)
class IncidentDetailApi(generics.RetrieveAPIView):
    serializer_class = IncidentDetailSerializer
    queryset = Incident.objects.select_related("action").prefetch_related(
        "events", "deliveries__team", "deliveries__channel"
    )
