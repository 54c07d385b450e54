"""Writing documents: folders and grants, uploads and versions, locks, Markdown saves,
restores, comments with mentions, links, and the search text.

Every service takes the acting user, checks their level on the folder itself (views also
do, through the selectors), runs in one transaction and locks the document row
(``select_for_update``) before comparing versions, so two saves from the same version
never both succeed: the second gets ``VersionConflict`` and writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cetatea.core import uploads
from cetatea.core.text import fold
from cetatea.intranet.documents import files, selectors
from cetatea.intranet.documents.choices import Kind, Level, LinkKind
from cetatea.intranet.documents.models import (
    Comment,
    Document,
    DocumentLink,
    DocumentText,
    DocumentVersion,
    Folder,
    FolderAccess,
    Mention,
)
from cetatea.intranet.selectors import department_id_of

logger = logging.getLogger(__name__)

MAX_MARKDOWN_CHARS = 1_000_000
MAX_COMMENT_CHARS = 5000


class VersionConflict(ValidationError):
    """Someone saved a newer version since the one this save started from."""

    def __init__(self, document: Document):
        super().__init__(
            _(
                "%(who)s saved version %(number)s of this document meanwhile, so your "
                "changes were not saved. Your text is kept below: compare it with the "
                "current version and save again."
            )
            % {
                "who": _display(document.updated_by),
                "number": document.version,
            },
            code="conflict",
        )
        self.document = document


class DocumentLocked(ValidationError):
    """Someone else holds the document's lock."""

    def __init__(self, holder, since):
        super().__init__(
            _(
                "This document is locked by %(who)s since %(when)s. It cannot be changed "
                "until they save it or release the lock (a lock ends by itself after "
                "%(hours)s hours)."
            )
            % {
                "who": _display(holder),
                "when": date_format(timezone.localtime(since), "DATETIME_FORMAT"),
                "hours": f"{selectors.lock_seconds() / 3600:g}",
            },
            code="locked",
        )


def _display(user) -> str:
    if user is None:
        return "?"
    return user.get_full_name() or user.get_username()


def _need(actor: AbstractBaseUser, folder: Folder, level: int) -> int:
    have = selectors.folder_level(actor, folder)
    if have < level:
        raise PermissionDenied
    return have


def _locked_document(document_id: int) -> Document:
    # No select_related: PostgreSQL re-reads a row it waited for, but not the rows joined
    # to it, so a joined "locked_by" would still be the one from before the wait.
    document = (
        Document.objects.select_for_update().filter(pk=document_id, deleted_at__isnull=True).first()
    )
    if document is None:
        raise ValidationError(_("This document no longer exists."), code="gone")
    return document


def _check_lock(document: Document, actor: AbstractBaseUser, now) -> None:
    holder, since = selectors.lock_holder(document, now=now)
    if holder is not None and holder.pk != actor.pk:
        raise DocumentLocked(holder, since)


def _check_base(document: Document, base_version: int | None) -> None:
    if base_version is not None and base_version != document.version:
        raise VersionConflict(document)


# --- folders -------------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationError({"name": _("Write a name.")}, code="required")
    return name


def folder_create(
    *, actor: AbstractBaseUser, name: str, shared: bool = False, department_id: int | None = None
) -> Folder:
    """A department's folder (the actor's department, editable by its staff) or, with
    ``documents.add_shared_folder``, a folder shared with all staff. The creator manages
    it. Someone with ``documents.manage_any_folder`` may name another department."""
    name = _clean_name(name)
    if shared:
        if not actor.has_perm("documents.add_shared_folder"):
            raise PermissionDenied
        department_id = None
    elif department_id is None or not actor.has_perm("documents.manage_any_folder"):
        department_id = department_id_of(actor)
        if department_id is None:
            raise ValidationError(
                _("You are not in a department: ask an administrator to set yours."),
                code="no_department",
            )
    with transaction.atomic():
        folder = Folder.objects.create(
            name=name, department_id=department_id, created_by=actor, created_at=timezone.now()
        )
        grants = [FolderAccess(folder=folder, user=actor, level=Level.MANAGE)]
        if shared:
            grants.append(FolderAccess(folder=folder, level=Level.EDIT))
        else:
            grants.append(
                FolderAccess(folder=folder, department_id=department_id, level=Level.EDIT)
            )
        FolderAccess.objects.bulk_create(grants)
    return folder


