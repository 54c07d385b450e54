"""GDPR records: which persons were erased (anonymised), when, by whom and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Erasure(models.Model):
    """A person's personal data was erased (anonymised) at their request or by rule.

    The person row itself stays (cases, registry entries and statistics point to it) with
    its name replaced; this row marks it erased, so it is never erased twice and the
    registry's legal records say their sender's record was erased. Irreversible.
    """

    person = models.OneToOneField(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="erasure",
    )
    erased_at = models.DateTimeField(_("erased"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300)
    # How many rows of each kind were changed, removed or kept (no personal data).
    counts = models.JSONField(_("what was done"), default=dict, blank=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-erased_at", "-id"]
        permissions = [
            ("export_person_data", _("Can export all the data about a person")),
            ("erase_person", _("Can erase (anonymise) a person's data")),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.erased_at:%Y-%m-%d}"
