from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from actions.models import Service
from cxhub.api import IntegrationTokenAuthentication, IsIntegrationOrStaff, LimitedJSONParser
from cxhub.schema import POST_ERRORS
from notifications import services
from notifications.models import Device


class DeviceInSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    token = serializers.CharField(max_length=4096)


class CustomerInSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    locale = serializers.CharField(max_length=10, default="pt-BR")
    services = serializers.ListField(child=serializers.SlugField(max_length=100), default=list)
    devices = DeviceInSerializer(many=True, default=list)

    def validate_services(self, slugs):
        slugs = sorted({slug.lower() for slug in slugs})
        known = set(Service.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        unknown = [slug for slug in slugs if slug not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown service(s): {', '.join(unknown)}.")
        return slugs


class CustomerOutSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    created = serializers.BooleanField()
    devices = serializers.IntegerField()
    services = serializers.ListField(child=serializers.CharField())


class CustomerUpsertApi(APIView):
    """Create or update a customer by external id, with devices and services used.

    The lists given replace the stored ones; a device token moves to this customer.
    """

    authentication_classes = [
        IntegrationTokenAuthentication,
        SessionAuthentication,
        TokenAuthentication,
    ]
    permission_classes = [IsIntegrationOrStaff]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        request=CustomerInSerializer,
        responses={200: CustomerOutSerializer, 201: CustomerOutSerializer, **POST_ERRORS},
    )
    def post(self, request):
        serializer = CustomerInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            customer, created = services.customer_upsert(**serializer.validated_data)
        return Response(
            {
                "external_id": customer.external_id,
                "created": created,
                "devices": customer.devices.filter(enabled=True).count(),
                "services": sorted(customer.services.values_list("slug", flat=True)),
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
