from django.urls import path

from cetatea.intranet.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("folders/<int:folder_id>/", views.folder, name="folder"),
    path("folders/<int:folder_id>/upload/", views.folder_upload, name="upload"),
    path("folders/<int:folder_id>/new/", views.folder_new_markdown, name="new_markdown"),
    path("folders/<int:folder_id>/access/", views.folder_access, name="access"),
    path("folders/<int:folder_id>/<slug:action>/", views.folder_manage, name="folder_manage"),
    path("<int:document_id>/", views.document, name="document"),
    path("<int:document_id>/upload/", views.document_upload, name="document_upload"),
    path("<int:document_id>/edit/", views.document_edit, name="edit"),
    path("<int:document_id>/preview/", views.document_preview, name="preview"),
    path("<int:document_id>/versions/", views.document_versions, name="versions"),
    path("<int:document_id>/diff/", views.document_diff, name="diff"),
    path(
        "<int:document_id>/versions/<int:number>/download/",
        views.version_download,
        name="download",
    ),
    path("<int:document_id>/versions/<int:number>/restore/", views.version_restore, name="restore"),
    path("<int:document_id>/<slug:action>/", views.document_action, name="action"),
]
