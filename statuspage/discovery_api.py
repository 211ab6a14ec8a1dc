"""The discovery feed's view, declared in the OpenAPI schema like GET /api/v1/status.

The answers are built in statuspage.openfinance; this only says who may ask
(anyone), which methods (GET and HEAD), and what the schema shows: the
specification's ResponseDiscoveryStatusList and ResponseOutageList.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from statuspage.openfinance import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, discovery_answer, error_body


class AnyAccept(BaseContentNegotiation):
    """Answer the one body a feed has, whatever Accept says (feed readers send many)."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


CODES = ["OK", "PARTIAL_FAILURE", "UNAVAILABLE", "SCHEDULED_OUTAGE"]
TIME_Z = {
    "type": "string",
    "format": "date-time",
    "maxLength": 20,
    "example": "2020-07-21T08:30:00Z",
}
ENDPOINTS = {"type": "array", "maxItems": 1000, "items": {"type": "string", "maxLength": 2000}}
LINKS = {
    "type": "object",
    "properties": {
        k: {"type": "string", "maxLength": 2000} for k in ("self", "first", "prev", "next", "last")
    },
    "required": ["self"],
}
META = {
    "type": "object",
    "properties": {
        "totalRecords": {"type": "integer"},
        "totalPages": {"type": "integer"},
        "requestDateTime": TIME_Z,
    },
    "required": ["totalRecords", "totalPages", "requestDateTime"],
}
DISCOVERY_STATUS = {
    "type": "object",
    "description": "ResponseDiscoveryStatusList (Open Finance Brasil, API Comum)",
    "required": ["data", "links", "meta"],
    "properties": {
        "data": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["code", "explanation"],
                        "properties": {
                            "code": {"type": "string", "enum": CODES},
                            "explanation": {"type": "string", "maxLength": 2000},
                            "detectionTime": TIME_Z,
                            "expectedResolutionTime": TIME_Z,
                            "updateTime": TIME_Z,
                            "unavailableEndpoints": ENDPOINTS,
                        },
                    },
                }
            },
        },
        "links": LINKS,
        "meta": META,
    },
}
DISCOVERY_OUTAGES = {
    "type": "object",
    "description": "ResponseOutageList (Open Finance Brasil, API Comum)",
    "required": ["data", "links", "meta"],
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["outageTime", "duration", "isPartial", "explanation"],
                "properties": {
                    "outageTime": TIME_Z,
                    "duration": {"type": "string", "example": "PT2H", "description": "ISO 8601"},
                    "isPartial": {"type": "boolean"},
                    "explanation": {"type": "string"},
                    "unavailableEndpoints": ENDPOINTS,
                },
            },
        },
        "links": LINKS,
        "meta": META,
    },
}
DISCOVERY_ERROR = {
    "type": "object",
    "description": "ResponseError (Open Finance Brasil, API Comum)",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "title", "detail"],
                "properties": {k: {"type": "string"} for k in ("code", "title", "detail")},
            },
        },
        "meta": META,
    },
}


class DiscoveryApi(APIView):
    """Open Finance Brasil's discovery feed (IN BCB 306/2022): anonymous, GET and HEAD."""

    authentication_classes = []
    permission_classes = [AllowAny]
    content_negotiation_class = AnyAccept
    http_method_names = ["get", "head"]

    @extend_schema(
        operation_id="open_finance_discovery",
        tags=["status"],
        auth=[{}],
        summary="Open Finance Brasil discovery: the state of the APIs, or outages ahead",
        description="`status`: one item, its code by the specification's order (UNAVAILABLE, "
        "PARTIAL_FAILURE, SCHEDULED_OUTAGE, else OK). `outages`: maintenance windows marked "
        "for the status page, running or ahead. v1 and v2 answer the same items. Served from "
        "a snapshot at most CXHUB_STATUS_CACHE_SECONDS old, with a weak ETag (everything but "
        "requestDateTime); If-None-Match answers 304. HEAD answers the headers of GET.",
        parameters=[
            OpenApiParameter("version", OpenApiTypes.INT, OpenApiParameter.PATH, enum=[1, 2]),
            OpenApiParameter(
                "feed", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["status", "outages"]
            ),
            OpenApiParameter("page", OpenApiTypes.INT, description="From 1 (default 1)."),
            OpenApiParameter(
                "page-size",
                OpenApiTypes.INT,
                description=f"1 to {PAGE_SIZE_MAX} (default {PAGE_SIZE_DEFAULT}).",
            ),
        ],
        responses={
            200: OpenApiResponse(
                {"oneOf": [DISCOVERY_STATUS, DISCOVERY_OUTAGES]},
                description="ResponseDiscoveryStatusList for `status`, ResponseOutageList for "
                "`outages`.",
                examples=[
                    OpenApiExample(
                        "status while login is down",
                        value={
                            "data": {
                                "status": [
                                    {
                                        "code": "UNAVAILABLE",
                                        "explanation": "APIs indisponíveis: accounts. Estamos "
                                        "trabalhando para normalizar.",
                                        "detectionTime": "2026-12-03T07:58:00Z",
                                        "updateTime": "2026-12-03T07:58:00Z",
                                        "unavailableEndpoints": [
                                            "https://api.banco.com.br/open-banking/accounts/v2/accounts"
                                        ],
                                    }
                                ]
                            },
                            "links": {
                                "self": "https://api.banco.com.br/open-banking/discovery/v2/"
                                "status?page=1&page-size=25"
                            },
                            "meta": {
                                "totalRecords": 1,
                                "totalPages": 1,
                                "requestDateTime": "2026-12-03T08:01:12Z",
                            },
                        },
                    ),
                    OpenApiExample(
                        "outages: a Sunday window",
                        value={
                            "data": [
                                {
                                    "outageTime": "2026-12-06T05:00:00Z",
                                    "duration": "PT2H",
                                    "isPartial": False,
                                    "explanation": "Manutenção semanal",
                                    "unavailableEndpoints": [
                                        "https://api.banco.com.br/open-banking/accounts/v2/accounts"
                                    ],
                                }
                            ],
                            "links": {
                                "self": "https://api.banco.com.br/open-banking/discovery/v2/"
                                "outages?page=1&page-size=25"
                            },
                            "meta": {
                                "totalRecords": 1,
                                "totalPages": 1,
                                "requestDateTime": "2026-12-03T08:01:12Z",
                            },
                        },
                    ),
                ],
            ),
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag is current."),
            400: OpenApiResponse(DISCOVERY_ERROR, description="A bad page or page-size."),
            404: OpenApiResponse(description="Another version or feed than those listed."),
            405: OpenApiResponse(DISCOVERY_ERROR, description="A method other than GET or HEAD."),
        },
    )
    def get(self, request, version: str, feed: str):
        return discovery_answer(request, int(version), feed)

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error_body(405, "METODO_NAO_PERMITIDO", "Use GET.", timezone.now())
        response["Allow"] = "GET, HEAD"
        return response


discovery = DiscoveryApi.as_view()
