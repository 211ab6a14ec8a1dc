from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.authentication import ApiKeyAuthentication
from cxhub.api import (
    HasRequiredPermissions,
    IntegrationPrincipal,
    IntegrationTokenAuthentication,
    LimitedJSONParser,
    integration_of_kind,
    out_of_scope,
)
from cxhub.schema import BAD_REQUEST, FORBIDDEN, POST_ERRORS, TOO_LARGE, UNAUTHORIZED
from notifications import services
from notifications.customers import service_model
from notifications.models import Device
from notifications.validators import validate_phone, validate_time_zone


class StrictString:
    """A string, as the schema says: a JSON number is refused, not turned into text."""

    default_error_messages = {"not_a_string": "Give a string, not {kind}."}
    KINDS = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string", kind=self.KINDS.get(type(data), "null"))
        return super().to_internal_value(data)


class StrictCharField(StrictString, serializers.CharField):
    pass


class StrictSlugField(StrictString, serializers.SlugField):
    pass


class DeviceInSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    token = StrictCharField(max_length=4096)


class CustomerInSerializer(serializers.Serializer):
    external_id = StrictCharField(max_length=100)
    locale = StrictCharField(max_length=10, default="pt-BR")
    services = serializers.ListField(
        child=StrictSlugField(max_length=100), default=list, max_length=200
    )
    tags = serializers.ListField(child=StrictSlugField(max_length=50), default=list, max_length=50)
    devices = DeviceInSerializer(many=True, default=list, max_length=50)
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="IANA name (America/Sao_Paulo); empty or absent: the locale's default.",
    )
    phone = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="E.164 (+5511999990000), for the SMS fallback.",
    )
    phone_consent = serializers.BooleanField(
        required=False, help_text="The customer agreed to SMS notices."
    )
    email = serializers.EmailField(
        required=False, allow_blank=True, help_text="For the e-mail fallback."
    )
    email_consent = serializers.BooleanField(
        required=False, help_text="The customer agreed to e-mail notices."
    )
    opt_out_outage = serializers.BooleanField(
        required=False, help_text="The customer asked for no outage pushes."
    )
    opt_out_all_clear = serializers.BooleanField(
        required=False, help_text="The customer asked for no all-clears."
    )

    def validate_time_zone(self, value):
        try:
            validate_time_zone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value

    def validate_phone(self, value):
        try:
            validate_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value

    def validate(self, attrs):
        errors = {}
        for contact, consent in (("phone", "phone_consent"), ("email", "email_consent")):
            if attrs.get(consent) and not attrs.get(contact):
                errors[consent] = [f"Consent without a {contact}: give the {contact} too."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

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
    time_zone = serializers.CharField(help_text="As stored: the locale's when none was given.")
    phone_consent = serializers.BooleanField()
    email_consent = serializers.BooleanField()
    opt_out_outage = serializers.BooleanField()
    opt_out_all_clear = serializers.BooleanField()


class RegistryApi(APIView):
    """Refuse a monitoring token naming the endpoint its token is for."""

    def permission_denied(self, request, message=None, code=None):
        if isinstance(request.user, IntegrationPrincipal):
            message = out_of_scope(request.user.integration)
        super().permission_denied(request, message=message, code=code)


class CustomerUpsertApi(RegistryApi):
    """Create or update a customer by external id, with devices and services used.

    The lists given replace the stored ones; a device token moves to this customer.
    """

    authentication_classes = [
        IntegrationTokenAuthentication,
        SessionAuthentication,
        ApiKeyAuthentication,
    ]
    # The app backend's own token, or a person with the CX staff role; monitoring
    # tokens (whatever their kind) get 403: they have no business in the registry.
    permission_classes = [integration_of_kind("app_backend") | HasRequiredPermissions]
    required_permissions = ["notifications.add_customer", "notifications.change_customer"]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="customers_upsert",
        tags=["customers"],
        summary="Create or update a customer",
        description="An `app_backend` integration token, or a user with the CX staff role "
        "(monitoring tokens get 403). The services and "
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
                    "time_zone": "America/Sao_Paulo",
                    "phone": "+5511999990000",
                    "phone_consent": True,
                    "opt_out_all_clear": False,
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
                "time_zone": customer.time_zone,
                "phone_consent": customer.phone_consent,
                "email_consent": customer.email_consent,
                "opt_out_outage": customer.opt_out_outage,
                "opt_out_all_clear": customer.opt_out_all_clear,
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CustomerBulkUpsertApi(RegistryApi):
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
            "CustomerBulkIn",
            fields={"customers": serializers.ListField(child=CustomerInSerializer(), min_length=1)},
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
