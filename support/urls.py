from django.urls import path

from statuspage import update_views
from support import customer_views, report_views, views

app_name = "support"

urlpatterns = [
    path("", views.IncidentListView.as_view(), name="incidents"),
    path("state.json", views.incidents_state, name="incidents-state"),
    path("language/", views.language_set, name="language"),
    path("customers/", customer_views.customer_lookup, name="customers"),
    path("reports/", report_views.report_page, name="reports"),
    path("incidents/<uuid:pk>/", views.IncidentDetailView.as_view(), name="incident"),
    path("incidents/<uuid:pk>/state.json", views.incident_state, name="incident-state"),
    # Before the operations' pattern, which would take "status-update" for one.
    path(
        "incidents/<uuid:pk>/status-update/",
        views.login_then_incident(update_views.incident_update_post),
        name="incident-status-update",
    ),
    path(
        "incidents/<uuid:pk>/<slug:operation>/",
        views.incident_operate,
        name="incident-operate",
    ),
]
