from django.urls import path

from cetatea.intranet.tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.index, name="index"),
]