def folder_rename(*, actor: AbstractBaseUser, folder_id: int, name: str) -> Folder:
    name = _clean_name(name)
    with transaction.atomic():
        folder = Folder.objects.select_for_update().get(pk=folder_id, deleted_at__isnull=True)
        _need(actor, folder, Level.MANAGE)
        folder.name = name
        folder.save(update_fields=["name"])
    return folder


def folder_delete(*, actor: AbstractBaseUser, folder_id: int) -> None:
    """Hide the folder and everything in it (nothing is erased: an administrator can bring
    it back by clearing ``deleted_at``)."""
    with transaction.atomic():
        folder = Folder.objects.select_for_update().get(pk=folder_id, deleted_at__isnull=True)
        _need(actor, folder, Level.MANAGE)
        folder.deleted_at = timezone.now()
        folder.save(update_fields=["deleted_at"])


def folder_grant(
    *,
    actor: AbstractBaseUser,
    folder_id: int,
    level: int,
    user_id: int | None = None,
    department_id: int | None = None,
) -> FolderAccess:
    """Give a person, a department or (neither given) all staff ``level`` on a folder;
    an existing grant to the same grantee changes level."""
    if level not in Level.values:
        raise ValidationError({"level": _("Choose view, edit or manage.")}, code="invalid")
    if user_id is not None and department_id is not None:
        raise ValidationError(_("Grant to a person or to a department, not both."), code="both")
    with transaction.atomic():
        folder = Folder.objects.select_for_update().get(pk=folder_id, deleted_at__isnull=True)
        _need(actor, folder, Level.MANAGE)
        grant, created = FolderAccess.objects.get_or_create(
            folder=folder, user_id=user_id, department_id=department_id, defaults={"level": level}
        )
        if not created and grant.level != level:
            if grant.level == Level.MANAGE and user_id is not None:
                _keep_a_manager(folder, grant.pk)
            grant.level = level
            grant.save(update_fields=["level"])
    return grant


def _keep_a_manager(folder: Folder, leaving_id: int) -> None:
    others = (
        FolderAccess.objects.filter(folder=folder, level=Level.MANAGE, user__isnull=False)
        .exclude(pk=leaving_id)
        .exists()
    )
    if not others:
        raise ValidationError(
            _("A folder needs at least one person who manages it: name another one first."),
            code="last_manager",
        )


def folder_revoke(*, actor: AbstractBaseUser, access_id: int) -> None:
    with transaction.atomic():
        grant = FolderAccess.objects.select_related("folder").get(pk=access_id)
        folder = Folder.objects.select_for_update().get(pk=grant.folder_id, deleted_at__isnull=True)
        _need(actor, folder, Level.MANAGE)
        if grant.level == Level.MANAGE and grant.user_id is not None:
            _keep_a_manager(folder, grant.pk)
        grant.delete()


# --- versions --------------------------------------------------------------------------------


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _new_version(
    document: Document,
    actor: AbstractBaseUser,
    now,
    *,
    file=None,
    name: str = "",
    text: str | None = None,
    restored_from: int | None = None,
    note: str = "",
    written: list[str] | None = None,
) -> DocumentVersion:
    """Write version ``document.version + 1`` and make it current (caller holds the row
    lock). A file goes to the private storage under a random name."""
    number = document.version + 1
    version = DocumentVersion(
        document=document,
        number=number,
        author=actor,
        created_at=now,
        restored_from=restored_from,
        note=note[:200],
    )
    if text is not None:
        data = text.encode("utf-8")
        version.text = text
        version.original_name = uploads.safe_name(f"{document.title}.md")
        version.content_type = uploads.SAFE_TYPES["md"]
        version.size = len(data)
        version.sha256 = hashlib.sha256(data).hexdigest()
    else:
        version.original_name = uploads.safe_name(name or file.name)
        version.content_type = uploads.content_type_for(version.original_name)
        version.size = file.size
        version.sha256 = _sha256(file)
        extension = uploads.extension_of(version.original_name)
        stored = f"{uuid.uuid4().hex}.{extension}" if extension.isalnum() else uuid.uuid4().hex
        # The private storage as configured now (a callable storage is evaluated once).
        version.file.storage = storages["private"]
        version.file.save(stored, file, save=False)
        if written is not None:
            written.append(version.file.name)
    version.save()
    document.version = number
    document.updated_by = actor
    document.updated_at = now
    document.locked_by = None  # a save releases the lock
    document.locked_at = None
    document.save(update_fields=["version", "updated_by", "updated_at", "locked_by", "locked_at"])
    return version


