"""Reads of the tasks: who may see a board, the kanban, the list, the home panel."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cetatea.catalog.models import Team
from cetatea.intranet.selectors import access_intranet, department_id_of
from cetatea.intranet.tasks.choices import OPEN_STATUSES, ListSort, Status
from cetatea.intranet.tasks.models import Attachment, Board, Comment, Mention, Task

COLUMN_LIMIT = 50  # cards shown per kanban column; the list view shows the rest
MEMBER_LIMIT = 500


# --- access ----------------------------------------------------------------------------


def board_member_q(user: AbstractBaseUser, prefix: str = "") -> Q:
    """Boards (``prefix`` = "board__" for tasks) of which ``user`` is a member."""
    condition = Q(**{f"{prefix}members": user})
    condition |= Q(**{f"{prefix}team__in": Team.objects.filter(members=user).values("pk")})
    department_id = department_id_of(user)
    if department_id is not None:
        condition |= Q(**{f"{prefix}department_id": department_id})
    return condition


def is_board_member(user: AbstractBaseUser, board: Board) -> bool:
    """Whether ``user`` is a member of ``board``: its department, its team or listed."""
    if not user.is_active:
        return False
    if board.department_id is not None and department_id_of(user) == board.department_id:
        return True
    if (
        board.team_id is not None
        and Team.members.through.objects.filter(team_id=board.team_id, user_id=user.pk).exists()
    ):
        return True
    return board.members.filter(pk=user.pk).exists()


def may_manage_board(user: AbstractBaseUser, board: Board) -> bool:
    """Who may rename a board and change its explicit members."""
    return board.created_by_id == user.pk or user.has_perm("tasks.change_board")


def access_board(user: AbstractBaseUser | AnonymousUser, board_id: int) -> Board:
    """The board, if ``user`` is one of its members; else PermissionDenied/Http404.

    A board one does not belong to answers 404, as if it did not exist."""
    access_intranet(user)
    board = Board.objects.select_related("department", "team").filter(pk=board_id).first()
    if board is None:
        raise Http404(_("This board does not exist."))
    if not is_board_member(user, board):
        raise Http404(_("This board does not exist."))
    return board


def access_task(user: AbstractBaseUser | AnonymousUser, task_id: int) -> Task:
    """The task, if ``user`` is a member of its board; else PermissionDenied/Http404."""
    access_intranet(user)
    task = (
        Task.objects.select_related(
            "board", "board__department", "board__team", "assignee", "created_by"
        )
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404(_("This task does not exist."))
    if not is_board_member(user, task.board):
        raise Http404(_("This task does not exist."))
    return task


def access_attachment(user: AbstractBaseUser | AnonymousUser, attachment_id: int) -> Attachment:
    """The attachment, if ``user`` may see its task."""
    access_intranet(user)
    row = Attachment.objects.filter(pk=attachment_id).first()
    if row is None:
        raise Http404(_("This file does not exist."))
    access_task(user, row.task_id)
    return row


# --- boards and members ----------------------------------------------------------------


def boards_of(user: AbstractBaseUser) -> QuerySet[Board]:
    """The boards ``user`` belongs to, by name (paginate the result)."""
    return (
        Board.objects.filter(board_member_q(user), is_archived=False)
        .select_related("department", "team")
        .distinct()
        .order_by("name", "id")
    )


def board_members(board: Board) -> QuerySet:
    """Every member of ``board`` (active accounts), by name; at most ``MEMBER_LIMIT``."""
    users = get_user_model().objects.filter(is_active=True)
    condition = Q(task_boards=board)
    if board.team_id is not None:
        condition |= Q(teams=board.team_id)
    if board.department_id is not None:
        condition |= Q(staff_profile__department_id=board.department_id)
    ids = users.filter(condition).values("pk")
    return users.filter(pk__in=ids).order_by("last_name", "first_name", "username")[:MEMBER_LIMIT]


# --- the kanban ------------------------------------------------------------------------


@dataclass
class Column:
    status: str
    label: str
    tasks: list[Task]
    more: bool = False


def kanban(board: Board) -> list[Column]:
    """The columns of ``board``, each with its first ``COLUMN_LIMIT`` cards in order."""
    columns = []
    for status in Status:
        rows = list(
            Task.objects.filter(board=board, status=status)
            .select_related("assignee", "case")
            .order_by("position", "id")[: COLUMN_LIMIT + 1]
        )
        columns.append(
            Column(
                status=status.value,
                label=str(status.label),
                tasks=rows[:COLUMN_LIMIT],
                more=len(rows) > COLUMN_LIMIT,
            )
        )
    return columns


# --- the list --------------------------------------------------------------------------


@dataclass
class ListFilters:
    """Validated filters of the list view (see forms.TaskFilterForm)."""

    assignee_id: int | None = None
    unassigned: bool = False
    statuses: list[str] = field(default_factory=list)
    due_before: dt.datetime | None = None
    priorities: list[int] = field(default_factory=list)
    sort: str = ListSort.DUE


@dataclass
class ListPage:
    tasks: list[Task]
    next_cursor: str = ""


def _decode(cursor: str) -> tuple[str, dt.datetime | None, int] | None:
    try:
        phase, at, pk = json.loads(cursor)
    except (ValueError, TypeError):
        return None
    if phase not in ("d", "n") or not isinstance(pk, int) or isinstance(pk, bool):
        return None
    when = parse_datetime(at) if isinstance(at, str) else None
    if phase == "d" and when is None:
        return None
    return phase, when, pk


def _encode(task: Task) -> str:
    if task.due_at is None:
        return json.dumps(["n", None, task.pk])
    return json.dumps(["d", task.due_at.isoformat(), task.pk])


def task_list(
    *, board: Board, filters: ListFilters, cursor: str = "", page_size: int = 25
) -> ListPage:
    """One page of a board's tasks sorted by due time (tasks with no due time last),
    keyset-paginated: each page reads at most ``page_size + 1`` rows per part."""
    qs: QuerySet[Task] = Task.objects.filter(board=board)
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    elif filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.priorities:
        qs = qs.filter(priority__in=filters.priorities)
    if filters.due_before is not None:
        qs = qs.filter(due_at__lt=filters.due_before)
    descending = filters.sort == ListSort.DUE_LATEST
    after = _decode(cursor) if cursor else None
    rows: list[Task] = []
    related = ("assignee", "case")
    if after is None or after[0] == "d":
        dated = qs.filter(due_at__isnull=False)
        if after is not None:
            _phase, at, pk = after
            if descending:
                dated = dated.filter(Q(due_at__lt=at) | Q(due_at=at, pk__lt=pk))
            else:
                dated = dated.filter(Q(due_at__gt=at) | Q(due_at=at, pk__gt=pk))
        order = ("-due_at", "-id") if descending else ("due_at", "id")
        rows = list(dated.select_related(*related).order_by(*order)[: page_size + 1])
    if len(rows) <= page_size and filters.due_before is None:
        undated = qs.filter(due_at__isnull=True)
        if after is not None and after[0] == "n":
            undated = undated.filter(pk__gt=after[2])
        rows += list(undated.select_related(*related).order_by("id")[: page_size + 1 - len(rows)])
    page = rows[:page_size]
    return ListPage(tasks=page, next_cursor=_encode(page[-1]) if len(rows) > page_size else "")


# --- a task's page ---------------------------------------------------------------------


def task_comments(task: Task, *, limit: int = 100) -> list[Comment]:
    """The latest ``limit`` comments of a task, oldest first."""
    rows = list(
        Comment.objects.filter(task=task)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )
    rows.reverse()
    return rows


def task_case(task: Task):
    """The linked case read now (its status and due time are live), or None."""
    if task.case_id is None:
        return None
    from cetatea.cases.models import Case

    return Case.objects.filter(pk=task.case_id).first()


# --- the home panel --------------------------------------------------------------------


def home_panel(user: AbstractBaseUser, *, limit: int = 8) -> dict[str, Any]:
    """My open tasks by due time (overdue marked, no due time last) and my unseen mentions."""
    mine = Task.objects.filter(assignee=user, status__in=OPEN_STATUSES).select_related("board")
    tasks = list(mine.filter(due_at__isnull=False).order_by("due_at", "id")[:limit])
    if len(tasks) < limit:
        tasks += list(mine.filter(due_at__isnull=True).order_by("id")[: limit - len(tasks)])
    mentions = list(
        Mention.objects.filter(user=user, seen_at__isnull=True)
        .select_related("task", "comment__author")
        .order_by("-created_at")[:5]
    )
    return {
        "title": _("My tasks"),
        "tasks": tasks,
        "mentions": mentions,
        "now": timezone.now(),
    }
