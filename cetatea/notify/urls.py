from django.urls import path

from cetatea.notify import views

app_name = "notify"
urlpatterns = [
    path("case/<int:case_id>/", views.case_notifications, name="case"),
    path("<int:notification_id>/resend/", views.notification_resend, name="resend"),
]
