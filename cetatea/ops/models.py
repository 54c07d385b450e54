"""Operations: the record of backups (docs/operations.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRun(models.Model):
    """One successful ``manage.py backup``: what /metrics reports as the last backup.

    Written after the archive is in place (so the archive itself holds the runs before
    it); a restore brings back the runs of the installation it came from.
    """

    finished_at = models.DateTimeField(_("finished"))
    archive = models.CharField(_("archive"), max_length=300)
    size_bytes = models.PositiveBigIntegerField(_("size"))
    seconds = models.FloatField(_("duration (s)"))

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        indexes = [models.Index(fields=["-finished_at"], name="ops_backup_finished_idx")]

    def __str__(self) -> str:
        return self.archive
