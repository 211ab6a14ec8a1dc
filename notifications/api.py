from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from cxhub.api import (
    HasRequiredPermissions,
    IntegrationTokenAuthentication,
    IsIntegration,
    LimitedJSONParser,
)
from cxhub.schema import BAD_REQUEST, FORBIDDEN, POST_ERRORS, TOO_LARGE, UNAUTHORIZED
from notifications import services
from notifications.customers import service_model
from notifications.models import Device


class DeviceInSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    token = serializers.CharField(max_length=4096)


class CustomerInSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    locale = serializers.CharField(max_length=10, default="pt-BR")
    services = serializers.ListField(
        child=serializers.SlugField(max_length=100), default=list, max_length=200
    )
    tags = serializers.ListField(
        child=serializers.SlugField(max_length=50), default=list, max_length=50
    )
    devices = DeviceInSerializer(many=True, default=list, max_length=50)

    def validate_services(self, slugs):
        slugs = sorted({slug.lower() for slug in slugs})
        if self.context.get("bulk"):
            return slugs  # the bulk view checks every item's services in one query
        errors = unknown_services([{"services": slugs}])
        if errors:
            raise serializers.ValidationError(errors[0]["services"])
        return slugs

    def validate_tags(self, slugs):
        return sorted({slug.lower() for slug in slugs})


def unknown_services(items: list[dict]) -> dict[int, dict]:
    """Return {index: {"services": [error]}} for items naming services that do not exist.

    One query for the whole list, however long.
    """
    wanted = {slug for item in items for slug in item["services"]}
    known = set(service_model().objects.filter(slug__in=wanted).values_list("slug", flat=True))
    errors = {}
    for index, item in enumerate(items):
        unknown = [slug for slug in item["services"] if slug not in known]
        if unknown:
            errors[index] = {"services": [f"Unknown service(s): {', '.join(unknown)}."]}
    return errors


class CustomerOutSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    created = serializers.BooleanField()
    devices = serializers.IntegerField(help_text="Enabled devices now registered.")
    services = serializers.ListField(child=serializers.SlugField())
    tags = serializers.ListField(child=serializers.SlugField())


class CustomerUpsertApi(APIView):
    """Create or update a customer by external id, with devices and services used.

    The lists given replace the stored ones; a device token moves to this customer.
    """

    authentication_classes = [
        IntegrationTokenAuthentication,
        SessionAuthentication,
        TokenAuthentication,
    ]
    permission_classes = [IsIntegration | HasRequiredPermissions]
    required_permissions = ["notifications.add_customer", "notifications.change_customer"]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="customers_upsert",
        tags=["customers"],
        summary="Create or update a customer",
        description="Integration token, or a user with the CX staff role. The services and "
        "devices given replace the stored ones.",
        request=CustomerInSerializer,
        responses={200: CustomerOutSerializer, 201: CustomerOutSerializer, **POST_ERRORS},
        examples=[
            OpenApiExample(
                "A login customer with one phone",
                request_only=True,
                value={
                    "external_id": "cust-123",
                    "locale": "pt-BR",
                    "services": ["login"],
                    "devices": [{"platform": "android", "token": "fcm-token"}],
                },
            )
        ],
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
                "tags": sorted(customer.tags.values_list("slug", flat=True)),
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CustomerBulkUpsertApi(APIView):
    """Create or update up to CXHUB_MAX_CUSTOMERS_PER_REQUEST customers in one request.

    `{"customers": [<as POST /api/v1/customers>, ...]}`. All or nothing: any bad
    item answers 400 with its errors under its index, and nothing is written.
    """

    authentication_classes = CustomerUpsertApi.authentication_classes
    permission_classes = CustomerUpsertApi.permission_classes
    required_permissions = CustomerUpsertApi.required_permissions
    parser_classes = CustomerUpsertApi.parser_classes

    @extend_schema(
        operation_id="customers_bulk_upsert",
        tags=["customers"],
        summary="Create or update many customers at once (all or nothing)",
        request=inline_serializer(
            "CustomerBulkIn", fields={"customers": CustomerInSerializer(many=True)}
        ),
        responses={
            200: OpenApiTypes.OBJECT,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            413: TOO_LARGE,
        },
    )
    def post(self, request):
        customers = request.data.get("customers") if isinstance(request.data, dict) else None
        limit = settings.CXHUB_MAX_CUSTOMERS_PER_REQUEST
        if not isinstance(customers, list) or not customers:
            return _bad({"customers": ["Give a non-empty list of customers."]})
        if len(customers) > limit:
            return _bad({"customers": [f"At most {limit} customers per request."]})
        serializer = CustomerInSerializer(data=customers, many=True, context={"bulk": True})
        if not serializer.is_valid():
            errors = serializer.errors
            by_index = errors.items() if isinstance(errors, dict) else enumerate(errors)
            return _bad({"customers": {str(i): e for i, e in by_index if e}})
        items = serializer.validated_data
        errors = unknown_services(items)
        if errors:
            return _bad({"customers": {str(i): e for i, e in errors.items()}})
        with transaction.atomic():
            result = services.customers_upsert(items)
        return Response(result, status=status.HTTP_200_OK)


def _bad(errors):
    return Response(errors, status=status.HTTP_400_BAD_REQUEST)
