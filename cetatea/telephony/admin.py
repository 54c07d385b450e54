from django.contrib import admin

from cetatea.core.admin import ReadOnlyAdmin
from cetatea.telephony.models import Call


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    """Look-up only: calls are written by the CTI events."""

    list_display = ("started_at", "direction", "from_number", "to_number", "state", "cause")
    list_filter = ("state", "direction")
    search_fields = ("=call_id", "=from_number", "=to_number")
    show_full_result_count = False
    raw_id_fields = ("person", "answered_by", "interaction")
