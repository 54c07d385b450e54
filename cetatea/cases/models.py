"""Cases (every request, whatever the channel), their events, attachments, interactions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.cases.choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Channel,
    Direction,
    EventKind,
    Handler,
    PhotoStatus,
    Priority,
    Publication,
    Status,
)
from cetatea.catalog.choices import Regime


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def closed(self):
        return self.filter(status__in=CLOSED_STATUSES)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now(), paused_since__isnull=True)


class Case(models.Model):
    """One request for the city to act or answer, from any channel."""

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    year = models.PositiveSmallIntegerField(editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("category"), on_delete=models.PROTECT
    )
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    operator = models.ForeignKey(
        "catalog.OutsideOperator",
        verbose_name=_("outside operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    team = models.ForeignKey(
        "catalog.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT
    )
    area = models.ForeignKey(
        "catalog.Area", verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    address_text = models.CharField(_("address"), max_length=300, blank=True)

    requester = models.ForeignKey(
        "people.Person",
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    # Anonymous or not-yet-identified requester's contact details.
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    regime = models.CharField(
        _("legal regime"), max_length=20, choices=Regime.choices, default=Regime.TICKET
    )
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), db_index=True)
    # The unrolled legal due date, from which an extension is counted (see core.workdays).
    legal_base_date = models.DateField(null=True, blank=True, editable=False)
    extended_days = models.PositiveSmallIntegerField(_("extension (days)"), default=0)
    paused_since = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    # --- the public side ---
    publication = models.CharField(
        _("publication"), max_length=10, choices=Publication.choices, default=Publication.PRIVATE
    )
    show_name = models.BooleanField(_("show the reporter's name publicly"), default=False)
    answers = models.JSONField(_("answers to extra questions"), default=dict, blank=True)
    supporters_count = models.PositiveIntegerField(_("“me too” count"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-registered_at", "-id"]
        permissions = [
            ("extend_deadline", _("Can extend a petition's legal term")),
            ("merge_case", _("Can merge duplicate cases")),
            ("moderate_case", _("Can moderate public reports, updates and photos")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="case_year_sequence"),
        ]
        indexes = [
            models.Index(fields=["requester", "-registered_at"], name="case_requester_idx"),
            models.Index(fields=["department", "status", "due_at"], name="case_queue_idx"),
            models.Index(fields=["status", "due_at"], name="case_status_due_idx"),
            # The console's queue sorted by registration or priority, and "assigned to me".
            models.Index(
                fields=["department", "status", "-registered_at", "-id"], name="case_queue_new_idx"
            ),
            models.Index(
                fields=["department", "status", "-priority", "due_at"], name="case_queue_prio_idx"
            ),
            models.Index(fields=["assignee", "status", "due_at"], name="case_assignee_idx"),
            # The queue filtered to one category (a category has one department): a range
            # per status in due order instead of intersecting two indexes.
            models.Index(fields=["category", "status", "due_at"], name="case_queue_category_idx"),
            # The public map (portal.selectors): a small box is read through the box index,
            # a big one newest first; each also holds the columns the other condition and
            # the clusters test, so most rows are rejected without reading the table.
            models.Index(
                fields=["latitude", "longitude", "registered_at"],
                condition=models.Q(publication="public"),
                name="case_map_box_idx",
            ),
            models.Index(
                fields=["-registered_at", "-id", "latitude", "longitude", "category", "status"],
                condition=models.Q(publication="public"),
                name="case_map_newest_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.paused_since is None and self.due_at < timezone.now()


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("case events are append-only")


class CaseEvent(models.Model):
    """One entry of a case's append-only history; KPIs are computed from these."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handler = models.CharField(
        _("handled by"), max_length=10, choices=Handler.choices, default=Handler.STAFF
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    is_public = models.BooleanField(_("visible to the citizen"), default=False)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at", "-id"], name="caseevent_tl_idx"),
            # Public updates in a time window (Open311 servicerequestupdates, alerts).
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(is_public=True),
                name="caseevent_public_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("case events are append-only")
        super().save(*args, **kwargs)


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"cases/{instance.case.year}/{instance.case.reference}/{filename}"


class Attachment(models.Model):
    """A file attached to a case (photo, scan, document)."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    is_public = models.BooleanField(_("visible to the public"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


def photo_path(instance: Photo, filename: str) -> str:
    return f"photos/{instance.case.year}/{instance.case.reference}/{filename}"


class Photo(models.Model):
    """A photo of a case. The original upload is kept private; the public sees the
    processed copies (orientation fixed, metadata stripped, resized)."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="photos"
    )
    original = models.FileField(_("original"), upload_to=photo_path, max_length=300)
    full = models.FileField(_("photo"), upload_to=photo_path, max_length=300, blank=True)
    thumbnail = models.FileField(_("thumbnail"), upload_to=photo_path, max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=PhotoStatus.choices, default=PhotoStatus.PROCESSING
    )
    error = models.CharField(_("error"), max_length=300, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Position read from the photo's EXIF before it was stripped.
    gps_latitude = models.FloatField(null=True, blank=True)
    gps_longitude = models.FloatField(null=True, blank=True)
    is_public = models.BooleanField(_("visible to the public"), default=True)
    is_redacted = models.BooleanField(_("redacted"), default=False)
    sort_order = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.original_name or f"photo {self.pk}"


class Interaction(models.Model):
    """One contact between a citizen and the city on any channel."""

    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    handler = models.CharField(
        _("handled by"), max_length=10, choices=Handler.choices, default=Handler.STAFF
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    # The channel's own id (a call id, a Message-ID) so the same contact is logged once.
    external_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-occurred_at", "-id"], name="interaction_person_idx"),
            models.Index(fields=["case", "-occurred_at"], name="interaction_case_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="interaction_external_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class MapCell(models.Model):
    """Counts of public cases per grid cell of the map, kept up to date by the services.

    A cell of level ``k`` is 2^-k degrees wide; ``category_key`` 0 counts every category.
    The map's clusters for long periods read these rows (a few per visible cell and month)
    instead of grouping hundreds of thousands of cases (see cases.maprollup).
    """

    level = models.PositiveSmallIntegerField()
    category_key = models.PositiveIntegerField()
    month = models.PositiveIntegerField()  # YYYYMM of registration, local time
    cx = models.IntegerField()
    cy = models.IntegerField()
    is_open = models.BooleanField()
    n = models.IntegerField(default=0)
    lat_sum = models.FloatField(default=0)
    lon_sum = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "category_key", "month", "cx", "cy", "is_open"],
                name="mapcell_key",
            )
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.cx},{self.cy} {self.month} n={self.n}"
