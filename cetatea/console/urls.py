from django.urls import path

from cetatea.console import views

app_name = "console"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/bulk/", views.bulk, name="bulk"),
    path("queue/views/", views.saved_view_save, name="saved_view_save"),
    path("queue/views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/history/", views.case_history, name="history"),
    path("cases/<int:case_id>/<slug:action>/", views.case_action, name="case_action"),
]
