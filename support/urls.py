from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.IncidentListView.as_view(), name="incidents"),
    path("state.json", views.incidents_state, name="incidents-state"),
    path("language/", views.language_set, name="language"),
    path("incidents/<uuid:pk>/", views.IncidentDetailView.as_view(), name="incident"),
    path("incidents/<uuid:pk>/state.json", views.incident_state, name="incident-state"),
    path(
        "incidents/<uuid:pk>/<slug:operation>/",
        views.incident_operate,
        name="incident-operate",
    ),
]
