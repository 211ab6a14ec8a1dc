"""GET /api/v1/status (what the bank's app shows instead of failing) and its history.

Both from cached snapshots with ETags.
"""

import json
import re

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from cxhub.api import IntegrationTokenAuthentication, integration_of_kind
from cxhub.hotcache import TtlCache
from cxhub.schema import FORBIDDEN, UNAUTHORIZED
from statuspage.http import etag_of, iso_z, snapshot_response
from statuspage.selectors import impacted_services, services_history

LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
DEFAULT_LANGUAGE = "pt-br"
# One entry per language served (two), rebuilt from the database once per TTL.
snapshots = TtlCache(max_entries=16, ttl_setting="CXHUB_STATUS_CACHE_SECONDS")


class IsAppBackend(integration_of_kind("app_backend")):
    """Allow the bank's app backend: a request with an `app_backend` integration token.

    The one place that says which credential reads the status when anonymous
    access is off (monitoring tokens get 403).
    """


class StatusReader(IsAppBackend):
    """Allow anyone while CXHUB_STATUS_API_ANONYMOUS is on, else the app backend."""

    def has_permission(self, request, view):
        return settings.CXHUB_STATUS_API_ANONYMOUS or super().has_permission(request, view)


def language_of(locale: str) -> str:
    """Return the served language closest to `locale` (en-GB -> en), else pt-BR's."""
    try:
        return translation.get_supported_language_variant(locale.replace("_", "-").lower())
    except LookupError:
        return DEFAULT_LANGUAGE


def banner(names: list[str]) -> str:
    """Return the banner text, in the active language, for the impacted services."""
    if not names:
        return ""
    return ngettext(
        "%(services)s is unavailable at the moment. We are working on it and will let "
        "you know when it is back.",
        "%(services)s are unavailable at the moment. We are working on it and will let "
        "you know when they are back.",
        len(names),
    ) % {"services": ", ".join(names)}


def status_body(language: str) -> tuple[bytes, str]:
    """Return the JSON body of the status in `language` and its ETag."""
    with translation.override(language):
        services = [
            {
                "service": row["service"],
                "name": row["name"],
                "since": row["since"].isoformat().replace("+00:00", "Z"),
                "banner": banner([row["name"]]),
            }
            for row in impacted_services()
        ]
        body = {
            "impacted": bool(services),
            "locale": translation.to_language(language).replace("pt-br", "pt-BR"),
            "banner": banner([row["name"] for row in services]),
            "services": services,
        }
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, etag_of(raw)


class ImpactedServiceSerializer(serializers.Serializer):
    service = serializers.SlugField(help_text="The service as monitoring names it: login.")
    name = serializers.CharField(help_text="As customers know it: Login no app.")
    since = serializers.DateTimeField(help_text="When its incident opened (UTC).")
    banner = serializers.CharField(help_text="The text to show for this service alone.")


class StatusOutSerializer(serializers.Serializer):
    impacted = serializers.BooleanField(help_text="Whether any service is impacted now.")
    locale = serializers.CharField(help_text="The language of the texts: pt-BR or en.")
    banner = serializers.CharField(help_text="One text for every impacted service; empty if none.")
    services = ImpactedServiceSerializer(many=True)


class StatusApi(APIView):
    """Tell the bank's app which customer-facing services are impacted now, and what to show."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [StatusReader]

    @extend_schema(
        operation_id="status",
        tags=["status"],
        summary="Customer-facing services impacted now, with the banner text",
        description="Anonymous unless CXHUB_STATUS_API_ANONYMOUS=false (then an `app_backend` "
        "integration token). Served from a snapshot at most CXHUB_STATUS_CACHE_SECONDS old, "
        "with an ETag and Cache-Control: send If-None-Match to get 304 while nothing changed.",
        parameters=[
            OpenApiParameter(
                "locale",
                OpenApiTypes.STR,
                description="pt-BR (default) or en; a region (en-GB) falls back to its "
                "language, another language to pt-BR.",
            )
        ],
        responses={
            200: OpenApiResponse(
                StatusOutSerializer,
                examples=[
                    OpenApiExample(
                        "Login impacted",
                        value={
                            "impacted": True,
                            "locale": "en",
                            "banner": "Login no app is unavailable at the moment. We are "
                            "working on it and will let you know when it is back.",
                            "services": [
                                {
                                    "service": "login",
                                    "name": "Login no app",
                                    "since": "2026-12-01T09:12:00Z",
                                    "banner": "Login no app is unavailable at the moment. We "
                                    "are working on it and will let you know when it is back.",
                                }
                            ],
                        },
                    )
                ],
            ),
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag is current."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="A malformed locale."),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
        },
    )
    def get(self, request):
        locale = request.query_params.get("locale", "")
        if locale and not LOCALE.match(locale):
            return HttpResponse(
                json.dumps({"locale": [gettext("Give a language tag such as pt-BR or en.")]}),
                status=400,
                content_type="application/json",
            )
        language = language_of(locale) if locale else DEFAULT_LANGUAGE
        raw, etag = snapshots.get(language, lambda: status_body(language))
        return snapshot_response(request, raw, etag, public=settings.CXHUB_STATUS_API_ANONYMOUS)


def history_body() -> tuple[bytes, str]:
    """Return the JSON body of the uptime history, and its ETag."""
    now = timezone.now()
    days = settings.CXHUB_STATUS_PAGE_DAYS
    body = {
        "days": days,
        "timeZone": settings.TIME_ZONE,
        "services": [
            {
                "service": service["slug"],
                "name": service["name"],
                "uptime": service["uptime"],
                "days": [
                    {
                        "date": day.day.isoformat(),
                        "uptime": day.uptime,
                        "incidents": [
                            {"start": iso_z(s.start), "end": iso_z(s.end) if s.end else None}
                            for s in day.incidents
                        ],
                    }
                    for day in service["days"]
                ],
            }
            for service in services_history(now=now, days=days)
        ],
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return raw, etag_of(raw)


class HistoryIncidentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True, help_text="null while it is open.")


class HistoryDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A calendar day in timeZone.")
    uptime = serializers.FloatField(help_text="Percentage of the day up (today: so far).")
    incidents = HistoryIncidentSerializer(many=True)


class HistoryServiceSerializer(serializers.Serializer):
    service = serializers.SlugField()
    name = serializers.CharField()
    uptime = serializers.FloatField(help_text="Percentage up over the whole period.")
    days = HistoryDaySerializer(many=True, help_text="Oldest first; today last.")


class HistoryOutSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="CXHUB_STATUS_PAGE_DAYS (90).")
    timeZone = serializers.CharField(help_text="The zone of the calendar days.")
    services = HistoryServiceSerializer(many=True)


class StatusHistoryApi(APIView):
    """Uptime per customer-facing service and day, from customer-visible incidents."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [StatusReader]

    @extend_schema(
        operation_id="status_history",
        tags=["status"],
        summary="Uptime per customer-facing service and day (the status page's bars)",
        description="The last CXHUB_STATUS_PAGE_DAYS calendar days, from the incidents "
        "customers could see. Same access and caching as GET /api/v1/status.",
        responses={
            200: HistoryOutSerializer,
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag is current."),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
        },
    )
    def get(self, request):
        raw, etag = snapshots.get("history", history_body)
        return snapshot_response(request, raw, etag, public=settings.CXHUB_STATUS_API_ANONYMOUS)
