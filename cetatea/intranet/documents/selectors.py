"""Reading documents: who may see a folder, lists, history, search, the home panel.

The one rule of access: a person's level on a folder is the highest of the folder's
``FolderAccess`` rows that name them, their department, or all staff (``documents.
manage_any_folder`` gives "manage" everywhere). No row, no access: the folder and its
documents are never listed, never found, and their pages answer 404.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone
from markdown_it import MarkdownIt

from cetatea.core.db import filter_unindexed
from cetatea.core.text import fold
from cetatea.intranet.documents.choices import Kind, Level
from cetatea.intranet.documents.models import (
    Comment,
    Document,
    DocumentLink,
    DocumentVersion,
    Folder,
    FolderAccess,
    Mention,
)
from cetatea.intranet.documents.search import FTS_TABLE, TABLE
from cetatea.intranet.selectors import access_intranet, department_id_of

PAGE_SIZE = 25
HOME_ROWS = 8
# Words shorter than this are left out of a search (every document has them).
MIN_WORD = 2
MAX_WORDS = 8


def lock_seconds() -> int:
    from django.conf import settings

    return int(getattr(settings, "CETATEA_INTRANET_LOCK_SECONDS", 2 * 3600))


# --- access ------------------------------------------------------------------------------------


def _grant_filter(user: AbstractBaseUser) -> Q:
    department_id = department_id_of(user)
    q = Q(user_id=user.pk) | Q(user__isnull=True, department__isnull=True)
    if department_id is not None:
        q |= Q(department_id=department_id)
    return q


def _manages_all(user: AbstractBaseUser) -> bool:
    return user.has_perm("documents.manage_any_folder")


def folder_level(user: AbstractBaseUser, folder: Folder) -> int:
    """The user's level on ``folder`` (0: none)."""
    if folder.deleted_at is not None:
        return 0
    if _manages_all(user):
        return Level.MANAGE
    return (
        FolderAccess.objects.filter(folder_id=folder.pk)
        .filter(_grant_filter(user))
        .aggregate(level=Max("level"))["level"]
        or 0
    )


def visible_folder_ids(user: AbstractBaseUser) -> list[int]:
    """Ids of every folder the user may at least view (cached on the user object)."""
    cached = getattr(user, "_documents_folder_ids", None)
    if cached is not None:
        return cached
    if _manages_all(user):
        ids = list(Folder.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True))
    else:
        ids = sorted(
            set(
                FolderAccess.objects.filter(_grant_filter(user), folder__deleted_at__isnull=True)
                .values_list("folder_id", flat=True)
                .order_by()
            )
        )
    user._documents_folder_ids = ids
    return ids


def access_folder(user: AbstractBaseUser, folder_id: int, level: int = Level.VIEW) -> Folder:
    """The folder if ``user`` has at least ``level`` on it: 404 when they cannot see it at
    all (its existence is not told), PermissionDenied when they see it with less."""
    from django.core.exceptions import PermissionDenied

    access_intranet(user)
    folder = Folder.objects.select_related("department").filter(pk=folder_id).first()
    if folder is None:
        raise Http404
    have = folder_level(user, folder)
    if have < Level.VIEW:
        raise Http404
    if have < level:
        raise PermissionDenied
    folder.level = have
    return folder


def access_document(user: AbstractBaseUser, document_id: int, level: int = Level.VIEW) -> Document:
    """The document if ``user`` has at least ``level`` on its folder (404 / 403 as
    ``access_folder``); a deleted document is 404."""
    from django.core.exceptions import PermissionDenied

    access_intranet(user)
    document = (
        Document.objects.select_related("folder", "locked_by", "updated_by")
        .filter(pk=document_id, deleted_at__isnull=True)
        .first()
    )
    if document is None:
        raise Http404
    have = folder_level(user, document.folder)
    if have < Level.VIEW:
        raise Http404
    if have < level:
        raise PermissionDenied
    document.level = have
    return document


def access_version(
    user: AbstractBaseUser, document_id: int, number: int
) -> tuple[Document, DocumentVersion]:
    document = access_document(user, document_id)
    version = DocumentVersion.objects.filter(document=document, number=number).first()
    if version is None:
        raise Http404
    return document, version


