"""OpenAPI pieces shared by every endpoint: auth schemes and the error answers.

Importing this module (the API views do) registers the integration-token scheme
and the API-key scheme with drf-spectacular.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cxhub.api.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration's token (admin → Integrations), sent as "
            "`Authorization: Bearer <token>`. Shown once when created or rotated.",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A person's API key (admin → API keys), sent as "
            "`Authorization: Token <key>`; it acts with that person's role. Shown once "
            "when created; cxhub keeps only its hash.",
        }


class TriggerBatchSchema(OpenApiSerializerExtension):
    """Say in the schema what the view checks: exactly one of `gatilhos` and `triggers`."""

    target_class = "incidents.api.serializers.TriggerBatchSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["oneOf"] = [{"required": ["gatilhos"]}, {"required": ["triggers"]}]
        return schema


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words.")


def _detail(description: str, example: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description,
        examples=[OpenApiExample(description, value={"detail": example})],
    )


BAD_REQUEST = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Invalid input: an object mapping each bad field to its messages.",
    examples=[
        OpenApiExample(
            "A missing field",
            value={"gatilhos": {"0": {"retorno": ["This field is required."]}}},
        )
    ],
)
UNAUTHORIZED = _detail("No or an invalid token.", "Authorization: invalid token.")
FORBIDDEN = _detail(
    "Authenticated, but not allowed (a disabled integration, or a user without the role).",
    "You do not have permission to perform this action.",
)
NOT_FOUND = _detail("No such object.", "No Incident matches the given query.")
TOO_LARGE = _detail("The body is over 1 MiB.", "The request body is larger than 1 MiB.")


class RedocView(SpectacularRedocView):
    """ReDoc from our static files, with its one hard-coded CDN image blocked.

    The bundle always renders Redocly's logo from cdn.redoc.ly; the site's
    Content-Security-Policy (img-src 'self' data:, settings.CONTENT_SECURITY_POLICY)
    keeps the browser from fetching it, so the docs page makes no outside request.
    """


UNSUPPORTED = _detail("The body is not application/json.", 'Unsupported media type "text/plain".')
THROTTLED = _detail(
    "Too many requests: failed authentications from this address, or the integration's "
    "rate limit; retry after Retry-After seconds.",
    "Request was throttled.",
)
UNAVAILABLE = _detail(
    "The database is unavailable; retry after Retry-After seconds.",
    "The service is temporarily unavailable.",
)

# The 4xx/5xx every JSON POST endpoint can answer; bodies are DRF's error objects.
POST_ERRORS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    413: TOO_LARGE,
    415: UNSUPPORTED,
    429: THROTTLED,
    503: UNAVAILABLE,
}
# What an authenticated read can answer besides 200.
GET_ERRORS = {401: UNAUTHORIZED, 403: FORBIDDEN, 503: UNAVAILABLE}


# Tags whose operations answer 400 without a body (the body is the data itself).
BODY_REQUIRED_TAGS = {"triggers", "integrations", "customers"}


def require_request_bodies(result, generator, request, public):
    """Mark the request body of ingest and registry operations as required.

    drf-spectacular derives `required` from the serializer's required fields, and
    a trigger batch has none of its own (it takes one of two lists).
    """
    for item in result.get("paths", {}).values():
        for operation in item.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body and BODY_REQUIRED_TAGS & set(operation.get("tags", ())):
                body["required"] = True
    return result
