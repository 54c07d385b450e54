"""A log of every e-mail that came in, and what became of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.inbox.choices import Outcome, Source


class InboundMessage(models.Model):
    """One processed inbound e-mail, recorded once per Message-ID.

    ``message_id`` is the Message-ID header, or ``sha256:<hash of the raw message>@cetatea``
    when the message has none (or one too long to be a key), so the same message fetched
    twice is recognised. A rejected message is processed again when it comes back.
    """

    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent (Date header)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    # Why an automatic message was recognised as one (the header that said so).
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Parse defects found by the e-mail package (the readable parts were kept).
    defects = models.TextField(_("defects in the message"), blank=True)
    # One entry per attachment: {"name", "size", "kept", "reason"}.
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_messages",
    )

    class Meta:
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="inbound_received_idx"),
            models.Index(fields=["outcome", "-received_at", "-id"], name="inbound_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.get_outcome_display()}"
