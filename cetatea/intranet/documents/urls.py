from django.urls import path

from cetatea.intranet.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.index, name="index"),
]