class _FilesGuard:
    """Collects the names of files written inside a block and deletes them when the
    block raises (the rows are rolled back; the files must go with them)."""

    def __enter__(self) -> list[str]:
        self.written: list[str] = []
        return self.written

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for name in self.written:
                storages["private"].delete(name)
        return False


def _set_text(document: Document, body_key: str | None, version: int) -> None:
    """Write the search row: the folded title, then the folded body (``None``: keep the
    body the row has, e.g. on a rename or while the file's text is being extracted)."""
    title_key = fold(document.title)
    row = DocumentText.objects.select_for_update().filter(document=document).first()
    old_body = "" if row is None else row.content_key.partition("\n")[2]
    body = old_body if body_key is None else body_key
    content_key = f"{title_key}\n{body}"[: files.MAX_TEXT_CHARS]
    if row is None:
        DocumentText.objects.create(
            document=document,
            folder_id=document.folder_id,
            version=version,
            content_key=content_key,
        )
        return
    row.content_key = content_key
    row.version = version
    row.folder_id = document.folder_id
    row.save(update_fields=["content_key", "version", "folder_id"])


def _enqueue_extraction(document_id: int, number: int) -> None:
    from cetatea.intranet.documents.tasks import extract_text_task

    transaction.on_commit(lambda: extract_text_task.enqueue(document_id, number))


def document_upload(*, actor: AbstractBaseUser, folder_id: int, file, title: str = "") -> Document:
    """A new document from an uploaded file (version 1). Refused files raise
    ``ValidationError`` and leave nothing behind."""
    uploads.check_upload(file, max_bytes=files.max_upload_bytes())
    name = uploads.safe_name(file.name)
    title = " ".join((title or "").split())[:200] or name
    now = timezone.now()
    with _FilesGuard() as written, transaction.atomic():
        folder = Folder.objects.select_for_update().get(pk=folder_id, deleted_at__isnull=True)
        _need(actor, folder, Level.EDIT)
        document = Document.objects.create(
            folder=folder,
            title=title,
            kind=Kind.FILE,
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
        )
        _new_version(document, actor, now, file=file, name=name, written=written)
        _set_text(document, "", 1)
        _enqueue_extraction(document.pk, 1)
    return document


def document_upload_version(
    *, actor: AbstractBaseUser, document_id: int, file, base_version: int | None
) -> DocumentVersion:
    """A new version of a file document. Refused when someone else holds the lock or
    saved a version after ``base_version``."""
    uploads.check_upload(file, max_bytes=files.max_upload_bytes())
    now = timezone.now()
    with _FilesGuard() as written, transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.EDIT)
        if document.kind != Kind.FILE:
            raise ValidationError(_("Edit a Markdown document in the browser."), code="kind")
        _check_lock(document, actor, now)
        _check_base(document, base_version)
        version = _new_version(document, actor, now, file=file, written=written)
        _set_text(document, "", version.number)
        _enqueue_extraction(document.pk, version.number)
    return version


def document_markdown_create(
    *, actor: AbstractBaseUser, folder_id: int, title: str, text: str
) -> Document:
    title = " ".join((title or "").split())[:200]
    if not title:
        raise ValidationError({"title": _("Write a title.")}, code="required")
    _check_markdown(text)
    now = timezone.now()
    with transaction.atomic():
        folder = Folder.objects.select_for_update().get(pk=folder_id, deleted_at__isnull=True)
        _need(actor, folder, Level.EDIT)
        document = Document.objects.create(
            folder=folder,
            title=title,
            kind=Kind.MARKDOWN,
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
        )
        _new_version(document, actor, now, text=text)
        _set_text(document, fold(text), 1)
    return document


def _check_markdown(text: str) -> None:
    if len(text or "") > MAX_MARKDOWN_CHARS:
        raise ValidationError(
            {"text": _("The text is longer than %(n)s characters.") % {"n": MAX_MARKDOWN_CHARS}},
            code="too_long",
        )


