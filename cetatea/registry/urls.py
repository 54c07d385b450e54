"""Registry URLs. Staff pages under /staff/registry/, the public status page under
/registratura/ (see cetatea/urls.py)."""

from django.urls import path

from cetatea.registry import documents, online, views

app_name = "registry"
urlpatterns = [
    # Clerks (views.py)
    path("", views.entry_list, name="list"),
    path("new/", views.entry_new, name="new"),
    path("<int:entry_id>/", views.entry_detail, name="entry"),
    path("<int:entry_id>/<slug:action>/", views.entry_action, name="entry_action"),
    path("files/<int:file_id>/", views.entry_file, name="file"),
    path("deadlines/", views.deadlines, name="deadlines"),
    # Documents (documents.py): PDF and CSV
    path("<int:entry_id>/receipt.pdf", documents.receipt, name="receipt"),
    path("register.pdf", documents.register_print, name="register_print"),
    path("reports/", documents.reports, name="reports"),
    path("reports/petitions.<str:fmt>", documents.petitions_report, name="petitions_report"),
    path("reports/info-544.<str:fmt>", documents.info_544_report, name="info_544_report"),
]

public_urlpatterns = [
    path("", documents.public_status, name="public_status"),
    path("petitie/", online.online_petition, name="online_petition"),
]