def lock_holder(document: Document, *, now=None) -> tuple[AbstractBaseUser | None, object]:
    """(who holds a valid lock, since when), or (None, None)."""
    if document.locked_by_id is None or document.locked_at is None:
        return None, None
    now = now or timezone.now()
    if (now - document.locked_at).total_seconds() >= lock_seconds():
        return None, None
    return document.locked_by, document.locked_at


# --- lists ---------------------------------------------------------------------------------------


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_cursor: str = ""


def folder_list(user: AbstractBaseUser) -> list[tuple[Folder, int]]:
    """Folders the user can see, with their level, by name (bounded by the grants)."""
    ids = visible_folder_ids(user)
    folders = list(Folder.objects.filter(pk__in=ids).select_related("department"))
    if _manages_all(user):
        levels = dict.fromkeys(ids, int(Level.MANAGE))
    else:
        levels = dict(
            FolderAccess.objects.filter(_grant_filter(user), folder_id__in=ids)
            .values("folder_id")
            .annotate(level=Max("level"))
            .values_list("folder_id", "level")
        )
    return [(f, levels.get(f.pk, 0)) for f in folders]


def _decode(cursor: str, size: int) -> list | None:
    try:
        value = json.loads(cursor)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, list) and len(value) == size else None


def folder_documents(folder: Folder, *, cursor: str = "", page_size: int = PAGE_SIZE) -> Page:
    """One page of the folder's documents by title (keyset on title, id)."""
    qs = Document.objects.filter(folder=folder, deleted_at__isnull=True).select_related(
        "updated_by", "locked_by"
    )
    after = _decode(cursor, 2) if cursor else None
    if after is not None and isinstance(after[0], str) and isinstance(after[1], int):
        qs = qs.filter(Q(title__gt=after[0]) | Q(title=after[0], pk__gt=after[1]))
    rows = list(qs.order_by("title", "pk")[: page_size + 1])
    page = Page(items=rows[:page_size])
    if len(rows) > page_size:
        last = page.items[-1]
        page.next_cursor = json.dumps([last.title, last.pk])
    return page


def document_versions(document: Document, *, cursor: str = "", page_size: int = PAGE_SIZE) -> Page:
    qs = DocumentVersion.objects.filter(document=document).select_related("author")
    if cursor.isdigit():
        qs = qs.filter(number__lt=int(cursor))
    rows = list(qs.order_by("-number")[: page_size + 1])
    page = Page(items=rows[:page_size])
    if len(rows) > page_size:
        page.next_cursor = str(page.items[-1].number)
    return page


def document_comments(document: Document, *, cursor: str = "", page_size: int = 20) -> Page:
    """The newest comments first, ``page_size`` at a time."""
    qs = Comment.objects.filter(document=document).select_related("author")
    if cursor.isdigit():
        qs = qs.filter(pk__lt=int(cursor))
    rows = list(qs.order_by("-created_at", "-pk")[: page_size + 1])
    page = Page(items=rows[:page_size])
    if len(rows) > page_size:
        page.next_cursor = str(page.items[-1].pk)
    return page


def document_links(document: Document) -> list[DocumentLink]:
    return list(
        DocumentLink.objects.filter(document=document)
        .select_related("case", "entry__book__point")
        .order_by("created_at", "pk")[:50]
    )


# --- search ------------------------------------------------------------------------------------


def search_words(query: str) -> list[str]:
    """The folded words of a query worth searching (at most ``MAX_WORDS``)."""
    return [w for w in fold(query or "").split() if len(w) >= MIN_WORD][:MAX_WORDS]


