"""API shapes. The seed's Portuguese keys (gatilhos, servico, retorno) are mapped here, once."""

import json

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.history.texts import event_text
from incidents.models import ChangeEvent, Incident, Report, TimelineEvent, Trigger
from notifications.models import Delivery

# A trigger's service and code: as long as the Trigger model stores them.
SERVICE_MAX_LENGTH = Trigger._meta.get_field("service").max_length
CODE_MAX_LENGTH = Trigger._meta.get_field("code").max_length


# The schema says what the field takes: a number is as good as its digits.
@extend_schema_field(
    {"oneOf": [{"type": "string", "maxLength": CODE_MAX_LENGTH}, {"type": "integer"}]}
)
class CodeField(serializers.CharField):
    """A trigger code: a string or a whole number (`"503"` or `503`)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(str(data))


class ServiceField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")  # a slug is text; a number is not silently turned into one
        return super().to_internal_value(data).lower()


class TriggerInSerializer(serializers.Serializer):
    service = ServiceField(max_length=SERVICE_MAX_LENGTH)
    code = CodeField(max_length=CODE_MAX_LENGTH)


class GatilhoInSerializer(serializers.Serializer):
    servico = ServiceField(max_length=SERVICE_MAX_LENGTH)
    retorno = CodeField(max_length=CODE_MAX_LENGTH)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return {"service": value["servico"], "code": value["retorno"]}


def _batch_field(child):
    return serializers.ListField(
        child=child,
        required=False,
        allow_empty=False,
        min_length=1,  # says "not empty" in the schema too
        max_length=settings.CXHUB_MAX_TRIGGERS_PER_REQUEST,
    )


class TriggerBatchSerializer(serializers.Serializer):
    """Accept `{"gatilhos": [{"servico", "retorno"}]}` (the original payload).

    Also `{"triggers": [{"service", "code"}]}`.
    """

    def get_fields(self):
        # Built per instance: the maximum is a setting, never read at import time.
        fields = super().get_fields()
        fields["gatilhos"] = _batch_field(GatilhoInSerializer())
        fields["triggers"] = _batch_field(TriggerInSerializer())
        return fields

    def validate(self, attrs):
        given = [key for key in ("gatilhos", "triggers") if key in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"gatilhos": "Give one list of triggers: 'gatilhos' (or 'triggers')."}
            )
        return {"triggers": attrs[given[0]]}


class TriggerOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField()
    code = serializers.CharField()
    matched = serializers.BooleanField(help_text="Whether an enabled action covers it.")


class TriggersAcceptedSerializer(serializers.Serializer):
    report = serializers.UUIDField(help_text="The recorded request; its triggers count once.")
    triggers = TriggerOutSerializer(many=True)


class EventTextField(serializers.CharField):
    """An event's detail rendered in the request's language."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        return event_text(value)


class TimelineEventSerializer(serializers.ModelSerializer):
    text = EventTextField(help_text="The detail in the request's language (Accept-Language).")
    params = serializers.JSONField(
        read_only=True,
        help_text='The detail as {"m": message key, ...values}; empty for older rows and notes.',
    )

    class Meta:
        model = TimelineEvent
        fields = ["at", "kind", "actor", "detail", "text", "params"]


class DeliverySerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", default=None)
    channel = serializers.CharField(source="channel.kind", default=None)
    recipients = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "purpose",
            "tier_level",
            "team",
            "channel",
            "provider",
            "recipients",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
        ]

    def get_recipients(self, delivery) -> int:
        return len(delivery.recipients)


class IncidentNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class IncidentSilenceSerializer(IncidentNoteSerializer):
    minutes = serializers.IntegerField(
        min_value=0, max_value=7 * 24 * 60, help_text="How long to hold pages; 0 ends a silence."
    )


class IncidentSerializer(serializers.ModelSerializer):
    action = serializers.CharField(source="action.code")
    action_name = serializers.CharField(source="action.name")

    class Meta:
        model = Incident
        fields = [
            "id",
            "action",
            "action_name",
            "status",
            "occurrences",
            "opened_at",
            "last_occurrence_at",
            "escalation_level",
            "push_queued_at",
            "acknowledged_at",
            "acknowledged_by",
            "silenced_until",
            "silenced_by",
            "maintenance_until",
            "resolved_at",
            "resolved_by",
        ]


class ChangeEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeEvent
        fields = ["id", "service", "summary", "source", "at", "links"]


# The detail carries the latest few payloads, each at most this big (as JSON text);
# all of them, whole, are paged at reports_url.
DETAIL_REPORTS = 5
DETAIL_PAYLOAD_MAX = 4096


class ReportOutSerializer(serializers.ModelSerializer):
    integration = serializers.CharField(source="integration.name", default=None)
    payload_truncated = serializers.BooleanField(default=False, read_only=True)

    class Meta:
        model = Report
        fields = ["id", "received_at", "integration", "payload", "payload_truncated"]


class IncidentDetailSerializer(IncidentSerializer):
    timeline = TimelineEventSerializer(source="events", many=True)
    deliveries = DeliverySerializer(many=True)
    reports = serializers.SerializerMethodField(
        help_text="The latest payloads; one over 4 KB has payload null and payload_truncated."
    )
    reports_url = serializers.SerializerMethodField(
        help_text="Every payload of the incident, whole, newest first, paginated."
    )
    push_progress = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField(
        help_text="Changes to the incident's services from an hour before it opened."
    )

    class Meta(IncidentSerializer.Meta):
        fields = IncidentSerializer.Meta.fields + [
            "policy",
            "push_progress",
            "timeline",
            "deliveries",
            "reports",
            "reports_url",
            "changes",
        ]

    @extend_schema_field(ChangeEventSerializer(many=True))
    def get_changes(self, incident) -> list[dict]:
        from incidents.intake.changes import changes_near

        return ChangeEventSerializer(changes_near(incident), many=True).data

    def get_push_progress(self, incident) -> dict:
        from notifications.selectors import push_progress

        return push_progress(incident)

    @extend_schema_field(ReportOutSerializer(many=True))
    def get_reports(self, incident) -> list[dict]:
        """Return the latest payloads; a big one is left out, one request away (reports_url)."""
        from incidents.selectors import incident_reports

        out = ReportOutSerializer(
            incident_reports(incident, limit=DETAIL_REPORTS), many=True, context=self.context
        ).data
        for report in out:
            if len(json.dumps(report["payload"])) > DETAIL_PAYLOAD_MAX:
                report["payload"], report["payload_truncated"] = None, True
        return out

    def get_reports_url(self, incident) -> str:
        return reverse("api-incident-reports", args=[incident.pk])
