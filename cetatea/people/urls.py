from django.urls import path

from cetatea.people import views

app_name = "people"
urlpatterns = [
    path("", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("<int:person_id>/", views.detail, name="detail"),
    path("<int:person_id>/timeline/", views.timeline, name="timeline"),
    path("<int:person_id>/reveal/", views.reveal_national_id, name="reveal"),
    path("<int:person_id>/merge/", views.merge, name="merge"),
]
