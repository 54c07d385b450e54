from django.contrib import admin

from cetatea.intake.models import Escalation, EscalationContact


@admin.register(EscalationContact)
class EscalationContactAdmin(admin.ModelAdmin):
    list_display = ["department", "user"]
    list_select_related = ["department", "user"]
    autocomplete_fields = ["user"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["case", "level", "reason", "due_at", "created_at"]
    list_filter = ["level", "reason"]
    raw_id_fields = ["case"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
