"""The staff console's own tables: saved queue views and canned responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    """A queue filter a staff member saved under a name (the query string of the queue)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="savedview_user_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A ready-made reply; one without a category is offered for every case."""

    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
    )
    title_ro = models.CharField(_("title (Romanian)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    text_ro = models.TextField(_("text (Romanian)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["sort_order", "title_ro", "id"]
        indexes = [models.Index(fields=["category", "is_active"], name="canned_category_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def _english(self) -> bool:
        return (get_language() or "ro").startswith("en")

    @property
    def title(self) -> str:
        return self.title_en if self._english and self.title_en else self.title_ro

    @property
    def text(self) -> str:
        return self.text_en if self._english and self.text_en else self.text_ro
