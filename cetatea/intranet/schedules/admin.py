"""Setting up posts, coverage rules and shift patterns (administrators)."""

from django.contrib import admin

from cetatea.intranet.schedules.models import CoverageRule, Leave, Post, Shift, ShiftPattern, Swap


class CoverageRuleInline(admin.TabularInline):
    model = CoverageRule
    extra = 1


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["name_ro", "code", "team", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name_ro", "name_en", "code"]
    inlines = [CoverageRuleInline]


@admin.register(ShiftPattern)
class ShiftPatternAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "post", "weekdays", "start_time", "end_time", "is_active"]
    list_filter = ["is_active"]
    filter_horizontal = ["members"]
    raw_id_fields = ["team", "post"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["post", "person", "start", "end", "published", "is_cancelled"]
    list_filter = ["published", "is_cancelled"]
    raw_id_fields = ["team", "post", "person", "pattern", "pattern_person"]
    date_hierarchy = "start"


@admin.register(Leave)
class LeaveAdmin(admin.ModelAdmin):
    list_display = ["person", "start_date", "end_date", "kind", "status"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["person", "decided_by"]


@admin.register(Swap)
class SwapAdmin(admin.ModelAdmin):
    list_display = ["shift", "offered_by", "offered_to", "taker", "status"]
    list_filter = ["status"]
    raw_id_fields = ["shift", "offered_by", "offered_to", "taker", "decided_by"]
