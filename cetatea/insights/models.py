"""Pre-aggregated counts behind the management overview (docs/insights.md).

The raw tables (cases and their events, interactions, photos, feedback, registry entries,
robot calls) are read only by ``insights_refresh``. It keeps one ``Fact`` per source row
(what that row contributes to the counts) and adds the difference between a row's old and
new contribution to ``Count``; the pages read ``Count`` and ``Snapshot`` only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.IntegerChoices):
    CASE = 1, _("case")
    ENTRY = 2, _("registry entry")
    ROBOT_CALL = 3, _("phone robot call")


class Fact(models.Model):
    """What one source row contributes: its dimension keys and its dated measures.

    ``data`` is ``{"k": {dimension: key}, "m": [[day_ordinal, metric, value], ...]}``; a
    histogram metric's value is a duration in seconds, any other metric's an increment.
    """

    source = models.PositiveSmallIntegerField(choices=Source.choices)
    source_id = models.BigIntegerField()
    data = models.JSONField()

    class Meta:
        verbose_name = _("indicator fact")
        verbose_name_plural = _("indicator facts")
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="insights_fact_source")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.source_id}"


class Grain(models.TextChoices):
    DAY = "d", _("day")
    WEEK = "w", _("week")  # from Monday; the days at the edges of a period read these
    MONTH = "m", _("month")


class Count(models.Model):
    """The sum of one metric over one day or month for one key of one dimension.

    Keys join the department with the other dimension ("12|34": department 12, category
    34), so a department's page and the city's both read one range of one index. A
    histogram metric keeps ``n`` (how many) and ``hist`` (bucket -> how many).
    """

    dim = models.CharField(max_length=8)
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()  # the day, or the first day of the month
    key = models.CharField(max_length=40)
    metric = models.CharField(max_length=16)
    n = models.BigIntegerField(default=0)
    hist = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("indicator count")
        verbose_name_plural = _("indicator counts")
        constraints = [
            models.UniqueConstraint(
                fields=["dim", "grain", "period", "key", "metric"], name="insights_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dim}:{self.key} {self.grain}{self.period} {self.metric}={self.n}"


class Snapshot(models.Model):
    """The state now (as of the last refresh): open and overdue cases, open legal terms.
    Replaced as a whole by each refresh."""

    dim = models.CharField(max_length=8)
    key = models.CharField(max_length=40)
    metric = models.CharField(max_length=16)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("indicator snapshot")
        verbose_name_plural = _("indicator snapshots")
        constraints = [
            models.UniqueConstraint(fields=["dim", "key", "metric"], name="insights_snapshot_key")
        ]

    def __str__(self) -> str:
        return f"{self.dim}:{self.key} {self.metric}={self.n}"


class RefreshState(models.Model):
    """Where the incremental refresh got to: one row, locked while a refresh runs."""

    name = models.CharField(max_length=20, primary_key=True)
    marks = models.JSONField(default=dict)  # table -> the highest id already read
    version = models.PositiveSmallIntegerField(default=0)  # of the fact rules
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    # New at every refresh that changed something: the pages' cache key (selectors).
    token = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("indicator refresh state")
        verbose_name_plural = _("indicator refresh state")
        permissions = [
            ("view_city_dashboard", _("Can see the city's management overview")),
            ("view_department_dashboard", _("Can see their department's overview")),
            ("export_insights", _("Can export the overview's tables")),
        ]

    def __str__(self) -> str:
        return self.name
