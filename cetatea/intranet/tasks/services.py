"""Writes of the tasks: boards, tasks, moves, checklists, comments, files, reminders.

Every change of a task's fields goes through a version check under a row lock: a form
carries the version it was read at, and a change made meanwhile by someone else makes
the service refuse (``code="stale"``) without writing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cetatea.catalog.models import Team
from cetatea.core import uploads
from cetatea.intranet.selectors import department_id_of
from cetatea.intranet.tasks.choices import OPEN_STATUSES, Priority, ReminderKind, Status
from cetatea.intranet.tasks.files import MAX_FILES_PER_TASK, max_bytes
from cetatea.intranet.tasks.models import (
    Attachment,
    Board,
    ChecklistItem,
    Comment,
    Mention,
    Reminder,
    Task,
)
from cetatea.intranet.tasks.selectors import is_board_member, may_manage_board

logger = logging.getLogger(__name__)

POSITION_STEP = 1024
MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]+)")
# Overdue reminders are looked for among tasks due at most this long ago, so that a run
# reads a bounded window of tasks however many old ones stay open.
OVERDUE_LOOKBACK = dt.timedelta(days=7)


def _stale(task: Task) -> ValidationError:
    who = (
        task.updated_by.get_full_name() or task.updated_by.get_username() if task.updated_by else ""
    )
    at = date_format(timezone.localtime(task.updated_at), "H:i")
    if who:
        message = _(
            "%(who)s changed this task at %(at)s, after you opened it. Nothing of yours "
            "was saved: look at the task as it is now and make your change again."
        ) % {"who": who, "at": at}
    else:
        message = _(
            "Someone else changed this task at %(at)s, after you opened it. Nothing of "
            "yours was saved: look at the task as it is now and make your change again."
        ) % {"at": at}
    return ValidationError(message, code="stale")


def _check_assignee(board: Board, assignee: AbstractBaseUser | None) -> None:
    if assignee is not None and not is_board_member(assignee, board):
        raise ValidationError(
            {"assignee": _("The assignee must be a member of the board.")}, code="not_member"
        )


def _mail(subject: str, body: str, recipients: list[str]) -> None:
    if recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)


def _task_url(task: Task) -> str:
    from django.urls import reverse

    base = getattr(settings, "CETATEA_SITE_URL", "").rstrip("/")
    return base + reverse("tasks:task", args=[task.pk])


# --- boards ----------------------------------------------------------------------------


def board_create(
    *,
    actor: AbstractBaseUser,
    name: str,
    description: str = "",
    department_id: int | None = None,
    team_id: int | None = None,
) -> Board:
    """A new board; its creator is an explicit member. A board for a department or a
    team can be made only by its own staff (or by someone who may change any board)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the board a name.")})
    may_any = actor.has_perm("tasks.change_board")
    if department_id is not None and not may_any and department_id_of(actor) != department_id:
        raise ValidationError(
            {"department": _("You can make a board only for your own department.")}
        )
    if team_id is not None and not may_any:
        team = Team.objects.filter(pk=team_id).first()
        own = team is not None and (
            team.members.filter(pk=actor.pk).exists()
            or team.department_id == department_id_of(actor)
        )
        if not own:
            raise ValidationError({"team": _("You can make a board only for your own team.")})
    with transaction.atomic():
        board = Board.objects.create(
            name=name[:200],
            description=description,
            department_id=department_id,
            team_id=team_id,
            created_by=actor,
        )
        board.members.add(actor)
    return board


def board_update(*, actor: AbstractBaseUser, board_id: int, name: str, description: str) -> Board:
    """Rename a board or change its description (its creator or a manager)."""
    with transaction.atomic():
        board = Board.objects.select_for_update().get(pk=board_id)
        if not may_manage_board(actor, board):
            raise ValidationError(_("Only the board's creator or a manager can change it."))
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Give the board a name.")})
        board.name = name[:200]
        board.description = description
        board.save(update_fields=["name", "description"])
    return board


def board_archive(*, actor: AbstractBaseUser, board_id: int, archived: bool) -> Board:
    """Archive a board (it leaves the lists; its tasks stay readable by its members)
    or bring it back."""
    with transaction.atomic():
        board = Board.objects.select_for_update().get(pk=board_id)
        if not may_manage_board(actor, board):
            raise ValidationError(_("Only the board's creator or a manager can change it."))
        if board.is_archived != archived:
            board.is_archived = archived
            board.save(update_fields=["is_archived"])
    return board


