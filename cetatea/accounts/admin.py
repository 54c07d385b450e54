from django.contrib import admin

from cetatea.accounts.models import SignIn


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    """The sign-in log, read-only: rows are evidence."""

    list_display = ["time", "username", "outcome", "ip_address"]
    list_filter = ["outcome"]
    search_fields = ["username"]
    date_hierarchy = "time"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
