"""The citizen's side of the map: "me too", subscriptions, satisfaction, accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Supporter(models.Model):
    """A citizen who has the same problem ("me too") and follows the case instead of
    filing a duplicate."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="supporters"
    )
    email = models.EmailField(_("e-mail"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("supporter")
        verbose_name_plural = _("supporters")
        constraints = [
            models.UniqueConstraint(fields=["case", "email"], name="supporter_once_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.email}"


class Subscription(models.Model):
    """E-mail alerts: the updates of one case, new cases in an area or around a point."""

    class Kind(models.TextChoices):
        CASE = "case", _("Updates of a case")
        AREA = "area", _("New problems in a neighbourhood")
        RADIUS = "radius", _("New problems around a place")

    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    area = models.ForeignKey(
        "catalog.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [
            models.Index(fields=["case"], name="subscription_case_idx"),
            models.Index(fields=["kind", "confirmed_at"], name="subscription_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} {self.kind}"


class Feedback(models.Model):
    """The reporter's answer to "is it fixed?" after closure (kept for the KPIs)."""

    class Fixed(models.TextChoices):
        YES = "yes", _("Yes, it is fixed")
        NO = "no", _("No, it is not fixed")
        UNKNOWN = "unknown", _("I don't know")

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="feedback"
    )
    fixed = models.CharField(_("fixed?"), max_length=10, choices=Fixed.choices)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.UniqueConstraint(fields=["case"], name="feedback_once_per_case"),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="feedback_satisfaction_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.fixed}"


class CitizenAccount(models.Model):
    """A citizen's login (by e-mail link), tied to the Person whose cases it lists."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen_account"
    )
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="accounts")
    email = models.EmailField(_("e-mail"), unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("citizen account")
        verbose_name_plural = _("citizen accounts")

    def __str__(self) -> str:
        return self.email


class EventModeration(models.Model):
    """A moderator's change to a public update: hidden, or its text replaced.

    Case events are append-only; the original text stays on the event, and the change is
    also written to the audit log.
    """

    event = models.OneToOneField(
        "cases.CaseEvent", on_delete=models.CASCADE, related_name="moderation"
    )
    hidden = models.BooleanField(_("hidden"), default=False)
    text = models.TextField(_("text shown instead"), blank=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("moderated update")
        verbose_name_plural = _("moderated updates")

    def __str__(self) -> str:
        return f"{self.event_id} {'hidden' if self.hidden else 'edited'}"
