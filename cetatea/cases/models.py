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
    Priority,
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
        ]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="case_year_sequence"),
        ]
        indexes = [
            models.Index(fields=["requester", "-registered_at"], name="case_requester_idx"),
            models.Index(fields=["department", "status", "due_at"], name="case_queue_idx"),
            models.Index(fields=["status", "due_at"], name="case_status_due_idx"),
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
        indexes = [models.Index(fields=["case", "-created_at", "-id"], name="caseevent_tl_idx")]

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
