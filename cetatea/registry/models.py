"""The registry (registratură): registry points, their yearly books, numbered entries.

Rules: research/romanian-domain-rules.md §1–§3 (OG 27/2002, Law 544/2001, the 1996
archive instructions). An entry's number is gap-free and unique per book, and a book is
one registry point's year: numbering restarts on 1 January.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import BilingualName
from cetatea.core.fields import SearchKeyField
from cetatea.registry.choices import (
    Direction,
    DocRegime,
    EntryStatus,
    EventKind,
    RegistryChannel,
    SenderKind,
)


class RegistryPoint(BilingualName):
    """A place where documents are registered: the general registry (registratura
    generală), the Revenue Directorate's, the Social Assistance Service's."""

    code = models.SlugField(
        _("code"),
        max_length=10,
        unique=True,
        help_text=_(
            "Printed before the number, e.g. RG-1234/2026; numbers never repeat "
            "across points because the code tells them apart."
        ),
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registry_points",
    )
    clerks = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clerks"),
        blank=True,
        related_name="registry_points",
    )
    is_general = models.BooleanField(_("general registry"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("registry point")
        verbose_name_plural = _("registry points")
        ordering = ["-is_general", "name_ro"]


class RegistryBook(models.Model):
    """One registry point's register for one calendar year (1 January – 31 December).

    ``last_number`` is the book's counter: taken with an UPDATE inside the transaction
    that stores the entry, so concurrent clerks wait for each other and a failed
    registration gives its number back (no gap, no duplicate)."""

    point = models.ForeignKey(
        RegistryPoint,
        verbose_name=_("registry point"),
        on_delete=models.PROTECT,
        related_name="books",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)

    class Meta:
        verbose_name = _("registry book")
        verbose_name_plural = _("registry books")
        ordering = ["-year", "point"]
        constraints = [
            models.UniqueConstraint(fields=["point", "year"], name="registrybook_point_year"),
        ]

    def __str__(self) -> str:
        return f"{self.point.code}/{self.year}"


class DocumentType(BilingualName):
    """A kind of document with its legal terms (in calendar days, rolled forward past
    non-working days, research §1.8). A type without a term has nothing to answer."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    regime = models.CharField(
        _("legal regime"), max_length=20, choices=DocRegime.choices, default=DocRegime.OTHER
    )
    term_days = models.PositiveSmallIntegerField(
        _("term (days)"), null=True, blank=True, help_text=_("Empty: no answer is due.")
    )
    extension_days = models.PositiveSmallIntegerField(
        _("extension (days)"),
        default=0,
        help_text=_("Days one extension may add; 0: the term cannot be extended."),
    )
    extension_notice_days = models.PositiveSmallIntegerField(
        _("extension notice within (days)"),
        null=True,
        blank=True,
        help_text=_(
            "The sender must be told of the extension within this many days of "
            "registration (Law 544/2001: 10)."
        ),
    )
    forward_days = models.PositiveSmallIntegerField(
        _("forwarding within (days)"),
        null=True,
        blank=True,
        help_text=_("A misdirected document is forwarded, with notice, within this many days."),
    )
    refusal_days = models.PositiveSmallIntegerField(
        _("reasoned refusal within (days)"), null=True, blank=True
    )
    opens_case = models.BooleanField(
        _("opens a case"),
        default=False,
        help_text=_("A registered document of this type opens a case in the dispatch queues."),
    )
    case_category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category of the case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        ordering = ["sort_order", "name_ro"]