def board_member_add(*, actor: AbstractBaseUser, board_id: int, username: str) -> AbstractBaseUser:
    """Add a staff member to a board's explicit members (adding twice changes nothing)."""
    with transaction.atomic():
        board = Board.objects.select_for_update().get(pk=board_id)
        if not may_manage_board(actor, board):
            raise ValidationError(_("Only the board's creator or a manager can change it."))
        user = (
            get_user_model()
            .objects.filter(username__iexact=username.strip().lstrip("@"), is_active=True)
            .first()
        )
        if user is None or not user.has_perm("intranet.use_intranet"):
            raise ValidationError(
                {"username": _("There is no staff member with this user name.")}, code="unknown"
            )
        board.members.add(user)
    return user


def board_member_remove(*, actor: AbstractBaseUser, board_id: int, user_id: int) -> None:
    """Remove an explicit member (department and team members stay members)."""
    with transaction.atomic():
        board = Board.objects.select_for_update().get(pk=board_id)
        if not may_manage_board(actor, board):
            raise ValidationError(_("Only the board's creator or a manager can change it."))
        board.members.remove(user_id)


# --- tasks -----------------------------------------------------------------------------


def _end_of_column(board_id: int, status: str) -> int:
    top = Task.objects.filter(board_id=board_id, status=status).aggregate(m=Max("position"))["m"]
    return (top or 0) + POSITION_STEP


