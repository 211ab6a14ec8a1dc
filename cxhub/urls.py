from django.contrib import admin
from django.urls import path

from incidents.api import (
    IncidentAcknowledgeApi,
    IncidentDetailApi,
    IncidentListApi,
    IncidentResolveApi,
    IncidentSilenceApi,
    TriggerIngestApi,
)
from incidents.api_integrations import IntegrationIngestApi, PagerDutyEnqueueApi
from incidents.views import acknowledge_link
from notifications.api import CustomerUpsertApi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/triggers", TriggerIngestApi.as_view(), name="api-triggers"),
    path("api/v1/incidents/", IncidentListApi.as_view(), name="api-incidents"),
    path("api/v1/incidents/<uuid:pk>/", IncidentDetailApi.as_view(), name="api-incident"),
    path("api/v1/integrations/<str:kind>/", IntegrationIngestApi.as_view(), name="api-integration"),
    path(
        "api/v1/integrations/<str:kind>/<str:token>",
        IntegrationIngestApi.as_view(),
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
]
