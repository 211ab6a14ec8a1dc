from django.urls import path

from oncall import views

app_name = "oncall"

urlpatterns = [
    path("", views.my_oncall, name="mine"),
    path("shifts/<int:pk>/hand-over/", views.shift_hand_over, name="hand-over"),
    path("contact-methods/", views.contact_method_add, name="contact-add"),
    path("contact-methods/<int:pk>/", views.contact_method_edit, name="contact-edit"),
    path("contact-methods/<int:pk>/delete/", views.contact_method_delete, name="contact-delete"),
    path("test-page/", views.test_page, name="test-page"),
    path("calendar/regenerate/", views.calendar_regenerate, name="calendar-regenerate"),
    path("calendar/revoke/", views.calendar_revoke, name="calendar-revoke"),
    path("calendar/<str:token>", views.calendar, name="calendar"),
]
