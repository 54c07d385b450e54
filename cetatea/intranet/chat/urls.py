from django.urls import path

from cetatea.intranet.chat import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
]
