from django.urls import path

from cetatea.telephony import views

app_name = "telephony"
urlpatterns = [
    path("", views.console, name="console"),
    path("live/", views.live, name="live"),
    path("log/", views.call_log, name="log"),
]
