"""Client applications of the Open311 interface and what they sent.

A key is shown once, when it is made; only its SHA-256 is stored (a random 32-byte key
needs no slow hash), with a short prefix so staff can tell keys apart.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiClient(models.Model):
    """An application allowed to file requests: a mobile app, a FixMyStreet instance."""

    name = models.CharField(_("name"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    key_prefix = models.CharField(_("key begins with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 client application")
        verbose_name_plural = _("Open311 client applications")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def new_key(self) -> str:
        """Give the client a new key (the old one stops working); returns it, to show once."""
        key = secrets.token_urlsafe(32)
        self.key_prefix = key[:8]
        self.key_hash = hash_key(key)
        return key

    def revoke(self) -> None:
        self.is_active = False
        self.revoked_at = timezone.now()


class ApiSubmission(models.Model):
    """A request filed through Open311: which client, what it sent beyond the case."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("client application"), on_delete=models.PROTECT
    )
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="open311"
    )
    # token_urlsafe() gives 43 characters (32 random bytes).
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    idempotency_key = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=64)
    device_id = models.CharField(_("device"), max_length=200, blank=True)
    account_id = models.CharField(_("account at the client"), max_length=200, blank=True)
    media_urls = models.JSONField(_("media URLs"), default=list, blank=True)
    # Attributes that are not questions of the category, such as FixMyStreet's own id.
    extra_attributes = models.JSONField(_("other attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")
        indexes = [
            models.Index(fields=["client", "content_hash", "created_at"], name="o311_repeat_idx")
        ]

    def __str__(self) -> str:
        return f"{self.client} → {self.case_id}"


class ApiUpdate(models.Model):
    """An update a client posted to a request (mySociety's servicerequestupdates)."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("client application"), on_delete=models.PROTECT
    )
    update_id = models.CharField(_("client's update id"), max_length=200)
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE)
    event = models.ForeignKey(
        "cases.CaseEvent", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 update")
        verbose_name_plural = _("Open311 updates")
        constraints = [
            models.UniqueConstraint(fields=["client", "update_id"], name="o311_update_once")
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.update_id}"
