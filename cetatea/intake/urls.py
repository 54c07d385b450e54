from django.urls import path

from cetatea.intake import views

app_name = "intake"
urlpatterns = [
    path("intake/", views.intake, name="intake"),
    path("intake/persons/", views.persons, name="persons"),
    path("intake/panel/", views.panel, name="panel"),
    path("intake/filed/<str:reference>/", views.filed, name="filed"),
    path("field/", views.field_list, name="field"),
    path("field/<int:case_id>/", views.field_case, name="field_case"),
]
