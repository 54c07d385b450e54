from django.urls import path

from cetatea.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("department/<str:code>/", views.department, name="department"),
    path("department/<str:code>/report/", views.department_report, name="department_report"),
    path("cases/", views.cases, name="cases"),
]
