from django.contrib import admin

from cetatea.cases.models import Case
from cetatea.core.admin import ReadOnlyAdmin


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Look-up only: cases are filed and worked through the services, never edited raw."""

    list_display = ("reference", "title", "category", "department", "status", "due_at", "channel")
    list_filter = ("status", "channel", "department", "category")
    search_fields = ("=reference", "title")
    list_select_related = ("category", "department")
    show_full_result_count = False
    raw_id_fields = ("requester", "assignee", "merged_into")
