"""The intranet's documents (issue 9): folders with access rows, documents and their
versions, locks, comments with mentions, links to cases and registry entries, and the
folded text the search reads (docs/intranet-documents.md).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cetatea.intranet.documents.choices import Kind, Level, LinkKind


def _private_storage():
    return storages["private"]


class Folder(models.Model):
    """A folder of documents: a department's (closed to other departments unless an
    access row opens it) or a shared one (``department`` empty). Who may do what is
    written only in its ``FolderAccess`` rows."""

    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    # Deleting hides a folder and its documents; files and versions are kept.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("folder")
        verbose_name_plural = _("folders")
        ordering = ["name", "id"]
        permissions = [
            ("add_shared_folder", _("Can create folders shared with all staff")),
            ("manage_any_folder", _("Can manage every folder")),
        ]

    def __str__(self) -> str:
        return self.name


class FolderAccess(models.Model):
    """One grant on a folder: to a user, to a department, or (both empty) to all staff."""

    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="access")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("access"), choices=Level.choices)

    class Meta:
        verbose_name = _("folder access")
        verbose_name_plural = _("folder access")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(department__isnull=True),
                name="folderaccess_one_grantee",
            ),
            models.UniqueConstraint(
                fields=["folder", "user"],
                condition=Q(user__isnull=False),
                name="folderaccess_user_unique",
            ),
            models.UniqueConstraint(
                fields=["folder", "department"],
                condition=Q(department__isnull=False),
                name="folderaccess_dept_unique",
            ),
            models.UniqueConstraint(
                fields=["folder"],
                condition=Q(user__isnull=True, department__isnull=True),
                name="folderaccess_everyone_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "folder"], name="folderaccess_user_idx"),
            models.Index(fields=["department", "folder"], name="folderaccess_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.folder_id}: {self.get_level_display()}"


class Document(models.Model):
    """A document: a file or a Markdown text, with every version kept.

    ``version`` is the number of the current version; a save names the version it
    started from and is refused when that is no longer the current one (two people
    saving the same version). ``locked_by``/``locked_at``: a check-out, valid for
    ``CETATEA_INTRANET_LOCK_SECONDS`` after ``locked_at``."""

    folder = models.ForeignKey(
        Folder, verbose_name=_("folder"), on_delete=models.PROTECT, related_name="documents"
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField(_("version"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed"))
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [
            models.Index(fields=["folder", "title", "id"], name="document_folder_title_idx"),
            models.Index(fields=["updated_at", "id"], name="document_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.title


def version_file_path(instance: DocumentVersion, filename: str) -> str:
    return f"intranet/documents/{instance.document_id}/{filename}"


class DocumentVersion(models.Model):
    """One version of a document: the file (private storage) or the Markdown text, who
    made it and when. Versions are never changed; a restore adds a copy as a new one."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(
        _("file"), upload_to=version_file_path, storage=_private_storage, max_length=300, blank=True
    )
    text = models.TextField(_("text"), blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"))
    restored_from = models.PositiveIntegerField(_("restored from version"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="docversion_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"


class DocumentText(models.Model):
    """The folded text of a document's current version and its title, for the search.

    One row per document, its key the document's id (so the SQLite FTS5 table's rowid is
    the document id). ``folder`` is repeated here so that a search is answered from this
    table alone. ``search`` is PostgreSQL's ``tsvector`` kept by a trigger
    (``search.py``); on SQLite it stays empty and an FTS5 table indexes ``content_key``."""

    document = models.OneToOneField(
        Document, primary_key=True, on_delete=models.CASCADE, related_name="search_text"
    )
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=0)
    content_key = models.TextField(blank=True)
    search = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("document text")
        verbose_name_plural = _("document texts")
        indexes = [models.Index(fields=["folder", "document"], name="doctext_folder_idx")]

    def __str__(self) -> str:
        return f"text of {self.document_id}"


class Comment(models.Model):
    """A comment on a document; ``@username`` mentions become ``Mention`` rows."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["document", "created_at", "id"], name="doccomment_doc_idx")]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.body[:40]}"


class Mention(models.Model):
    """A person named in a comment (shown in their home panel, e-mailed once)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="docmention_unique")
        ]
        indexes = [models.Index(fields=["user", "created_at", "id"], name="docmention_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.comment_id}"


class DocumentLink(models.Model):
    """A document linked to a case or to a registry entry (exactly one of them)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("kind"), max_length=10, choices=LinkKind.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    entry = models.ForeignKey(
        "registry.Entry", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("document link")
        verbose_name_plural = _("document links")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=LinkKind.CASE, case__isnull=False, entry__isnull=True)
                    | Q(kind=LinkKind.ENTRY, entry__isnull=False, case__isnull=True)
                ),
                name="doclink_one_target",
            ),
            models.UniqueConstraint(
                fields=["document", "case"],
                condition=Q(case__isnull=False),
                name="doclink_case_unique",
            ),
            models.UniqueConstraint(
                fields=["document", "entry"],
                condition=Q(entry__isnull=False),
                name="doclink_entry_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["case"], name="doclink_case_idx"),
            models.Index(fields=["entry"], name="doclink_entry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} -> {self.kind}"
