"""The staff intranet, under /staff/intranet/ (mounted in cetatea/urls.py)."""

from django.urls import include, path

from cetatea.intranet import views

app_name = "intranet"
urlpatterns = [
    path("", views.home, name="home"),
    path("announcements/", views.announcements, name="announcements"),
    path("directory/", views.directory, name="directory"),
]

# Each part of the intranet is an app with its own URL namespace.
section_urlpatterns = [
    path("documents/", include("cetatea.intranet.documents.urls")),
    path("schedules/", include("cetatea.intranet.schedules.urls")),
    path("tasks/", include("cetatea.intranet.tasks.urls")),
    path("messages/", include("cetatea.intranet.chat.urls")),
]
