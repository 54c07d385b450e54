"""Boards, tasks, checklists, comments with mentions, attachments and sent reminders.

Who belongs to a board is decided in ``selectors.board_member_q`` / ``is_board_member``:
the staff of its department, the members of its team, and its explicit members.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.intranet.tasks.choices import OPEN_STATUSES, Priority, ReminderKind, Status


class Board(models.Model):
    """A project or team board: its tasks are seen only by its members."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Everyone in this department is a member (StaffProfile.department).
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Everyone in this team is a member (Team.members).
    team = models.ForeignKey(
        "catalog.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("other members"),
        blank=True,
        related_name="task_boards",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("board")
        verbose_name_plural = _("boards")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["department", "name"], name="taskboard_dept_idx"),
            models.Index(fields=["team", "name"], name="taskboard_team_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Task(models.Model):
    """A piece of work on a board: a kanban card."""

    board = models.ForeignKey(
        Board, verbose_name=_("board"), on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intranet_tasks",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.TODO
    )
    # Order inside a column (gaps allowed; see services.task_move).
    position = models.IntegerField(_("position"), default=0)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intranet_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A random key from the create form: a double submit returns the task already made.
    idempotency_key = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # Incremented by every change: a form carries it, a stale one is refused.
    version = models.PositiveIntegerField(default=1)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="task_idempotency_unique"
            ),
        ]
        indexes = [
            # The kanban columns.
            models.Index(fields=["board", "status", "position", "id"], name="task_column_idx"),
            # The list view sorted by due, with or without a status/assignee filter.
            models.Index(fields=["board", "due_at", "id"], name="task_board_due_idx"),
            models.Index(
                fields=["board", "assignee", "due_at", "id"], name="task_board_assignee_idx"
            ),
            # "My open tasks" (home panel) and the reminders.
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx"),
            models.Index(
                fields=["due_at"],
                condition=models.Q(status__in=["todo", "in_progress"], assignee__isnull=False),
                name="task_open_due_idx",
            ),
            models.Index(fields=["case"], name="task_case_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class ChecklistItem(models.Model):
    """One line of a task's checklist."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(_("item"), max_length=300)
    done = models.BooleanField(_("done"), default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    position = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["task", "position", "id"], name="taskcheck_task_idx")]

    def __str__(self) -> str:
        return self.text


class Comment(models.Model):
    """A comment on a task; ``@username`` mentions a board member."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "-created_at", "-id"], name="taskcomment_task_idx")]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.body[:40]}"


class Mention(models.Model):
    """A member named in a comment; shown on their home panel until they open the task."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_mentions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="taskmention_unique")
        ]
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=models.Q(seen_at__isnull=True),
                name="taskmention_unseen_idx",
            ),
            models.Index(fields=["user", "task"], name="taskmention_user_task_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.comment_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"intranet/tasks/{instance.task.board_id}/{instance.task_id}/{filename}"


def _private_storage():
    return storages["private"]


class Attachment(models.Model):
    """A file attached to a task, in the private storage (served through a checked view)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(
        _("file"), upload_to=attachment_path, storage=_private_storage, max_length=300
    )
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "sha256"], name="taskattachment_unique")
        ]

    def __str__(self) -> str:
        return self.original_name


class Reminder(models.Model):
    """A reminder e-mail already sent: one per task, kind and due time."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["task", "kind", "due_at"], name="taskreminder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.kind}"
