from django.contrib import admin

from cetatea.intranet.tasks.models import Board, Task


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "team", "is_archived"]
    list_filter = ["is_archived"]
    search_fields = ["name"]
    raw_id_fields = ["members", "created_by"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "board", "status", "priority", "assignee", "due_at"]
    list_filter = ["status", "priority"]
    search_fields = ["title"]
    raw_id_fields = ["board", "assignee", "case", "created_by", "updated_by"]
    readonly_fields = ["version", "idempotency_key"]
