from django.contrib import admin

from cetatea.console.models import CannedResponse, SavedView


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title_ro", "category", "is_active", "sort_order"]
    list_filter = ["is_active", "category"]
    search_fields = ["title_ro", "title_en", "text_ro"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query"]
    raw_id_fields = ["user"]
