"""The staff intranet, under /staff/intranet/ (mounted in cetatea/urls.py)."""

from django.urls import include, path

from cetatea.intranet import views

app_name = "intranet"
urlpatterns = [
    path("", views.home, name="home"),
    path("announcements/", views.announcements, name="announcements"),
    path("announcements/new/", views.announcement_new, name="announcement_new"),
    path("announcements/<int:announcement_id>/", views.announcement_detail, name="announcement"),
    path(
        "announcements/<int:announcement_id>/read/",
        views.announcement_read,
        name="announcement_read",
    ),
    path(
        "announcements/<int:announcement_id>/edit/",
        views.announcement_edit,
        name="announcement_edit",
    ),
    path(
        "announcements/<int:announcement_id>/unpublish/",
        views.announcement_unpublish,
        name="announcement_unpublish",
    ),
    path(
        "announcements/<int:announcement_id>/receipts/",
        views.announcement_receipts,
        name="announcement_receipts",
    ),
    path("directory/", views.directory, name="directory"),
]

# Each part of the intranet is an app with its own URL namespace.
section_urlpatterns = [
    path("documents/", include("cetatea.intranet.documents.urls")),
    path("schedules/", include("cetatea.intranet.schedules.urls")),
    path("tasks/", include("cetatea.intranet.tasks.urls")),
    path("messages/", include("cetatea.intranet.chat.urls")),
]
