from django.contrib import admin

from cetatea.inbox.models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Read-only: the log is written by fetch_mail and read_mail only."""

    list_display = ["received_at", "from_address", "subject", "outcome", "case"]
    list_filter = ["outcome", "source"]
    search_fields = ["message_id"]
    raw_id_fields = ["case"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
