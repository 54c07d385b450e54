from django.contrib import admin

from cetatea.notify.models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "case", "kind", "channel", "recipient", "status", "attempts"]
    list_filter = ["status", "channel", "kind"]
    raw_id_fields = ["case", "event", "interaction"]
    readonly_fields = ["sent_at", "provider_id", "interaction", "attempts", "last_error"]
    show_full_result_count = False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["person", "language"]
    raw_id_fields = ["person"]