def document_markdown_save(
    *,
    actor: AbstractBaseUser,
    document_id: int,
    text: str,
    base_version: int,
    note: str = "",
) -> DocumentVersion | None:
    """Save the edited text as a new version (None when it did not change). Refused with
    ``DocumentLocked`` or ``VersionConflict``; the caller shows the text back."""
    _check_markdown(text)
    text = (text or "").replace("\r\n", "\n")
    now = timezone.now()
    with transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.EDIT)
        if document.kind != Kind.MARKDOWN:
            raise ValidationError(_("Only Markdown documents are edited here."), code="kind")
        _check_lock(document, actor, now)
        _check_base(document, base_version)
        current = DocumentVersion.objects.get(document=document, number=document.version)
        if current.text == text:
            if document.locked_by_id == actor.pk:
                document.locked_by, document.locked_at = None, None
                document.save(update_fields=["locked_by", "locked_at"])
            return None
        version = _new_version(document, actor, now, text=text, note=note)
        _set_text(document, fold(text), version.number)
    return version


def document_restore(
    *, actor: AbstractBaseUser, document_id: int, number: int, base_version: int | None = None
) -> DocumentVersion:
    """Make an old version current again: a new version copying it (nothing is lost)."""
    now = timezone.now()
    with _FilesGuard() as written, transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.EDIT)
        _check_lock(document, actor, now)
        _check_base(document, base_version)
        old = DocumentVersion.objects.filter(document=document, number=number).first()
        if old is None:
            raise ValidationError(_("There is no such version."), code="no_version")
        note = _("Restored from version %(n)s") % {"n": number}
        if document.kind == Kind.MARKDOWN:
            version = _new_version(
                document, actor, now, text=old.text, restored_from=number, note=note
            )
            _set_text(document, fold(old.text), version.number)
        else:
            with storages["private"].open(old.file.name, "rb") as handle:
                copy = ContentFile(handle.read(), name=old.original_name)
            version = _new_version(
                document,
                actor,
                now,
                file=copy,
                name=old.original_name,
                restored_from=number,
                note=note,
                written=written,
            )
            _set_text(document, "", version.number)
            _enqueue_extraction(document.pk, version.number)
    return version


def document_rename(*, actor: AbstractBaseUser, document_id: int, title: str) -> Document:
    title = " ".join((title or "").split())[:200]
    if not title:
        raise ValidationError({"title": _("Write a title.")}, code="required")
    with transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.EDIT)
        _check_lock(document, actor, timezone.now())
        document.title = title
        document.save(update_fields=["title"])
        _set_text(document, None, document.version)
    return document


def document_delete(*, actor: AbstractBaseUser, document_id: int) -> None:
    """Hide a document (folder managers); its versions and files are kept."""
    with transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.MANAGE)
        document.deleted_at = timezone.now()
        document.save(update_fields=["deleted_at"])
        DocumentText.objects.filter(document=document).delete()


# --- locks ---------------------------------------------------------------------------------------


def document_lock(*, actor: AbstractBaseUser, document_id: int) -> Document:
    """Check the document out to ``actor`` (again: renews the lock). Refused with
    ``DocumentLocked`` when someone else holds a valid lock."""
    now = timezone.now()
    with transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.EDIT)
        _check_lock(document, actor, now)
        document.locked_by = actor
        document.locked_at = now
        document.save(update_fields=["locked_by", "locked_at"])
    return document


def document_unlock(*, actor: AbstractBaseUser, document_id: int) -> bool:
    """Release the lock: its holder, or a manager of the folder (breaking someone
    else's lock). True if a lock was released."""
    now = timezone.now()
    with transaction.atomic():
        document = _locked_document(document_id)
        level = _need(actor, document.folder, Level.EDIT)
        holder, _since = selectors.lock_holder(document, now=now)
        if holder is None:
            return False
        if holder.pk != actor.pk and level < Level.MANAGE:
            raise PermissionDenied
        document.locked_by = None
        document.locked_at = None
        document.save(update_fields=["locked_by", "locked_at"])
    return True


# --- comments and mentions ------------------------------------------------------------------


