from django.contrib import admin
from django.urls import path

from incidents.api import IncidentDetailApi, IncidentListApi, TriggerIngestApi
from incidents.api_integrations import IntegrationIngestApi, PagerDutyEnqueueApi
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
    path("api/v1/customers", CustomerUpsertApi.as_view(), name="api-customers"),
]
