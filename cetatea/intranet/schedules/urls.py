"""URLs of the schedules, under /staff/intranet/schedules/."""

from django.urls import path

from cetatea.intranet.schedules import views

app_name = "schedules"
urlpatterns = [
    path("", views.index, name="index"),
    path("team/<int:team_id>/week/", views.week, name="week"),
    path("team/<int:team_id>/month/", views.month, name="month"),
    path("team/<int:team_id>/shifts/new/", views.shift_new, name="shift_new"),
    path("team/<int:team_id>/generate/", views.generate, name="generate"),
    path("team/<int:team_id>/publish/", views.publish, name="publish"),
    path("team/<int:team_id>/setup/", views.setup, name="setup"),
    path("team/<int:team_id>/pattern/<int:pattern_id>/", views.pattern_edit, name="pattern"),
    path("shift/<int:shift_id>/", views.shift_detail, name="shift"),
    path("shift/<int:shift_id>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("shift/<int:shift_id>/offer/", views.shift_offer, name="shift_offer"),
    path("leave/", views.leave_list, name="leave"),
    path("leave/pending/", views.leave_pending, name="leave_pending"),
    path("leave/<int:leave_id>/", views.leave_detail, name="leave_detail"),
    path("swaps/", views.swap_list, name="swaps"),
    path("swap/<int:swap_id>/", views.swap_detail, name="swap"),
    path("feeds/", views.feeds, name="feeds"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
]