def comment_add(*, actor: AbstractBaseUser, document_id: int, body: str) -> Comment:
    """A comment; each ``@username`` of an active staff member who can see the document
    becomes a mention (their home panel) and an e-mail after the commit."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write a comment.")}, code="required")
    if len(body) > MAX_COMMENT_CHARS:
        raise ValidationError(
            {"body": _("A comment has at most %(n)s characters.") % {"n": MAX_COMMENT_CHARS}},
            code="too_long",
        )
    now = timezone.now()
    with transaction.atomic():
        document = Document.objects.select_related("folder").get(
            pk=document_id, deleted_at__isnull=True
        )
        _need(actor, document.folder, Level.VIEW)
        comment = Comment.objects.create(document=document, author=actor, body=body, created_at=now)
        names = selectors.mentioned_usernames(body)
        people = [
            user
            for user in get_user_model().objects.filter(username__in=names, is_active=True)
            if user.pk != actor.pk
            and user.has_perm("intranet.use_intranet")
            and selectors.folder_level(user, document.folder) >= Level.VIEW
        ]
        Mention.objects.bulk_create(
            [Mention(comment=comment, document=document, user=u, created_at=now) for u in people]
        )
        recipients = [u.email for u in people if u.email]
        if recipients:
            transaction.on_commit(lambda: _mail_mentions(comment.pk, recipients))
    return comment


def _mail_mentions(comment_id: int, recipients: list[str]) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse

    comment = Comment.objects.select_related("author", "document").get(pk=comment_id)
    url = settings.CETATEA_SITE_URL.rstrip("/") + reverse(
        "documents:document", args=[comment.document_id]
    )
    subject = _("%(who)s mentioned you on “%(title)s”") % {
        "who": _display(comment.author),
        "title": comment.document.title,
    }
    for address in recipients:
        try:
            send_mail(subject, f"{comment.body}\n\n{url}\n", None, [address])
        except Exception:  # one bad address must not stop the others
            logger.warning("mention e-mail to %s failed", address, exc_info=True)


# --- links ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkTarget:
    kind: str
    case_id: int | None = None
    entry_id: int | None = None


def _resolve_link(reference: str) -> LinkTarget:
    from cetatea.cases.models import Case
    from cetatea.cases.selectors import normalize_reference
    from cetatea.registry.services import entry_by_number, parse_number

    reference = (reference or "").strip()
    if parse_number(reference) is not None:
        entry = entry_by_number(reference)
        if entry is None:
            raise ValidationError(
                {"reference": _("There is no registry entry %(ref)s.") % {"ref": reference}},
                code="no_entry",
            )
        return LinkTarget(LinkKind.ENTRY, entry_id=entry.pk)
    try:
        normalized = normalize_reference(reference)
    except ValidationError:
        raise ValidationError(
            {
                "reference": _(
                    "Write a case reference (such as AB-2026-000123) or a registry number "
                    "(such as RG-12/2026)."
                )
            },
            code="bad_reference",
        ) from None
    case_id = Case.objects.filter(reference=normalized).values_list("pk", flat=True).first()
    if case_id is None:
        raise ValidationError(
            {"reference": _("There is no case with the reference %(ref)s.") % {"ref": normalized}},
            code="no_case",
        )
    return LinkTarget(LinkKind.CASE, case_id=case_id)


def document_link_add(*, actor: AbstractBaseUser, document_id: int, reference: str) -> DocumentLink:
    """Link the document to a case (by reference) or a registry entry (by number); the
    same link twice is kept once."""
    target = _resolve_link(reference)
    with transaction.atomic():
        document = _locked_document(document_id)
        _need(actor, document.folder, Level.EDIT)
        link, _created = DocumentLink.objects.get_or_create(
            document=document,
            case_id=target.case_id,
            entry_id=target.entry_id,
            defaults={"kind": target.kind, "created_by": actor, "created_at": timezone.now()},
        )
    return link


def document_link_remove(*, actor: AbstractBaseUser, link_id: int) -> None:
    with transaction.atomic():
        link = DocumentLink.objects.select_related("document__folder").get(pk=link_id)
        _need(actor, link.document.folder, Level.EDIT)
        link.delete()


# --- the search text ---------------------------------------------------------------------------


def document_text_extract(document_id: int, number: int) -> bool:
    """Read the text of version ``number`` into the search row, unless a newer version
    was saved meanwhile (its own extraction will). True if the row was written."""
    version = (
        DocumentVersion.objects.select_related("document")
        .filter(document_id=document_id, number=number)
        .first()
    )
    if version is None or not version.file:
        return False
    try:
        with storages["private"].open(version.file.name, "rb") as handle:
            text = files.extract_text(handle, version.original_name)
    except OSError:
        logger.warning("version %s of document %s is missing", number, document_id)
        return False
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document_id)
        if document.version != number or document.deleted_at is not None:
            return False
        _set_text(document, fold(text), number)
    return True
