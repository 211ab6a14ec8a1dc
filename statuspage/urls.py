from django.urls import path

from statuspage import feeds, subscribe_views, views

app_name = "statuspage"

urlpatterns = [
    path("", views.status_page, name="status"),
    path("history/", views.status_history, name="history"),
    path("feed.atom", feeds.status_feed, name="feed"),
    path("subscribe/", subscribe_views.subscribe, name="subscribe"),
    path("confirm/<str:token>/", subscribe_views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", subscribe_views.unsubscribe, name="unsubscribe"),
    path("manage/<str:token>/", subscribe_views.manage, name="manage"),
]
