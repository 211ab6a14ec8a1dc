"""The on-call API: schedules, who is on call at a moment, the final schedule, overrides.

Support reads (`oncall.view_schedule`); CX staff also add and delete overrides.
"""

from datetime import UTC, timedelta
from datetime import timezone as fixed_offset

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import UNSTORABLE, HasRequiredPermissions, LimitedJSONParser
from cxhub.schema import BAD_REQUEST, GET_ERRORS, NOT_FOUND, POST_ERRORS
from oncall import selectors, services
from oncall.final import gaps
from oncall.models import Override, Schedule

VIEW = "oncall.view_schedule"
# The longest final schedule one request may ask for.
MAX_RANGE = timedelta(days=366)


def moment(params, name: str, default=None):
    """Read an ISO 8601 moment from the query; 400 naming the parameter when it is not one."""
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValidationError({name: ["Give an ISO 8601 moment, e.g. 2026-12-03T09:00:00Z."]})
        return default
    parsed = None
    if not UNSTORABLE.search(raw):
        try:
            parsed = parse_datetime(raw.replace(" ", "+"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError(
            {name: [f"Not an ISO 8601 moment: {raw[:40]!r}; e.g. 2026-12-03T09:00:00Z."]}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()

    def to_representation(self, user):
        return {"username": user.get_username(), "email": user.email}


class ScheduleSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    fed_by_ical = serializers.SerializerMethodField(
        help_text="Whether the shifts come from an iCal feed (read-only) instead of layers."
    )

    class Meta:
        model = Schedule
        fields = ["id", "name", "time_zone", "team", "fed_by_ical", "feed_error", "feed_checked_at"]

    def get_fed_by_ical(self, schedule) -> bool:
        return bool(schedule.ical_url)


class MomentField(serializers.DateTimeField):
    """A moment written with the offset it carries (UTC as Z), not in the server's zone."""

    def to_representation(self, value):
        text = value.isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


class OncallSerializer(serializers.Serializer):
    at = MomentField(
        help_text="The moment asked about, with the offset it was given in (UTC, as Z, when "
        "it was given without one or not at all)."
    )
    oncall = PersonSerializer(many=True)


class ShiftSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=["layer", "override", "feed"])

    def to_representation(self, interval):
        return {
            "username": interval.user.get_username(),
            "email": interval.user.email,
            "start": serializers.DateTimeField().to_representation(interval.start),
            "end": serializers.DateTimeField().to_representation(interval.end),
            "source": interval.source,
        }


class SpanSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ShiftsSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    shifts = ShiftSerializer(many=True)
    gaps = SpanSerializer(many=True, help_text="Spans of the range with nobody on call.")


class OverrideSerializer(serializers.ModelSerializer):
    username = serializers.SlugRelatedField(
        source="user",
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        help_text="Who is on call instead.",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Override
        fields = ["id", "username", "start", "end", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def validate(self, data):
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": ["The end must be after the start."]})
        return data


class ScheduleApi(APIView):
    permission_classes = [HasRequiredPermissions]
    required_permissions = [VIEW]

    def schedule(self, pk) -> Schedule:
        return get_object_or_404(Schedule, pk=pk)


@extend_schema_view(
    get=extend_schema(
        operation_id="schedules_list",
        tags=["on call"],
        summary="List on-call schedules",
        responses={200: ScheduleSerializer(many=True), 400: BAD_REQUEST, **GET_ERRORS},
    )
)
class ScheduleListApi(generics.ListAPIView):
    """Every schedule, by name."""

    serializer_class = ScheduleSerializer
    permission_classes = [HasRequiredPermissions]
    required_permissions = [VIEW]
    queryset = Schedule.objects.select_related("team").order_by("name")


@extend_schema_view(
    get=extend_schema(
        operation_id="schedules_oncall",
        tags=["on call"],
        summary="Who is on call at a moment",
        parameters=[
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                description="ISO 8601; default: now. Echoed back with the same offset.",
                allow_blank=False,
            )
        ],
        responses={200: OncallSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, **GET_ERRORS},
    )
)
class ScheduleOncallApi(ScheduleApi):
    """The people on call at `at` (one indexed lookup within the materialized horizon)."""

    def get(self, request, pk):
        schedule = self.schedule(pk)
        at = moment(request.query_params, "at", default=timezone.now())
        if not isinstance(at.tzinfo, fixed_offset):
            at = at.astimezone(UTC)  # given without an offset (read in the server's zone), or now
        people = selectors.oncall_at(schedule, at)
        return Response(OncallSerializer({"at": at, "oncall": people}).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="schedules_shifts",
        tags=["on call"],
        summary="The final schedule over a range, and its gaps",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="ISO 8601; default: now."),
            OpenApiParameter(
                "end", OpenApiTypes.DATETIME, description="ISO 8601; default: start + 7 days."
            ),
        ],
        responses={200: ShiftsSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, **GET_ERRORS},
    )
)
class ScheduleShiftsApi(ScheduleApi):
    """Who is on call from `start` to `end` (at most 366 days), after layers and overrides."""

    def get(self, request, pk):
        schedule = self.schedule(pk)
        params = request.query_params
        start = moment(params, "start", default=timezone.now())
        end = moment(params, "end", default=start + timedelta(days=7))
        if end <= start:
            raise ValidationError({"end": ["The end must be after the start."]})
        if end - start > MAX_RANGE:
            raise ValidationError({"end": ["Ask for at most 366 days at a time."]})
        intervals = selectors.shifts(schedule, start, end)
        return Response(
            {
                "start": serializers.DateTimeField().to_representation(start),
                "end": serializers.DateTimeField().to_representation(end),
                "shifts": ShiftSerializer(intervals, many=True).data,
                "gaps": SpanSerializer(
                    [{"start": b, "end": f} for b, f in gaps(intervals, start, end)], many=True
                ).data,
            }
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="schedules_overrides_list",
        tags=["on call"],
        summary="A schedule's overrides that have not ended",
        responses={200: OverrideSerializer(many=True), 404: NOT_FOUND, **GET_ERRORS},
    ),
    post=extend_schema(
        operation_id="schedules_overrides_create",
        tags=["on call"],
        summary="Put someone on call for a period (CX staff)",
        request=OverrideSerializer,
        responses={201: OverrideSerializer, 404: NOT_FOUND, **POST_ERRORS},
    ),
)
class ScheduleOverridesApi(ScheduleApi):
    parser_classes = [LimitedJSONParser]

    @property
    def required_permissions(self):
        return ["oncall.add_override"] if self.request.method == "POST" else [VIEW]

    def get(self, request, pk):
        schedule = self.schedule(pk)
        rows = (
            Override.objects.filter(schedule=schedule, end__gt=timezone.now())
            .select_related("user", "created_by")
            .order_by("start")
        )
        return Response(OverrideSerializer(rows, many=True).data)

    def post(self, request, pk):
        schedule = self.schedule(pk)
        serializer = OverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            override = services.override_create(
                schedule=schedule,
                user=data["user"],
                start=data["start"],
                end=data["end"],
                by=request.user,
            )
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict if hasattr(error, "error_dict") else error.messages
            ) from None
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="schedules_overrides_retrieve",
        tags=["on call"],
        summary="One override",
        responses={200: OverrideSerializer, 404: NOT_FOUND, **GET_ERRORS},
    ),
    delete=extend_schema(
        operation_id="schedules_overrides_destroy",
        tags=["on call"],
        summary="Delete an override (CX staff): the layers say who is on call again",
        responses={204: None, 404: NOT_FOUND, **GET_ERRORS},
    ),
)
class ScheduleOverrideApi(ScheduleApi):
    @property
    def required_permissions(self):
        return ["oncall.delete_override"] if self.request.method == "DELETE" else [VIEW]

    def override(self, pk, override_id) -> Override:
        return get_object_or_404(
            Override.objects.select_related("user", "created_by"), schedule_id=pk, pk=override_id
        )

    def get(self, request, pk, override_id):
        return Response(OverrideSerializer(self.override(pk, override_id)).data)

    def delete(self, request, pk, override_id):
        services.override_delete(override=self.override(pk, override_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
