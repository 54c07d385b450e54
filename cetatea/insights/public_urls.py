from django.urls import path

from cetatea.insights import public_views

app_name = "transparency"
urlpatterns = [
    path("", public_views.index, name="index"),
    path("date/<str:name>", public_views.download, name="download"),
]
