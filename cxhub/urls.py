from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from cxhub.health import healthz, readyz
from cxhub.metrics import metrics
from incidents.api import IncidentDetailApi, IncidentListApi, TriggerIngestApi
from notifications.api import CustomerUpsertApi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/triggers", TriggerIngestApi.as_view(), name="api-triggers"),
    path("api/v1/incidents/", IncidentListApi.as_view(), name="api-incidents"),
    path("api/v1/incidents/<uuid:pk>/", IncidentDetailApi.as_view(), name="api-incident"),
    path("api/v1/customers", CustomerUpsertApi.as_view(), name="api-customers"),
]
