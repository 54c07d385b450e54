"""Call states, directions and the hang-up causes of the generic CTI API."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("In progress")
    ENDED = "ended", _("Ended")


class CallDirection(models.TextChoices):
    # The same values as cases.choices.Direction, so a call maps to its Interaction as is.
    INBOUND = "in", _("Incoming")
    OUTBOUND = "out", _("Outgoing")


class CtiEvent(models.TextChoices):
    NEW_CALL = "newCall", "newCall"
    ANSWER = "answer", "answer"
    HANGUP = "hangup", "hangup"


# Hang-up causes as Zammad's generic CTI names them. A PBX may send others: they are
# stored as given (a cause is information, not a command) and shown raw.
HANGUP_CAUSES = {
    "normalClearing": _("Normal end"),
    "busy": _("Busy"),
    "cancel": _("Caller hung up before an answer"),
    "noAnswer": _("No answer"),
    "congestion": _("Network congestion"),
    "notFound": _("Number not found"),
    "forwarded": _("Forwarded"),
}
