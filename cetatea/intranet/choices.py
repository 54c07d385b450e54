"""Choices of the intranet's own pages."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BodyFormat(models.TextChoices):
    MARKDOWN = "markdown", _("Markdown (headings, lists, links, emphasis)")
    TEXT = "text", _("Plain text")
