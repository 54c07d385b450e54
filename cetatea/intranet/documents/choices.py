"""Choices of the intranet's documents: access levels and kinds of document."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    """What a grant allows; a higher level includes the lower ones."""

    VIEW = 1, _("view")
    EDIT = 2, _("edit")
    MANAGE = 3, _("manage")


class Kind(models.TextChoices):
    FILE = "file", _("file")
    MARKDOWN = "markdown", _("Markdown text")


class LinkKind(models.TextChoices):
    CASE = "case", _("case")
    ENTRY = "entry", _("registry entry")
