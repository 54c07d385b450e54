from django.urls import path

from cetatea.privacy import views

app_name = "privacy"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
    path("audit/export.csv", views.audit_log_csv, name="audit_csv"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("people/<int:person_id>/export.json", views.export_json, name="export_json"),
    path("people/<int:person_id>/export.pdf", views.export_pdf, name="export_pdf"),
    path("people/<int:person_id>/erase/", views.erase, name="erase"),
]
