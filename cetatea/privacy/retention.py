"""Retention rules: personal data kept for a term, then cleared by ``apply_retention``.

Each rule names its setting (days; 0 keeps the data), finds the rows past the term and
clears them in batches of ids (bounded memory, short transactions). A row cleared once
no longer matches, so running the command again does nothing: it is idempotent.
Rows are cleared, not deleted, where they are counted in statistics (robot calls, the
e-mail log, closed cases); log rows that are nothing but personal data are deleted.
The audit log has no rule: it is kept (docs/privacy.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

BATCH = 1000


@dataclass(frozen=True)
class Rule:
    key: str
    setting: str
    description: str
    # (cutoff) -> the queryset of rows past the term still holding the data
    rows: Callable[[dt.datetime], models.QuerySet | None]
    # (queryset of one batch) -> rows changed
    clear: Callable[[models.QuerySet], int]


@dataclass
class Outcome:
    key: str
    days: int
    count: int
    skipped: str = ""


def _robot_calls(cutoff):
    from cetatea.telephony.models import RobotCall

    return RobotCall.objects.filter(started_at__lt=cutoff).filter(~Q(caller_hash="") | ~Q(state={}))


def _robot_attempts(cutoff):
    from cetatea.telephony.models import RobotAttempt

    return RobotAttempt.objects.filter(at__lt=cutoff)


def _reporter_contacts(cutoff):
    from cetatea.cases.models import Case

    # Closed cases of reporters with no person record: the contact fields are all the
    # city has of them, and a closed case no longer needs them.
    return (
        Case.objects.closed()
        .filter(requester__isnull=True, closed_at__lt=cutoff)
        .filter(~Q(contact_name="") | ~Q(contact_email="") | ~Q(contact_phone=""))
    )


def _inbound(cutoff):
    from cetatea.inbox.models import InboundMessage

    return InboundMessage.objects.filter(received_at__lt=cutoff).filter(
        ~Q(from_address="") | ~Q(from_name="") | ~Q(subject="")
    )


def sign_in_model():
    """accounts.SignIn, when that app is installed (looked up by label: it may not be)."""
    try:
        return apps.get_model("accounts", "SignIn")
    except LookupError:
        return None


def _time_field(model) -> str | None:
    for name in ("time", "at", "created_at", "occurred_at", "signed_in_at", "timestamp"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.DateTimeField):
            return name
    return None


def _sign_ins(cutoff):
    model = sign_in_model()
    if model is None:
        return None
    field = _time_field(model)
    if field is None:
        return None
    return model.objects.filter(**{f"{field}__lt": cutoff})


def _delete(qs) -> int:
    return qs.delete()[0]


RULES = [
    Rule(
        "robot_calls",
        "CETATEA_RETENTION_ROBOT_CALL_DAYS",
        "phone robot calls: caller hash and dialog state (typed digits) cleared",
        _robot_calls,
        lambda qs: qs.update(caller_hash="", state={}),
    ),
    Rule(
        "robot_attempts",
        "CETATEA_RETENTION_ROBOT_CALL_DAYS",
        "phone robot identification attempts deleted",
        _robot_attempts,
        _delete,
    ),
    Rule(
        "reporter_contacts",
        "CETATEA_RETENTION_REPORTER_CONTACT_DAYS",
        "contact details of unregistered reporters on closed cases cleared",
        _reporter_contacts,
        lambda qs: qs.update(contact_name="", contact_email="", contact_phone="", show_name=False),
    ),
    Rule(
        "inbound_emails",
        "CETATEA_RETENTION_INBOUND_EMAIL_DAYS",
        "inbound e-mail log: sender, name and subject cleared",
        _inbound,
        lambda qs: qs.update(from_address="", from_name="", subject=""),
    ),
    Rule(
        "sign_ins",
        "CETATEA_RETENTION_SIGN_IN_DAYS",
        "sign-in log rows deleted",
        _sign_ins,
        _delete,
    ),
]


def apply_rule(rule: Rule, *, now: dt.datetime | None = None, dry_run: bool = False) -> Outcome:
    """Apply one rule: the rows past its term, cleared batch by batch."""
    days = int(getattr(settings, rule.setting))
    if days <= 0:
        return Outcome(rule.key, days, 0, skipped="kept (term 0)")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    qs = rule.rows(cutoff)
    if qs is None:
        return Outcome(rule.key, days, 0, skipped="not installed")
    if dry_run:
        return Outcome(rule.key, days, qs.count())
    done, last = 0, 0
    model = qs.model
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return Outcome(rule.key, days, done)
        with transaction.atomic():
            done += rule.clear(model._default_manager.filter(pk__in=ids))
        last = ids[-1]


def apply_all(*, now: dt.datetime | None = None, dry_run: bool = False) -> list[Outcome]:
    return [apply_rule(rule, now=now, dry_run=dry_run) for rule in RULES]
