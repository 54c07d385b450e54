"""Admin of documents: folders and their grants (to restore a deleted folder or fix
access); documents are changed through the intranet's pages only."""

from django.contrib import admin

from cetatea.intranet.documents.models import Folder, FolderAccess


class FolderAccessInline(admin.TabularInline):
    model = FolderAccess
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "created_at", "deleted_at"]
    list_filter = ["department"]
    search_fields = ["name"]
    raw_id_fields = ["created_by"]
    inlines = [FolderAccessInline]
