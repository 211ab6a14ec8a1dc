from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cxhub.schema import RedocView
from incidents.api import (
    IncidentDetailApi,
    IncidentListApi,
    IncidentOperationApi,
    TriggerIngestApi,
)
from notifications.api import CustomerUpsertApi

admin.site.site_header = "cxhub"
admin.site.site_title = "cxhub"
admin.site.site_url = "/support/"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="support:incidents"), name="home"),
    path("admin/", admin.site.urls),
    path("support/", include("support.urls")),
    path("api/v1/triggers", TriggerIngestApi.as_view(), name="api-triggers"),
    path("api/v1/incidents/", IncidentListApi.as_view(), name="api-incidents"),
    path("api/v1/incidents/<uuid:pk>/", IncidentDetailApi.as_view(), name="api-incident"),
    path(
        "api/v1/incidents/<uuid:pk>/<slug:operation>",
        IncidentOperationApi.as_view(),
        name="api-incident-operate",
    ),
    path("api/v1/customers", CustomerUpsertApi.as_view(), name="api-customers"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
]
