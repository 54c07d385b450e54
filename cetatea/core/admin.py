from django.contrib import admin
from django.core.cache import cache

from cetatea.core.models import AuditLog, ClosureDay


class ReadOnlyAdmin(admin.ModelAdmin):
    """Look-up only: the rows are written by services, never edited in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Read-only: audit rows are evidence."""

    list_display = ("created_at", "actor", "action", "person_id", "object_repr", "reason")
    list_filter = ("action",)
    search_fields = ("object_repr", "actor__username", "=person_id")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    list_display = ("date", "reason")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        cache.delete(ClosureDay.CACHE_KEY)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        cache.delete(ClosureDay.CACHE_KEY)
