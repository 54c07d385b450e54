from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import (
    Area,
    Category,
    CategoryRoute,
    Department,
    OutsideOperator,
    StaffProfile,
    Team,
)


class TeamInline(admin.TabularInline):
    model = Team
    fields = ["code", "name_ro", "name_en"]
    extra = 0
    show_change_link = True


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name_ro", "code", "email", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_ro", "name_en"]
    inlines = [TeamInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name_ro", "code", "department"]
    list_filter = ["department"]
    list_select_related = ["department"]
    search_fields = ["code", "name_ro", "name_en", "department__name_ro"]
    autocomplete_fields = ["department"]
    filter_horizontal = ["members"]


@admin.register(OutsideOperator)
class OutsideOperatorAdmin(admin.ModelAdmin):
    list_display = ["name_ro", "code", "email", "phone"]
    search_fields = ["code", "name_ro", "name_en"]


class CategoryRouteInline(admin.TabularInline):
    model = CategoryRoute
    fields = ["area", "department", "operator", "team"]
    autocomplete_fields = ["area", "department", "operator", "team"]
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_ro",
        "group",
        "department",
        "operator",
        "target_hours",
        "regime",
        "is_active",
        "sort_order",
    ]
    list_display_links = ["code", "name_ro"]
    list_filter = ["regime", "is_active", "group", "department", "operator"]
    list_select_related = ["department", "operator"]
    search_fields = ["code", "name_ro", "name_en", "group"]
    autocomplete_fields = ["department", "operator"]
    inlines = [CategoryRouteInline]
    fieldsets = [
        (None, {"fields": ["code", "name_ro", "name_en", "group", "sort_order", "is_active"]}),
        (_("Handling"), {"fields": ["department", "operator", "target_hours", "regime"]}),
    ]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name_ro", "code", "name_en", "updated_at"]
    search_fields = ["code", "name_ro", "name_en"]
    readonly_fields = ["updated_at"]
    fields = ["code", "name_ro", "name_en", "geometry", "updated_at"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "phone_extension"]
    list_filter = ["department"]
    list_select_related = ["user", "department"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user", "department"]
