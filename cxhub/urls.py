from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.defaults import page_not_found
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cxhub.health import healthz, readyz
from cxhub.metrics import metrics
from cxhub.schema import RedocView
from incidents.api.incidents import (
    IncidentAcknowledgeApi,
    IncidentDetailApi,
    IncidentListApi,
    IncidentReportsApi,
    IncidentResolveApi,
    IncidentSilenceApi,
    TriggerIngestApi,
)
from incidents.api.integrations import (
    IntegrationIngestApi,
    IntegrationIngestTokenApi,
    PagerDutyEnqueueApi,
)
from incidents.api.monitoring import ChangeApi, HeartbeatPingApi, PagerDutyChangeApi
from incidents.api.opsgenie import (
    OpsgenieAlertAcknowledgeApi,
    OpsgenieAlertCloseApi,
    OpsgenieAlertCreateApi,
    OpsgenieAlertDescriptionApi,
    OpsgenieAlertMessageApi,
)
from incidents.views import acknowledge_link
from notifications.api import CustomerBulkUpsertApi, CustomerUpsertApi
from oncall.api import (
    ScheduleListApi,
    ScheduleOncallApi,
    ScheduleOverrideApi,
    ScheduleOverridesApi,
    ScheduleShiftsApi,
)
from statuspage.api import StatusApi, StatusHistoryApi
from statuspage.discovery_api import discovery

admin.site.site_header = "cxhub"
admin.site.site_title = "cxhub"
admin.site.site_url = "/support/"


def ingest(route: str, view, name: str, *, slash: bool = False) -> list:
    """Route an ingest URL with and without a trailing slash (senders write either).

    No redirect: a sender does not follow one with its body. `slash`: the name
    (and the schema) is on the form with the slash (the one the docs give).
    """
    main, alias = (f"{route}/", route) if slash else (route, f"{route}/")
    return [
        path(main, view.as_view(), name=name),
        # The other spelling answers the same, once in the schema is enough.
        path(alias, view.as_view(schema=None), name=f"{name}-alias"),
    ]


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="support:incidents"), name="home"),
    path("admin/", admin.site.urls),
    path("support/", include("support.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    *ingest("api/v1/triggers", TriggerIngestApi, "api-triggers"),
    path("api/v1/incidents/", IncidentListApi.as_view(), name="api-incidents"),
    path("api/v1/incidents/<uuid:pk>/", IncidentDetailApi.as_view(), name="api-incident"),
    path(
        "api/v1/incidents/<uuid:pk>/reports",
        IncidentReportsApi.as_view(),
        name="api-incident-reports",
    ),
    *ingest("api/v1/integrations/<str:kind>", IntegrationIngestApi, "api-integration", slash=True),
    *ingest(
        "api/v1/integrations/<str:kind>/<str:token>",
        IntegrationIngestTokenApi,
        "api-integration-token",
    ),
    *ingest("v2/enqueue", PagerDutyEnqueueApi, "api-pagerduty-enqueue"),
    *ingest("v2/change/enqueue", PagerDutyChangeApi, "api-pagerduty-change"),
    *ingest("v2/alerts", OpsgenieAlertCreateApi, "api-opsgenie-create"),
    *ingest("v2/alerts/<str:identifier>/close", OpsgenieAlertCloseApi, "api-opsgenie-close"),
    *ingest(
        "v2/alerts/<str:identifier>/acknowledge",
        OpsgenieAlertAcknowledgeApi,
        "api-opsgenie-acknowledge",
    ),
    *ingest("v2/alerts/<str:identifier>/message", OpsgenieAlertMessageApi, "api-opsgenie-message"),
    *ingest(
        "v2/alerts/<str:identifier>/description",
        OpsgenieAlertDescriptionApi,
        "api-opsgenie-description",
    ),
    *ingest("api/v1/changes", ChangeApi, "api-changes"),
    *ingest("api/v1/heartbeats/<str:token>", HeartbeatPingApi, "api-heartbeat"),
    path(
        "api/v1/incidents/<uuid:pk>/acknowledge",
        IncidentAcknowledgeApi.as_view(),
        name="api-incident-acknowledge",
    ),
    path(
        "api/v1/incidents/<uuid:pk>/resolve",
        IncidentResolveApi.as_view(),
        name="api-incident-resolve",
    ),
    path(
        "api/v1/incidents/<uuid:pk>/silence",
        IncidentSilenceApi.as_view(),
        name="api-incident-silence",
    ),
    path(
        "incidents/<uuid:pk>/acknowledge/<str:token>",
        acknowledge_link,
        name="incident-acknowledge-link",
    ),
    path("api/v1/customers", CustomerUpsertApi.as_view(), name="api-customers"),
    path("api/v1/customers/bulk", CustomerBulkUpsertApi.as_view(), name="api-customers-bulk"),
    path("api/v1/schedules/", ScheduleListApi.as_view(), name="api-schedules"),
    path(
        "api/v1/schedules/<uuid:pk>/oncall", ScheduleOncallApi.as_view(), name="api-schedule-oncall"
    ),
    path(
        "api/v1/schedules/<uuid:pk>/shifts", ScheduleShiftsApi.as_view(), name="api-schedule-shifts"
    ),
    path(
        "api/v1/schedules/<uuid:pk>/overrides",
        ScheduleOverridesApi.as_view(),
        name="api-schedule-overrides",
    ),
    path(
        "api/v1/schedules/<uuid:pk>/overrides/<int:override_id>",
        ScheduleOverrideApi.as_view(),
        name="api-schedule-override",
    ),
    path("oncall/", include("oncall.urls")),
    path("api/v1/status", StatusApi.as_view(), name="api-status"),
    path("api/v1/status/history", StatusHistoryApi.as_view(), name="api-status-history"),
    # Open Finance Brasil's discovery feed (IN BCB 306/2022), anonymous like the status.
    re_path(
        r"^open-banking/discovery/v(?P<version>[12])/(?P<feed>status|outages)$",
        discovery,
        name="open-finance-discovery",
    ),
    path("status/", include("statuspage.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
]


def api_not_found(request, exception):
    """Answer unknown API URLs (a malformed id, say) in JSON like the API; pages in HTML."""
    if request.path.startswith(("/api/", "/v2/")):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


handler404 = api_not_found