def _matching_ids(words: list[str], folder_ids: list[int], before: int | None, limit: int):
    """Ids of documents in ``folder_ids`` whose title or text has every word (as a prefix),
    newest document first, from the text index alone (``search.py``)."""
    if any(not w.isalnum() for w in words):
        raise ValueError("folded words only")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = (
                f"SELECT document_id FROM {TABLE} "  # noqa: S608 (constants)
                "WHERE search @@ to_tsquery('simple', %s) AND folder_id = ANY(%s) "
                + ("AND document_id < %s " if before else "")
                + "ORDER BY document_id DESC LIMIT %s"
            )
            params = [" & ".join(f"{w}:*" for w in words), folder_ids]
        else:
            # CROSS JOIN: SQLite walks the FTS matches newest first (its rowid is the
            # document id) and stops once a page is full, whatever the folders' sizes.
            sql = (
                f"SELECT f.rowid FROM {FTS_TABLE} f CROSS JOIN {TABLE} t "  # noqa: S608
                f"ON t.document_id = f.rowid WHERE {FTS_TABLE} MATCH %s "
                "AND t.folder_id IN (SELECT value FROM json_each(%s)) "
                + ("AND f.rowid < %s " if before else "")
                + "ORDER BY f.rowid DESC LIMIT %s"
            )
            params = [" ".join(f'"{w}"*' for w in words), json.dumps(folder_ids)]
        if before:
            params.append(before)
        params.append(limit)
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def document_search(
    user: AbstractBaseUser, query: str, *, cursor: str = "", page_size: int = PAGE_SIZE
) -> Page:
    """Documents the user may see whose title or text holds every word of ``query``
    (diacritics and case ignored, words matched by their beginning), newest first;
    ``cursor`` is the last id of the previous page."""
    words = search_words(query)
    folder_ids = visible_folder_ids(user)
    if not words or not folder_ids:
        return Page()
    before = int(cursor) if cursor.isdigit() else None
    ids = _matching_ids(words, folder_ids, before, page_size + 1)
    rows = Document.objects.filter(pk__in=ids[:page_size], deleted_at__isnull=True).select_related(
        "folder", "updated_by"
    )
    by_id = {d.pk: d for d in rows}
    page = Page(items=[by_id[i] for i in ids[:page_size] if i in by_id])
    if len(ids) > page_size:
        page.next_cursor = str(ids[page_size - 1])
    return page


# --- Markdown and diffs ------------------------------------------------------------------------

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def render_markdown(text: str) -> str:
    """Markdown as HTML safe to show: raw HTML is not passed through by the renderer and
    the result is cleaned by nh3 (no script, no event attributes, no javascript: links)."""
    import nh3

    return nh3.clean(_markdown.render(text or ""))


@dataclass(frozen=True)
class DiffLine:
    sign: str  # "+", "-", " " or "@"
    text: str


MAX_DIFF_LINES = 5000


def version_text(version: DocumentVersion) -> str | None:
    """The text of a version that can be compared: Markdown, or a plain text file."""
    if version.document.kind == Kind.MARKDOWN:
        return version.text
    from cetatea.core.uploads import extension_of
    from cetatea.intranet.documents.files import TEXT_EXTENSIONS

    if extension_of(version.original_name) in TEXT_EXTENSIONS and version.file:
        from django.core.files.storage import storages

        with storages["private"].open(version.file.name, "rb") as handle:
            return handle.read(2 * 1024 * 1024).decode("utf-8", errors="replace")
    return None


def diff_lines(old: str, new: str, *, old_label: str, new_label: str) -> list[DiffLine]:
    """A unified diff of two texts, line by line, at most ``MAX_DIFF_LINES`` lines."""
    lines: list[DiffLine] = []
    for raw in difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm="", n=3
    ):
        if raw.startswith(("---", "+++")):
            continue
        lines.append(DiffLine(raw[:1] if raw[:1] in "+-@" else " ", raw[1:]))
        if len(lines) >= MAX_DIFF_LINES:
            break
    return lines


# --- mentions and the home panel -----------------------------------------------------------

MENTION = re.compile(r"(?<![\w@.])@([\w][\w.+-]*[\w]|[\w])")


def mentioned_usernames(body: str) -> list[str]:
    seen: list[str] = []
    for name in MENTION.findall(body or ""):
        if name not in seen:
            seen.append(name)
    return seen[:20]


def home_panel(user: AbstractBaseUser) -> dict:
    """Recently changed documents the user may see, and the comments that mention them."""
    folder_ids = visible_folder_ids(user)
    recent = []
    mentions = []
    if folder_ids:
        # Newest first along ``document_updated_idx``, checking each row's folder: a page
        # fills after a few dozen rows. SQLite (no statistics) would otherwise read every
        # document of the folders through the folder index and sort them.
        recent = list(
            filter_unindexed(
                Document.objects.filter(deleted_at__isnull=True), folder_id__in=folder_ids
            )
            .select_related("folder", "updated_by")
            .order_by("-updated_at", "-pk")[:HOME_ROWS]
        )
        mentions = list(
            Mention.objects.filter(user_id=user.pk, document__folder_id__in=folder_ids)
            .filter(document__deleted_at__isnull=True)
            .select_related("comment__author", "document")
            .order_by("-created_at", "-pk")[:HOME_ROWS]
        )
    return {"recent": recent, "mentions": mentions}
