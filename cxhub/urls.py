from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cxhub.health import healthz, readyz
from cxhub.metrics import metrics
from cxhub.schema import RedocView
from incidents.api import (
    IncidentAcknowledgeApi,
    IncidentDetailApi,
    IncidentListApi,
    IncidentReportsApi,
    IncidentResolveApi,
    IncidentSilenceApi,
    TriggerIngestApi,
)
from incidents.api_integrations import (
    IntegrationIngestApi,
    IntegrationIngestTokenApi,
    PagerDutyEnqueueApi,
)
from incidents.views import acknowledge_link
from notifications.api import CustomerBulkUpsertApi, CustomerUpsertApi
from statuspage.api import StatusApi

admin.site.site_header = "cxhub"
admin.site.site_title = "cxhub"
admin.site.site_url = "/support/"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="support:incidents"), name="home"),
    path("admin/", admin.site.urls),
    path("support/", include("support.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/triggers", TriggerIngestApi.as_view(), name="api-triggers"),
    path("api/v1/incidents/", IncidentListApi.as_view(), name="api-incidents"),
    path("api/v1/incidents/<uuid:pk>/", IncidentDetailApi.as_view(), name="api-incident"),
    path(
        "api/v1/incidents/<uuid:pk>/reports",
        IncidentReportsApi.as_view(),
        name="api-incident-reports",
    ),
    path("api/v1/integrations/<str:kind>/", IntegrationIngestApi.as_view(), name="api-integration"),
    path(
        "api/v1/integrations/<str:kind>/<str:token>",
        IntegrationIngestTokenApi.as_view(),
        name="api-integration-token",
    ),
    path("v2/enqueue", PagerDutyEnqueueApi.as_view(), name="api-pagerduty-enqueue"),
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
    path("api/v1/status", StatusApi.as_view(), name="api-status"),
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
