"""Deadline alerts: a daily digest per department of the entries about to miss their
legal term and of those past it (``manage.py registry_alerts``, run from a timer).

The digest goes to the department's address (``Department.email``) and to the clerks of
the registry points the entries were registered at: the public-relations compartment
follows up the solving of every petition (OG 27/2002 art. 6(3), research §1.2). It names
each entry by its number, type and term only (no sender, no summary): a clerk of one
point may read another point's numbers in a department's digest, nothing more.

Each alerted entry gets an ``EntryEvent(kind="alert")`` written in the transaction that
schedules the mail (``on_commit``), so a second run on the same (local) day finds the
events and sends nothing; the next day, entries still open are alerted again. Runs at
the same moment queue on the entries' rows (``SELECT ... FOR UPDATE``; on SQLite the
write transactions are serial anyway).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cetatea.catalog.models import Department
from cetatea.core import workdays
from cetatea.registry.choices import EventKind
from cetatea.registry.models import Entry, EntryEvent

logger = logging.getLogger(__name__)

# Entries listed in one mail; the rest are counted, and are on the deadlines page.
MAIL_LIST_LIMIT = 200


@dataclass
class Digest:
    """One department's alert: the entries (past their term first) and who is told."""

    department: Department | None
    recipients: list[str]
    entries: list[Entry]
    today: dt.date

    @property
    def department_name(self) -> str:
        """In the active language (the mail is written in the site's language)."""
        return self.department.name if self.department else _("no department")

    @property
    def overdue(self) -> list[Entry]:
        return [e for e in self.entries if e.due_date < self.today]

    @property
    def soon(self) -> list[Entry]:
        return [e for e in self.entries if e.due_date >= self.today]


@dataclass
class AlertRun:
    today: dt.date
    digests: list[Digest] = field(default_factory=list)
    already_alerted: int = 0  # entries alerted earlier the same day: nothing sent again

    @property
    def alerted(self) -> int:
        return sum(len(d.entries) for d in self.digests)

    @property
    def mails(self) -> int:
        return sum(1 for d in self.digests if d.recipients)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of ``day`` and of the next day, as aware date-times."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return (
        dt.datetime.combine(day, dt.time(0), tzinfo=tz),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz),
    )


def days_left_text(due: dt.date, today: dt.date) -> str:
    """``in 3 days`` / ``today`` / ``2 days late``."""
    days = (due - today).days
    if days > 0:
        return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    if days == 0:
        return _("the term ends today")
    return ngettext("%(n)d day late", "%(n)d days late", -days) % {"n": -days}


def _clerk_emails(point_ids: set[int]) -> list[str]:
    User = get_user_model()
    return list(
        User.objects.filter(registry_points__in=point_ids, is_active=True)
        .exclude(email="")
        .order_by()
        .values_list("email", flat=True)
        .distinct()
    )


def _candidates(horizon: dt.date):
    return (
        Entry.objects.open()
        .filter(due_date__isnull=False, due_date__lte=horizon)
        .order_by("due_date", "pk")
    )


def registry_deadline_alerts(
    *, now: dt.datetime | None = None, soon_days: int | None = None, dry_run: bool = False
) -> AlertRun:
    """Alert, once per (local) day, every open entry whose term ends within ``soon_days``
    days (``CETATEA_REGISTRY_ALERT_DAYS``) or has passed: one digest per department.

    ``dry_run`` builds the digests and writes and sends nothing."""
    now = now or timezone.now()
    if soon_days is None:
        soon_days = settings.CETATEA_REGISTRY_ALERT_DAYS
    if soon_days < 0:
        raise ValidationError(_("The alert window must be zero or more days."))
    today = workdays.local_date(now)
    start, end = day_bounds(today)
    run = AlertRun(today=today)
    horizon = today + dt.timedelta(days=soon_days)
    department_ids = sorted(
        set(_candidates(horizon).order_by().values_list("department_id", flat=True)),
        key=lambda d: (d is None, d or 0),
    )
    for department_id in department_ids:
        with transaction.atomic():
            rows = _candidates(horizon).filter(department_id=department_id)
            if not dry_run:
                rows = rows.select_for_update(of=("self",))
            entries = list(rows.select_related("book__point", "doc_type", "department"))
            done = set(
                EntryEvent.objects.filter(
                    kind=EventKind.ALERT,
                    entry_id__in=[e.pk for e in entries],
                    created_at__gte=start,
                    created_at__lt=end,
                ).values_list("entry_id", flat=True)
            )
            run.already_alerted += len(done)
            fresh = [e for e in entries if e.pk not in done]
            if not fresh:
                continue
            department = fresh[0].department
            recipients = _clerk_emails({e.book.point_id for e in fresh})
            if department is not None and department.email:
                recipients = [department.email, *[r for r in recipients if r != department.email]]
            digest = Digest(
                department=department,
                recipients=recipients,
                entries=fresh,
                today=today,
            )
            run.digests.append(digest)
            if dry_run:
                continue
            EntryEvent.objects.bulk_create(
                [
                    EntryEvent(
                        entry=entry,
                        kind=EventKind.ALERT,
                        text=_("Deadline alert: term %(due)s, %(left)s.")
                        % {
                            "due": entry.due_date.strftime("%d.%m.%Y"),
                            "left": days_left_text(entry.due_date, today),
                        },
                        data={
                            "day": today.isoformat(),
                            "due": entry.due_date.isoformat(),
                            "days_left": (entry.due_date - today).days,
                            "recipients": recipients,
                        },
                        created_at=now,
                    )
                    for entry in fresh
                ]
            )
            if recipients:
                transaction.on_commit(partial(_send, digest), robust=True)
    return run


def digest_subject(digest: Digest) -> str:
    return _("[Registry] Terms: %(late)d late, %(soon)d ending soon — %(department)s") % {
        "late": len(digest.overdue),
        "soon": len(digest.soon),
        "department": digest.department_name,
    }


def digest_body(digest: Digest) -> str:
    lines = [
        _("Registry entries of %(department)s whose legal term has passed or ends soon:")
        % {"department": digest.department_name},
        "",
    ]
    for title, group in ((_("Past the term"), digest.overdue), (_("Ending soon"), digest.soon)):
        if not group:
            continue
        lines.append(f"{title} ({len(group)}):")
        for entry in group[:MAIL_LIST_LIMIT]:
            left = days_left_text(entry.due_date, digest.today)
            lines.append(
                f"  {entry.display_number}  {entry.doc_type.name}  "
                f"{_('term')} {entry.due_date:%d.%m.%Y}  {left}"
            )
        if len(group) > MAIL_LIST_LIMIT:
            lines.append("  " + _("… and %(n)d more.") % {"n": len(group) - MAIL_LIST_LIMIT})
        lines.append("")
    url = settings.CETATEA_SITE_URL.rstrip("/") + reverse("registry:deadlines")
    lines.append(_("The deadline watch: %(url)s") % {"url": url})
    return "\n".join(lines)


def _send(digest: Digest) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = digest_subject(digest), digest_body(digest)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, digest.recipients)
    except Exception:  # the alert is recorded; a mail server outage is logged
        logger.exception("Registry deadline digest for %s was not sent", digest.department_name)
