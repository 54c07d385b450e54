"""Calls reported by the phone system (PBX) through the generic CTI events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cetatea.telephony.choices import HANGUP_CAUSES, CallDirection, CallState


class CallQuerySet(models.QuerySet):
    def live(self):
        return self.filter(state__in=[CallState.RINGING, CallState.ANSWERED])


class Call(models.Model):
    """One call as the PBX reported it: newCall, then perhaps answer, then hangup.

    Numbers are E.164 when they parse as phone numbers; anything else the PBX sends
    (``anonymous``, an internal extension) is kept as given. ``person`` is the citizen
    found by caller ID when the call started (the called number for outgoing calls).
    """

    call_id = models.CharField(_("call id"), max_length=250, unique=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    from_number = models.CharField(_("from"), max_length=40, blank=True)
    to_number = models.CharField(_("to"), max_length=40, blank=True)
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Talking time (answer to hang-up); 0 for a call nobody answered.
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    cause = models.CharField(_("hang-up cause"), max_length=40, blank=True)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("caller"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    # How many active persons have the caller's number (more than one: the operator chooses).
    caller_matches = models.PositiveSmallIntegerField(default=0)
    # The agent names/extensions the PBX offered the call to (``user[]``), as sent.
    agents = models.JSONField(_("offered to"), default=list, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    interaction = models.OneToOneField(
        "cases.Interaction",
        verbose_name=_("interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call",
    )
    # The phone robot call this one continues (the caller chose "operator" after the robot
    # verified their PIN): ``person`` is then the identified caller, not a caller-ID guess.
    robot_call = models.OneToOneField(
        "telephony.RobotCall",
        verbose_name=_("phone robot call"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoff",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["-started_at", "-id"], name="call_log_idx"),
            models.Index(fields=["answered_by", "-started_at", "-id"], name="call_agent_log_idx"),
            # The live screens read only ringing/answered calls: a small partial index.
            models.Index(
                fields=["state", "-started_at"],
                condition=models.Q(state__in=["ringing", "answered"]),
                name="call_live_idx",
            ),
            models.Index(fields=["person", "-started_at"], name="call_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.from_number} → {self.to_number}"

    @property
    def caller_number(self) -> str:
        """The citizen's side of the call."""
        return self.from_number if self.direction == CallDirection.INBOUND else self.to_number

    @property
    def is_missed(self) -> bool:
        return self.state == CallState.ENDED and self.answered_at is None

    @property
    def cause_display(self) -> str:
        return str(HANGUP_CAUSES.get(self.cause, self.cause))


class CallOffer(models.Model):
    """A staff user the PBX offered a call to (one row per ``user[]`` that maps to one)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="offers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()  # the call's, so an agent's ringing calls are one range

    class Meta:
        verbose_name = _("call offer")
        verbose_name_plural = _("call offers")
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="calloffer_unique"),
        ]
        indexes = [models.Index(fields=["user", "-started_at"], name="calloffer_user_idx")]

    def __str__(self) -> str:
        return f"{self.call_id} → {self.user_id}"


class RobotPin(models.Model):
    """The PIN a citizen types to the phone robot (issued or reset by staff).

    Only a password hash is kept (``identity.pin_hash``: salted PBKDF2 over a keyed
    hash), never the digits."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="robot_pin"
    )
    pin_hash = models.CharField(max_length=200, editable=False)
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("phone robot PIN")
        verbose_name_plural = _("phone robot PINs")
        permissions = [("manage_robot_pin", _("Can issue and reset phone robot PINs and unlock"))]

    def __str__(self) -> str:
        return f"PIN of {self.person_id}"


class RobotAttempt(models.Model):
    """One identification attempt at the phone robot (for the lock-outs).

    ``identity_hash`` is the keyed hash of what was typed (CNP or taxpayer account),
    ``caller_hash`` that of the caller ID; neither is reversible."""

    identity_hash = models.CharField(max_length=64)
    caller_hash = models.CharField(max_length=64, blank=True)
    call_id = models.CharField(max_length=250, blank=True)
    success = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["identity_hash", "at"], name="robotattempt_identity_idx"),
            models.Index(fields=["caller_hash", "at"], name="robotattempt_caller_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.identity_hash[:8]} {'ok' if self.success else 'failed'} {self.at}"


class RobotLock(models.Model):
    """The robot refuses an identity after too many failures, until staff unlock it."""

    identity_hash = models.CharField(max_length=64, unique=True)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    locked_at = models.DateTimeField(_("locked"))
    unlocked_at = models.DateTimeField(_("unlocked"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("phone robot lock")
        verbose_name_plural = _("phone robot locks")

    def __str__(self) -> str:
        return f"{self.identity_hash[:8]} locked {self.locked_at}"


class RobotCall(models.Model):
    """One call answered by the phone robot: the KPI record, and the dialog state for
    transports that keep none themselves (the HTTP callback)."""

    call_id = models.CharField(max_length=250, unique=True)
    transport = models.CharField(max_length=20)
    caller_hash = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    language = models.CharField(max_length=2, default="ro")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identified = models.BooleanField(default=False)
    transferred = models.BooleanField(default=False)
    # Menu options used, in order ("taxes", "fines", "petition", "operator").
    options = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=30, blank=True)
    state = models.JSONField(default=dict, blank=True)
    interaction = models.OneToOneField(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("phone robot call")
        verbose_name_plural = _("phone robot calls")
        indexes = [
            models.Index(fields=["started_at"], name="robotcall_started_idx"),
            # The hand-off: the operator's newCall finds the robot call of the same caller.
            models.Index(fields=["caller_hash", "-started_at"], name="robotcall_caller_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.outcome}"