def task_create(
    *,
    actor: AbstractBaseUser,
    board: Board,
    title: str,
    description: str = "",
    assignee: AbstractBaseUser | None = None,
    due_at: dt.datetime | None = None,
    priority: int = Priority.NORMAL,
    case_id: int | None = None,
    idempotency_key: uuid.UUID | None = None,
) -> Task:
    """A new task at the end of the "to do" column. The same ``idempotency_key`` from the
    same person returns the task already made (a double submit makes one task)."""
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("Give the task a title.")})
    _check_assignee(board, assignee)
    if idempotency_key is not None:
        existing = Task.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            # Lock the board so two creates do not take the same position.
            Board.objects.select_for_update().filter(pk=board.pk).first()
            task = Task.objects.create(
                board=board,
                title=title[:200],
                description=description,
                assignee=assignee,
                due_at=due_at,
                priority=priority,
                status=Status.TODO,
                position=_end_of_column(board.pk, Status.TODO),
                case_id=case_id,
                created_by=actor,
                updated_by=actor,
                idempotency_key=idempotency_key,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # The other submit won the race: return its task.
        existing = Task.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    if assignee is not None and assignee.pk != actor.pk:
        transaction.on_commit(lambda: _mail_assigned(task.pk))
    return task


def _mail_assigned(task_id: int) -> None:
    task = Task.objects.select_related("assignee", "board").filter(pk=task_id).first()
    if task is None or task.assignee is None or not task.assignee.email:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Task for you: %(title)s") % {"title": task.title}
        body = _("You were given the task “%(title)s” on the board “%(board)s”.\n\n%(url)s\n") % {
            "title": task.title,
            "board": task.board.name,
            "url": _task_url(task),
        }
    _mail(subject, body, [task.assignee.email])


def _locked(task_id: int, version: int) -> Task:
    task = Task.objects.select_for_update().get(pk=task_id)
    if task.version != version:
        raise _stale(task)
    return task


def task_update(
    *,
    actor: AbstractBaseUser,
    task_id: int,
    version: int,
    title: str,
    description: str,
    assignee: AbstractBaseUser | None,
    due_at: dt.datetime | None,
    priority: int,
) -> Task:
    """Change a task's fields, if nobody changed it since ``version`` was read."""
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("Give the task a title.")})
    with transaction.atomic():
        task = _locked(task_id, version)
        board = Board.objects.get(pk=task.board_id)
        _check_assignee(board, assignee)
        newly_assigned = assignee is not None and assignee.pk != task.assignee_id
        task.title = title[:200]
        task.description = description
        task.assignee = assignee
        task.due_at = due_at
        task.priority = priority
        task.version += 1
        task.updated_by = actor
        task.updated_at = timezone.now()
        task.save(
            update_fields=[
                "title",
                "description",
                "assignee",
                "due_at",
                "priority",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
    if newly_assigned and assignee.pk != actor.pk:
        transaction.on_commit(lambda: _mail_assigned(task.pk))
    return task


def task_move(
    *,
    actor: AbstractBaseUser,
    task_id: int,
    version: int,
    status: str | None = None,
    direction: str | None = None,
) -> Task:
    """Move a card: to another column (at its end), and/or one place up or down, to
    the top or the bottom of its column. Refused if the task changed since ``version``."""
    if status is not None and status not in Status.values:
        raise ValidationError({"status": _("Choose a column.")})
    if direction not in (None, "", "up", "down", "top", "bottom"):
        raise ValidationError(_("Unknown move."))
    with transaction.atomic():
        task = _locked(task_id, version)
        # One mover per board at a time, so positions stay distinct.
        Board.objects.select_for_update().filter(pk=task.board_id).first()
        fields = ["position", "version", "updated_by", "updated_at"]
        if status is not None and status != task.status:
            task.status = status
            task.position = _end_of_column(task.board_id, status)
            task.completed_at = timezone.now() if status == Status.DONE else None
            fields += ["status", "completed_at"]
        column = Task.objects.filter(board_id=task.board_id, status=task.status).exclude(pk=task.pk)
        if direction in ("up", "down"):
            if direction == "up":
                neighbour = (
                    column.filter(position__lte=task.position)
                    .order_by("-position", "-id")
                    .select_for_update()
                    .first()
                )
            else:
                neighbour = (
                    column.filter(position__gte=task.position)
                    .order_by("position", "id")
                    .select_for_update()
                    .first()
                )
            if neighbour is not None:
                if neighbour.position == task.position:
                    # Equal positions (rows written outside the service): make room.
                    neighbour.position += -1 if direction == "down" else 1
                task.position, neighbour.position = neighbour.position, task.position
                neighbour.save(update_fields=["position"])
        elif direction == "top":
            low = column.aggregate(m=Min("position"))["m"]
            if low is not None and low <= task.position:
                task.position = low - POSITION_STEP
        elif direction == "bottom":
            high = column.aggregate(m=Max("position"))["m"]
            if high is not None and high >= task.position:
                task.position = high + POSITION_STEP
        task.version += 1
        task.updated_by = actor
        task.updated_at = timezone.now()
        task.save(update_fields=fields)
    return task


# --- checklist -------------------------------------------------------------------------


def checklist_add(*, actor: AbstractBaseUser, task_id: int, text: str) -> ChecklistItem:
    """Add an item at the end of a task's checklist."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the item.")})
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task_id)
        top = task.checklist.aggregate(m=Max("position"))["m"]
        return ChecklistItem.objects.create(task=task, text=text[:300], position=(top or 0) + 1)


def checklist_set(*, actor: AbstractBaseUser, item_id: int, done: bool) -> ChecklistItem:
    """Mark an item done or not done. The form says which, so a repeated or concurrent
    submit gives the state asked for instead of flipping it back."""
    with transaction.atomic():
        item = ChecklistItem.objects.select_for_update().get(pk=item_id)
        if item.done != done:
            item.done = done
            item.done_by = actor if done else None
            item.done_at = timezone.now() if done else None
            item.save(update_fields=["done", "done_by", "done_at"])
    return item


# --- comments and mentions -------------------------------------------------------------


def mentioned_members(board: Board, body: str) -> list[AbstractBaseUser]:
    """The board members named ``@username`` in ``body`` (others are ignored)."""
    # "@ana." at the end of a sentence names "ana".
    names = {m.rstrip(".-+").lower() for m in MENTION_RE.findall(body)} - {""}
    if not names:
        return []
    users = get_user_model().objects.filter(is_active=True)
    candidates = [u for u in users.filter(username__in=list(names)[:50])]
    # Usernames are compared case-insensitively (a person types @Ana for "ana").
    if len(candidates) < len(names):
        lowered = users.filter(username__iregex=r"^(" + "|".join(map(re.escape, names)) + r")$")
        candidates = list({u.pk: u for u in [*candidates, *lowered]}.values())
    return [u for u in candidates if is_board_member(u, board)]


def comment_add(*, actor: AbstractBaseUser, task_id: int, body: str) -> Comment:
    """A comment; each board member it mentions gets a mention and, after the commit, an
    e-mail."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a comment.")})
    with transaction.atomic():
        task = Task.objects.select_related("board").get(pk=task_id)
        comment = Comment.objects.create(task=task, author=actor, body=body)
        mentioned = [u for u in mentioned_members(task.board, body) if u.pk != actor.pk]
        Mention.objects.bulk_create(
            [
                Mention(comment=comment, task=task, user=u, created_at=comment.created_at)
                for u in mentioned
            ]
        )
    if mentioned:
        ids = [u.pk for u in mentioned]
        transaction.on_commit(lambda: _mail_mentions(comment.pk, ids))
    return comment


def _mail_mentions(comment_id: int, user_ids: list[int]) -> None:
    comment = Comment.objects.select_related("task", "author").filter(pk=comment_id).first()
    if comment is None:
        return
    author = comment.author.get_full_name() or comment.author.get_username()
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(who)s mentioned you: %(title)s") % {
            "who": author,
            "title": comment.task.title,
        }
        body = _("%(who)s wrote on the task “%(title)s”:\n\n%(text)s\n\n%(url)s\n") % {
            "who": author,
            "title": comment.task.title,
            "text": comment.body,
            "url": _task_url(comment.task),
        }
    for user in get_user_model().objects.filter(pk__in=user_ids).exclude(email=""):
        _mail(subject, body, [user.email])