class NomenclatorItem(models.Model):
    """A file (dosar) of the archival nomenclator, with its retention period."""

    code = models.CharField(_("file code"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=300)
    retention_years = models.PositiveSmallIntegerField(
        _("retention (years)"), null=True, blank=True, help_text=_("Empty: permanent.")
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("nomenclator file")
        verbose_name_plural = _("archival nomenclator")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class EntryQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=EntryStatus.OPEN)


class Entry(models.Model):
    """A numbered line of a registry book: the fields of art. 9 of the 1996 archive
    instructions (research §3.2) plus type, channel, term and status."""

    book = models.ForeignKey(
        RegistryBook, verbose_name=_("book"), on_delete=models.PROTECT, related_name="entries"
    )
    number = models.PositiveIntegerField(_("number"))
    registered_at = models.DateTimeField(_("registered"))
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INCOMING
    )
    doc_type = models.ForeignKey(
        DocumentType, verbose_name=_("document type"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=RegistryChannel.choices,
        default=RegistryChannel.COUNTER,
    )
    # 3. the sender's own number and date
    sender_reference = models.CharField(_("sender's number"), max_length=60, blank=True)
    sender_date = models.DateField(_("sender's date"), null=True, blank=True)
    # 4., 5.
    pages = models.PositiveSmallIntegerField(_("pages"), default=1)
    annexes = models.PositiveSmallIntegerField(_("annexes"), default=0)
    # 6. the sender (emitent): a name as written, the person when known
    sender_kind = models.CharField(
        _("sender type"), max_length=12, choices=SenderKind.choices, default=SenderKind.PERSON
    )
    sender_name = models.CharField(_("sender"), max_length=200, blank=True)
    # Folded "last first" key: a sender prefix is a B-tree range (see SearchKeyField).
    sender_key = SearchKeyField(max_length=200, blank=True, editable=False)
    sender_address = models.CharField(_("sender's address"), max_length=300, blank=True)
    sender_email = models.EmailField(_("sender's e-mail"), blank=True)
    sender_phone = models.CharField(_("sender's phone"), max_length=20, blank=True)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registry_entries",
    )
    # 7. summary
    summary = models.TextField(_("summary"))
    summary_key = models.TextField(blank=True, editable=False)
    # 8. the department it was assigned to
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registry_entries",
    )
    # 9.–11. the answer: when it left, how it was solved, to whom
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    resolution = models.TextField(_("how it was resolved"), blank=True)
    addressee = models.CharField(_("addressee"), max_length=300, blank=True)
    # 12. the number it is linked to: an answer to an incoming entry, or a joined one
    answers = models.ForeignKey(
        "self",
        verbose_name=_("answer to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="answered_by",
    )
    joined_to = models.ForeignKey(
        "self",
        verbose_name=_("joined to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="joined_entries",
    )
    # 13. the file of the archival nomenclator
    archive_item = models.ForeignKey(
        NomenclatorItem,
        verbose_name=_("archive file"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.OPEN
    )
    # The term: the last day an answer may leave (null: none is owed).
    due_date = models.DateField(_("term"), null=True, blank=True)
    extended_days = models.PositiveSmallIntegerField(_("extended by (days)"), default=0)
    forwarded_to = models.CharField(_("forwarded to"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Printed on the receipt with the number: the public status page needs both.
    status_code = models.CharField(_("status code"), max_length=12)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registry_entries",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A form's one-time token: a double submit returns the entry already registered.
    submit_token = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        ordering = ["-registered_at", "-id"]
        permissions = [
            ("extend_entry", _("Can extend a legal term")),
            ("view_registry_reports", _("Can see the registry reports")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["book", "number"], name="entry_book_number"),
            models.UniqueConstraint(
                fields=["submit_token"],
                condition=~models.Q(submit_token=""),
                name="entry_submit_token",
            ),
        ]
        indexes = [
            # The clerks' search walks one of these newest first (selectors.entry_search).
            models.Index(fields=["registered_at", "id"], name="entry_registered_idx"),
            models.Index(fields=["status", "registered_at"], name="entry_status_registered_idx"),
            models.Index(fields=["sender_key", "registered_at"], name="entry_sender_idx"),
            models.Index(fields=["doc_type", "registered_at"], name="entry_type_idx"),
            models.Index(fields=["department", "registered_at"], name="entry_dept_registered_idx"),
            # The deadline watch and its alerts: only the open entries, by term.
            # (status first: SQLite, without statistics, then prefers it to the search's
            # status index for "open and past the term").
            models.Index(
                fields=["status", "due_date"],
                condition=models.Q(status="open"),
                name="entry_open_due_idx",
            ),
            models.Index(
                fields=["department", "due_date"],
                condition=models.Q(status="open"),
                name="entry_open_dept_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        """``RG-1234/2026``: the point's code, the number, the book's year."""
        return f"{self.book.point.code.upper()}-{self.number}/{self.book.year}"


def entry_file_path(instance: EntryFile, filename: str) -> str:
    book = instance.entry.book
    return f"registry/{book.year}/{book.point.code}/{instance.entry.number}/{filename}"


def _private_storage():
    return storages["private"]


class EntryFile(models.Model):
    """A scan or a file of a registered document (kept in the private storage)."""

    entry = models.ForeignKey(
        Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="files"
    )
    file = models.FileField(
        _("file"), upload_to=entry_file_path, storage=_private_storage, max_length=300
    )
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("registry file")
        verbose_name_plural = _("registry files")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class EntryEvent(models.Model):
    """The history of an entry: registered, extended, forwarded, answered, notices."""

    entry = models.ForeignKey(
        Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=12, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("registry event")
        verbose_name_plural = _("registry events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["entry", "created_at"], name="entryevent_entry_idx")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.kind}"
