from django.urls import path

from cetatea.telephony import robot_views, views

app_name = "telephony"
urlpatterns = [
    path("", views.console, name="console"),
    path("live/", views.live, name="live"),
    path("log/", views.call_log, name="log"),
    path("robot/", robot_views.robot_report, name="robot"),
    path("robot/people/<int:person_id>/", robot_views.robot_person, name="robot_person"),
    path("robot/people/<int:person_id>/pin/", robot_views.robot_pin_issue, name="robot_pin"),
    path("robot/people/<int:person_id>/unlock/", robot_views.robot_unlock, name="robot_unlock"),
]