def mentions_mark_seen(*, user: AbstractBaseUser, task_id: int) -> int:
    """Opening a task clears the mentions of ``user`` in it from the home panel."""
    return Mention.objects.filter(user=user, task_id=task_id, seen_at__isnull=True).update(
        seen_at=timezone.now()
    )


# --- attachments -----------------------------------------------------------------------


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def attachment_add(*, actor: AbstractBaseUser, task_id: int, file) -> Attachment:
    """Attach a file (checked by the shared upload policy, ``cetatea.core.uploads``) in
    the private storage. The same content attached twice to a task is stored once."""
    uploads.check_upload(file, max_bytes=max_bytes())
    digest = _sha256(file)
    name = uploads.safe_name(file.name)
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task_id)
        existing = task.attachments.filter(sha256=digest).first()
        if existing is not None:
            return existing
        if task.attachments.count() >= MAX_FILES_PER_TASK:
            raise ValidationError(
                _("A task can have at most %(n)d files.") % {"n": MAX_FILES_PER_TASK},
                code="too_many",
            )
        row = Attachment(
            task=task,
            original_name=name,
            content_type=uploads.content_type_for(name),
            size=file.size,
            sha256=digest,
            uploaded_by=actor,
        )
        # The private storage as configured now (a callable storage is evaluated once).
        row.file.storage = storages["private"]
        # A random stored name: what the sender called the file never becomes a path.
        row.file.save(f"{uuid.uuid4().hex}.{uploads.storage_extension(name)}", file, save=False)
        try:
            row.save()
        except Exception:
            row.file.delete(save=False)  # no orphan file when the row is not written
            raise
    return row


# --- reminders -------------------------------------------------------------------------


def _reminder_kind(due_at: dt.datetime, now: dt.datetime) -> str | None:
    if due_at <= now:
        return ReminderKind.OVERDUE
    if due_at - now <= dt.timedelta(hours=1):
        return ReminderKind.HOUR
    if due_at - now <= dt.timedelta(hours=24):
        return ReminderKind.DAY
    return None


def _reminder_text(task: Task, kind: str) -> tuple[str, str]:
    due = date_format(timezone.localtime(task.due_at), "d.m.Y H:i")
    with translation.override(settings.LANGUAGE_CODE):
        if kind == ReminderKind.OVERDUE:
            subject = _("Overdue task: %(title)s") % {"title": task.title}
            lead = _("The task “%(title)s” was due on %(due)s and is not done.")
        else:
            subject = _("Task due soon: %(title)s") % {"title": task.title}
            lead = _("The task “%(title)s” is due on %(due)s.")
        body = (
            lead % {"title": task.title, "due": due}
            + "\n\n"
            + _("Board: %(board)s") % {"board": task.board.name}
            + "\n"
            + _task_url(task)
            + "\n"
        )
    return subject, body


def task_reminders_send(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """E-mail the assignees of open tasks due within 24 hours, within an hour, or overdue.

    Each (task, kind, due time) is sent once (a unique row in ``Reminder``): running the
    command again sends nothing new, and a task whose due time changes is reminded
    afresh. Only the most urgent kind is sent (a task found 30 minutes before its due
    time gets the one-hour reminder, not also the 24-hour one). Returns the number sent."""
    now = now or timezone.now()
    already_overdue = Reminder.objects.filter(
        task=OuterRef("pk"), kind=ReminderKind.OVERDUE, due_at=OuterRef("due_at")
    )
    candidates = (
        Task.objects.filter(
            status__in=OPEN_STATUSES,
            assignee__isnull=False,
            due_at__lte=now + dt.timedelta(hours=24),
            due_at__gte=now - OVERDUE_LOOKBACK,
        )
        .exclude(Exists(already_overdue))
        .select_related("assignee", "board")
        .order_by("due_at", "id")
    )
    sent = 0
    for task in candidates[:batch]:
        kind = _reminder_kind(task.due_at, now)
        if kind is None or not task.assignee.email:
            continue
        subject, body = _reminder_text(task, kind)
        try:
            with transaction.atomic():
                _row, created = Reminder.objects.get_or_create(
                    task=task, kind=kind, due_at=task.due_at, defaults={"sent_at": now}
                )
                if not created:
                    continue
                # Sent inside the transaction: a failed send leaves no row, so the next
                # run tries again.
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [task.assignee.email])
        except Exception:
            logger.exception("task reminder %s for task %s not sent", kind, task.pk)
            continue
        sent += 1
    return sent
