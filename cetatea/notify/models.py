"""Messages to citizens (e-mail, SMS) about their cases, with their delivery state."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.notify.choices import Kind, Language, NotifyChannel, NotifyStatus


class NotificationQuerySet(models.QuerySet):
    def due(self, now=None):
        """Queued messages whose next attempt has come (see services.notifications_retry)."""
        return self.filter(status=NotifyStatus.QUEUED, next_attempt_at__lte=now or timezone.now())

    def failed(self):
        return self.filter(status=NotifyStatus.FAILED)


class Notification(models.Model):
    """One message to a citizen about a case, on one channel, to one address.

    Written in the transaction of the change it tells about (so a rolled-back change
    tells nothing) and sent after commit by the background worker; a failed attempt is
    tried again later with backoff until ``CETATEA_NOTIFY_MAX_ATTEMPTS``. A message that
    was sent has its Interaction (channel e-mail or SMS, outbound, handled by the system).
    """

    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # The status change or public reply told about (none for the acknowledgement).
    event = models.ForeignKey(
        "cases.CaseEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=NotifyChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.ROMANIAN
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=10, choices=NotifyStatus.choices, default=NotifyStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The provider's id of the message (an SMS gateway's message sid).
    provider_id = models.CharField(max_length=100, blank=True)
    interaction = models.OneToOneField(
        "cases.Interaction",
        verbose_name=_("interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notification",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at", "-id"], name="notification_case_idx"),
            # The retry run reads only what is queued, oldest attempt first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="queued"),
                name="notification_due_idx",
            ),
        ]
        constraints = [
            # A change is told once per channel, and a case acknowledged once per channel.
            models.UniqueConstraint(
                fields=["event", "channel"],
                condition=models.Q(event__isnull=False),
                name="notification_event_channel_unique",
            ),
            models.UniqueConstraint(
                fields=["case", "channel"],
                condition=models.Q(kind="acknowledgement"),
                name="notification_ack_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_channel_display()} {self.recipient}"


class Preference(models.Model):
    """What a person wants from notifications: the language of the messages.

    Kept here, not on Person, so the people app's schema stays its own; without a row
    a person is written to in Romanian, the city's language.
    """

    person = models.OneToOneField(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.ROMANIAN
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.person_id} {self.language}"
