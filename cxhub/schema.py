"""OpenAPI pieces (drf-spectacular): the integration token scheme and error responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cxhub.api.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An integration's token."}


def _error(description):
    return OpenApiResponse(OpenApiTypes.OBJECT, description=description)


# The 4xx/5xx every JSON POST endpoint can answer; bodies are DRF's error objects.
POST_ERRORS = {
    400: _error("Invalid body; the message names the field."),
    401: _error("Missing or invalid token."),
    403: _error("The integration is disabled, or the user is not allowed."),
    413: _error("The body is larger than 1 MiB."),
    415: _error("The body is not application/json."),
    429: _error("Too many failed authentications from this address."),
    503: _error("The database is unavailable; retry after Retry-After seconds."),
}

# What a staff-only read can answer besides 200.
GET_ERRORS = {
    401: _error("Not authenticated."),
    403: _error("Not staff."),
    503: _error("The database is unavailable; retry after Retry-After seconds."),
}
