from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cetatea.open311.models import ApiClient, ApiSubmission, ApiUpdate


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Client applications: a key is made when the client is added (and on "new key") and
    shown once; revoking stops it at once."""

    list_display = ["name", "key_prefix", "is_active", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "contact_email", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "contact_email", "is_active", *readonly_fields]
    actions = ["revoke", "issue_new_key"]

    def save_model(self, request, obj, form, change):
        key = None
        if not change:
            key = obj.new_key()
        if change and "is_active" in form.changed_data:
            obj.revoked_at = None if obj.is_active else timezone.now()
        super().save_model(request, obj, form, change)
        if key:
            self._show_key(request, obj, key)

    def _show_key(self, request, obj, key):
        messages.warning(
            request,
            _("The api_key of %(name)s is %(key)s — copy it now, it is not shown again.")
            % {"name": obj.name, "key": key},
        )

    @admin.action(description=_("Revoke the keys of the selected clients"))
    def revoke(self, request, queryset):
        count = queryset.filter(is_active=True).update(is_active=False, revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%(n)d key revoked.", "%(n)d keys revoked.", count) % {"n": count},
        )

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            key = client.new_key()
            client.is_active, client.revoked_at = True, None
            client.save()
            self._show_key(request, client, key)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiSubmission)
class ApiSubmissionAdmin(_ReadOnly):
    list_display = ["case", "client", "device_id", "created_at"]
    list_filter = ["client"]
    list_select_related = ["case", "client"]
    search_fields = ["case__reference", "device_id", "account_id"]
    raw_id_fields = ["case"]


@admin.register(ApiUpdate)
class ApiUpdateAdmin(_ReadOnly):
    list_display = ["update_id", "case", "client", "status", "created_at"]
    list_filter = ["client"]
    list_select_related = ["case", "client"]
    search_fields = ["update_id", "case__reference"]
    raw_id_fields = ["case", "event"]
