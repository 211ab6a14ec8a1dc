"""The Atom feed of the status page: visible incidents, written updates and maintenance.

Built with Django's feed generator (django.utils.feedgenerator, what
django.contrib.syndication uses) from the same reads as the page, and served
like the page from a per-process snapshot per language.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import feedgenerator, timezone, translation
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

from cxhub.hotcache import TtlCache
from incidents.models import Incident
from statuspage.discovery_api import AnyAccept
from statuspage.http import etag_of, snapshot_response
from statuspage.models import Language, StatusUpdate
from statuspage.notice_texts import localized_names, when
from statuspage.notices import customer_facing_of_actions, window_service_ids
from statuspage.visibility import incident_customer_visible, visible_maintenance

feeds = TtlCache(max_entries=16, ttl_setting="CXHUB_STATUS_CACHE_SECONDS")
MAX_ENTRIES = 100


def _entries(language: str, *, now) -> list[dict]:
    """Return the feed's entries, newest first, in a number of queries that does not grow."""
    since = now - timedelta(days=settings.CXHUB_STATUS_PAGE_DAYS)
    page = f"{settings.CXHUB_BASE_URL}{reverse('statuspage:status')}?lang={language}"
    incidents = [
        i
        for i in Incident.objects.select_related("action")
        .filter(action__status_visible=True, opened_at__gte=since)
        .order_by("-opened_at")
        .prefetch_related(
            Prefetch("status_updates", queryset=StatusUpdate.objects.order_by("posted_at"))
        )[:MAX_ENTRIES]
        if incident_customer_visible(i) or i.status_updates.all()
    ]
    windows = list(
        visible_maintenance()
        .select_related("service")
        .filter(ends_at__gte=since)
        .order_by("-created_at")[:MAX_ENTRIES]
    )
    by_action = customer_facing_of_actions(
        [i.action_id for i in incidents] + [w.action_id for w in windows if not w.service_id]
    )
    window_ids = {w.pk: window_service_ids(w, by_action=by_action) for w in windows}
    localized = localized_names(
        {s for i in incidents for s in by_action[i.action_id]}
        | {s for ids in window_ids.values() for s in ids},
        language,
    )

    def names_of(service_ids) -> str:
        return ", ".join(sorted(localized[s] for s in service_ids if s in localized))

    entries = []
    for incident in incidents:
        names = names_of(by_action[incident.action_id])
        if not names:
            continue
        if incident.resolved_at:
            description = gettext("From %(start)s to %(end)s.") % {
                "start": when(incident.opened_at),
                "end": when(incident.resolved_at),
            }
        else:
            description = gettext("Since %(start)s; ongoing.") % {"start": when(incident.opened_at)}
        entries.append(
            {
                "title": gettext("%(services)s unavailable") % {"services": names},
                "link": f"{page}#incident-{incident.pk}",
                "description": description,
                "unique_id": f"urn:uuid:{incident.pk}",
                "pubdate": incident.opened_at,
                "updateddate": incident.resolved_at or incident.opened_at,
            }
        )
        for update in incident.status_updates.all():
            entries.append(
                {
                    "title": f"{update.get_stage_display()}: {names}",
                    "link": f"{page}#incident-{incident.pk}",
                    "description": update.text(language),
                    "unique_id": f"urn:uuid:{update.pk}",
                    "pubdate": update.posted_at,
                    "updateddate": update.posted_at,
                }
            )
    for window in windows:
        names = names_of(window_ids[window.pk])
        if not names:
            continue
        entries.append(
            {
                "title": gettext("Scheduled maintenance: %(services)s") % {"services": names},
                "link": page,
                "description": gettext("From %(start)s to %(end)s.")
                % {"start": when(window.starts_at), "end": when(window.ends_at)},
                "unique_id": f"{settings.CXHUB_BASE_URL}/status/maintenance/{window.pk}",
                "pubdate": window.created_at,
                "updateddate": window.created_at,
            }
        )
    entries.sort(key=lambda e: e["updateddate"], reverse=True)
    return entries[:MAX_ENTRIES]


def feed_xml(language: str) -> bytes:
    """Render the Atom feed in `language` from the database, now."""
    now = timezone.now()
    with translation.override(language):
        entries = _entries(language, now=now)
        url = f"{settings.CXHUB_BASE_URL}{reverse('statuspage:feed')}?lang={language}"
        feed = feedgenerator.Atom1Feed(
            title=gettext("Service status"),
            link=f"{settings.CXHUB_BASE_URL}{reverse('statuspage:status')}?lang={language}",
            description=gettext("Incidents, updates and maintenance of our services."),
            language="pt-BR" if language == Language.PT_BR else language,
            feed_url=url,
            feed_guid=url,
        )
        for entry in entries:
            feed.add_item(**entry)
        return feed.writeString("utf-8").encode()


class AtomRenderer(BaseRenderer):
    """Name the feed's media type, for the schema and for Accept (the body is already bytes)."""

    media_type = "application/atom+xml"
    charset = "utf-8"
    format = "atom"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class StatusFeedApi(APIView):
    """The status page's Atom feed: anonymous, GET and HEAD, with an ETag."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [AtomRenderer]
    content_negotiation_class = AnyAccept
    http_method_names = ["get", "head"]

    @extend_schema(
        operation_id="status_feed",
        tags=["status"],
        auth=[{}],
        summary="The status page as an Atom feed: incidents, written updates, maintenance",
        description="The customer-visible incidents of the last CXHUB_STATUS_PAGE_DAYS, their "
        "written updates and the maintenance windows of customer-facing services, newest "
        "first, at most 100 entries (RFC 4287). Served from a snapshot at most "
        "CXHUB_STATUS_CACHE_SECONDS old, with an ETag; HEAD answers the headers of GET.",
        parameters=[
            OpenApiParameter("lang", OpenApiTypes.STR, enum=Language.values, default="pt-br")
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.STR, description="An Atom 1.0 document."),
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag is current."),
        },
    )
    def get(self, request):
        asked = request.GET.get("lang", "")
        language = asked if asked in Language.values else Language.PT_BR
        raw = feeds.get(language, lambda: feed_xml(language))
        return snapshot_response(
            request, raw, etag_of(raw), content_type="application/atom+xml; charset=utf-8"
        )


status_feed = StatusFeedApi.as_view()
