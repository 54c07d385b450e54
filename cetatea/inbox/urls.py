from django.urls import path

from cetatea.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.message_list, name="list"),
    path("<int:message_id>/", views.message_detail, name="detail"),
]
