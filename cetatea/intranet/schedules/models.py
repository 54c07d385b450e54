"""Posts to staff, coverage rules, shift patterns, shifts, leave, swaps and calendar feeds.

A *post* is what must be staffed (the call centre, a registry counter, a field crew); a
*shift* puts one person on a post from a start to an end (aware datetimes; the local
clock is Europe/Bucharest, so a night shift across a DST change lasts 7 or 9 hours).
Patterns generate shifts; coverage rules say how many people a post needs and when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import BilingualName
from cetatea.intranet.schedules.choices import (
    OPEN_SWAP_STATUSES,
    LeaveKind,
    LeaveStatus,
    SwapStatus,
)


class Post(BilingualName):
    """Something that must be staffed: a counter, the call centre, a field crew."""

    team = models.ForeignKey(
        "catalog.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["name_ro"]


class CoverageRule(models.Model):
    """At least ``min_staff`` people on ``post`` on these weekdays between two times.

    An end time at or before the start time means the window ends the next day.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="rules")
    weekdays = models.CharField(
        _("weekdays"), max_length=7, default="01234", help_text=_("Monday is 0, Sunday 6.")
    )
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    min_staff = models.PositiveSmallIntegerField(_("minimum staff"), default=1)

    class Meta:
        verbose_name = _("coverage rule")
        verbose_name_plural = _("coverage rules")
        ordering = ["post", "start_time"]

    def __str__(self) -> str:
        hours = f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        return f"{self.post} {self.weekdays} {hours} ≥{self.min_staff}"


class ShiftPattern(models.Model):
    """A repeating shift of a team ("Morning 08–16 Mon–Fri" on a post) for some members."""

    team = models.ForeignKey(
        "catalog.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=100)
    weekdays = models.CharField(
        _("weekdays"), max_length=7, default="01234", help_text=_("Monday is 0, Sunday 6.")
    )
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people"), blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shift pattern")
        verbose_name_plural = _("shift patterns")
        ordering = ["team", "start_time", "name"]

    def __str__(self) -> str:
        return self.name


class ShiftQuerySet(models.QuerySet):
    def live(self):
        return self.filter(is_cancelled=False)

    def overlapping(self, start, end):
        return self.filter(start__lt=end, end__gt=start)


class Shift(models.Model):
    """One person (or nobody yet: an open shift) on a post from ``start`` to ``end``.

    Drafts are seen by planners only; publishing makes them visible to the team and the
    calendar feeds. A generated shift remembers its pattern, day and the member it was
    generated for, so generating again never duplicates it, even after it was edited,
    reassigned or cancelled.
    """

    team = models.ForeignKey(
        "catalog.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+"
    )
    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.PROTECT)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shifts",
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    published = models.BooleanField(_("published"), default=False)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    pattern = models.ForeignKey(
        ShiftPattern, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pattern_day = models.DateField(null=True, blank=True)
    pattern_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Incremented by every edit: an edit made on an old version is refused.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "id"]
        permissions = [("manage_roster", _("Can plan the roster of one's teams"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="shift_end_after_start"
            ),
            models.UniqueConstraint(
                fields=["pattern", "pattern_person", "pattern_day"],
                condition=Q(pattern__isnull=False),
                name="shift_generated_once",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "start"], name="shift_person_start_idx"),
            models.Index(fields=["team", "start"], name="shift_team_start_idx"),
            models.Index(fields=["post", "start"], name="shift_post_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.post} {self.start:%Y-%m-%d %H:%M}"


class Leave(models.Model):
    """A leave request for whole local days, ``start_date`` to ``end_date`` inclusive."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="leaves",
    )
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    kind = models.CharField(_("kind"), max_length=10, choices=LeaveKind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=LeaveStatus.choices, default=LeaveStatus.PENDING
    )
    created_at = models.DateTimeField(_("requested"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("leave")
        verbose_name_plural = _("leave")
        ordering = ["-start_date", "-id"]
        permissions = [("approve_leave", _("Can approve leave requests"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="leave_end_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "status", "start_date"], name="leave_person_idx"),
            models.Index(fields=["status", "created_at"], name="leave_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.start_date}–{self.end_date}"


class Swap(models.Model):
    """A shift offered by its holder to a colleague (or to the whole team)."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="swaps")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Empty: offered to every member of the shift's team.
    offered_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    taker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SwapStatus.choices, default=SwapStatus.OFFERED
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("offered"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("swap")
        verbose_name_plural = _("swaps")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shift"],
                condition=Q(status__in=OPEN_SWAP_STATUSES),
                name="swap_one_open_per_shift",
            ),
        ]
        indexes = [
            models.Index(fields=["offered_to", "status"], name="swap_offered_to_idx"),
            models.Index(fields=["status", "created_at"], name="swap_status_idx"),
            models.Index(fields=["taker", "status"], name="swap_taker_idx"),
        ]

    def __str__(self) -> str:
        return f"swap of {self.shift_id} ({self.status})"


class CalendarFeed(models.Model):
    """A secret URL serving a person's (or a team's) schedule as iCalendar.

    Revoking deletes the row; regenerating replaces the token, so old URLs stop working.
    """

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Empty: the user's own schedule; else the published roster of this team.
    team = models.ForeignKey(
        "catalog.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(team__isnull=True), name="feed_one_personal"
            ),
            models.UniqueConstraint(
                fields=["user", "team"], condition=Q(team__isnull=False), name="feed_one_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"feed of {self.user_id}"
