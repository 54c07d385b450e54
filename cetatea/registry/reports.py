"""The figures of the registry's legal reports, computed with aggregate queries.

- The semi-annual petitions report (OG 27/2002 art. 12; research §1.7): petitions
  registered in a half-year, by sender, channel and department; answered on time or late,
  still open; extensions (art. 9), forwarding (art. 6^1), filing (art. 7, art. 10(2)) and
  joining (art. 10(1)).
- The annual report on Law 544/2001: requests received, by channel and requester; how
  and when they were answered, refused (with the reasons counted), forwarded or are still
  open; administrative complaints (art. 21).

Each query reads the entries of some document types in a date range, which is the index
``entry_type_idx`` (doc_type, registered_at): a few grouped counts per report, never a
loop over the rows. "Open past the term" is judged on ``today`` (the day the report is
made); an answer is on time when it left (``dispatched_at``, local date) by the term
(``due_date``, which includes an extension).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.catalog.models import Department
from cetatea.core.workdays import local_date
from cetatea.registry.choices import (
    Direction,
    DocRegime,
    EntryStatus,
    EventKind,
    RegistryChannel,
    SenderKind,
)
from cetatea.registry.models import DocumentType, Entry, EntryEvent, RegistryPoint

# The document type of administrative complaints under Law 544/2001 art. 21.
COMPLAINT_544_CODE = "reclamatie-544"
# Refusal reasons listed one by one; the rest are added up in one line.
MAX_REASONS = 20


@dataclass(frozen=True)
class Row:
    label: str
    value: int
    indent: int = 0  # 1: a part of the row above ("of which ...")


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Report:
    """A report's figures, in the language that was active when it was computed."""

    title: str
    period: str
    scope: str
    as_of: dt.date
    sections: list[Section]
    slug: str  # for file names: "petitii-2026-s1"

    def figures(self) -> Iterator[tuple[str, str, int]]:
        """(section, label, value) for every figure: the CSV, one row each."""
        for section in self.sections:
            for row in section.rows:
                yield section.title, row.label, row.value

    def value(self, section: str, label: str) -> int:
        """The figure with this section title and label (tests, templates)."""
        for s, label_, value in self.figures():
            if s == section and label_ == label:
                return value
        raise KeyError((section, label))


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of ``start`` to local midnight after ``end`` (end excluded)."""
    tz = _tz()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def half_dates(year: int, half: int) -> tuple[dt.date, dt.date]:
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    return dt.date(year, 7, 1), dt.date(year, 12, 31)


def _incoming(type_ids: list[int], start: dt.date, end: dt.date) -> QuerySet[Entry]:
    since, until = period_bounds(start, end)
    return Entry.objects.filter(
        doc_type_id__in=type_ids,
        registered_at__gte=since,
        registered_at__lt=until,
        direction=Direction.INCOMING,
    ).order_by()


def _answered_on_time() -> Q:
    return Q(status=EntryStatus.ANSWERED, dispatched_at__date__lte=F("due_date"))


def _answered_late() -> Q:
    return Q(status=EntryStatus.ANSWERED, dispatched_at__date__gt=F("due_date"))


def _unidentified() -> Q:
    """The sender cannot be identified (OG 27/2002 art. 7), as ``registry_entry_register``
    decides it: anonymous, or no person on file and no name with an address or e-mail."""
    return Q(sender_kind=SenderKind.ANONYMOUS) | (
        Q(person__isnull=True) & (Q(sender_name="") | Q(sender_address="", sender_email=""))
    )


def _counts_by(qs: QuerySet[Entry], name: str) -> dict:
    return {row[name]: row["n"] for row in qs.values(name).annotate(n=Count("pk")).order_by()}


def _on_time_events(qs: QuerySet[Entry], kind: str) -> int:
    """Entries of ``qs`` whose ``kind`` event (forwarding, refusal) was within its term:
    the service records ``late`` on the event when it happens."""
    return (
        EntryEvent.objects.filter(entry__in=qs.values("pk"), kind=kind, data__late=False)
        .values("entry_id")
        .distinct()
        .count()
    )


def _sender_rows(qs: QuerySet[Entry]) -> list[Row]:
    counts = _counts_by(qs, "sender_kind")
    return [Row(str(label), counts.get(value, 0)) for value, label in SenderKind.choices]


def _channel_rows(qs: QuerySet[Entry], counts: dict | None = None) -> list[Row]:
    counts = _counts_by(qs, "channel") if counts is None else counts
    return [Row(str(label), counts.get(value, 0)) for value, label in RegistryChannel.choices]


def _department_rows(qs: QuerySet[Entry]) -> list[Row]:
    counts = _counts_by(qs, "department_id")
    names = {d.pk: d.name for d in Department.objects.filter(pk__in=[k for k in counts if k])}
    rows = sorted(
        (Row(names.get(pk, "?"), n) for pk, n in counts.items() if pk is not None),
        key=lambda r: r.label.casefold(),
    )
    if counts.get(None):
        rows.append(Row(_("No department assigned"), counts[None]))
    return rows


def _type_ids(**filters) -> list[int]:
    return list(DocumentType.objects.filter(**filters).values_list("pk", flat=True))


def petitions_report(
    *,
    year: int,
    half: int,
    point: RegistryPoint | None = None,
    today: dt.date | None = None,
) -> Report:
    """The semi-annual report on petitions (OG 27/2002 art. 12) for ``year`` and ``half``
    (1: January–June, 2: July–December), of one registry point or all of them."""
    today = today or local_date(timezone.now())
    start, end = half_dates(year, half)
    qs = _incoming(_type_ids(regime=DocRegime.PETITION), start, end)
    if point is not None:
        qs = qs.filter(book__point=point)
    figures = qs.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=_answered_on_time()),
        late=Count("pk", filter=_answered_late()),
        open_late=Count("pk", filter=Q(status=EntryStatus.OPEN, due_date__lt=today)),
        open_in_term=Count("pk", filter=Q(status=EntryStatus.OPEN) & ~Q(due_date__lt=today)),
        extended=Count("pk", filter=Q(extended_days__gt=0)),
        forwarded=Count("pk", filter=Q(status=EntryStatus.FORWARDED)),
        filed_unidentified=Count(
            "pk", filter=Q(status=EntryStatus.FILED, joined_to__isnull=True) & _unidentified()
        ),
        filed_repeat=Count("pk", filter=Q(status=EntryStatus.FILED, joined_to__isnull=False)),
        filed_other=Count(
            "pk", filter=Q(status=EntryStatus.FILED, joined_to__isnull=True) & ~_unidentified()
        ),
        joined=Count("pk", filter=Q(status=EntryStatus.JOINED)),
    )
    forwarded_in_time = _on_time_events(
        qs.filter(status=EntryStatus.FORWARDED), EventKind.FORWARDED
    )
    half_name = _("first half") if half == 1 else _("second half")
    sections = [
        Section(
            _("Petitions registered"),
            [Row(_("Petitions registered in the period"), figures["total"])],
        ),
        Section(_("By sender"), _sender_rows(qs)),
        Section(_("By channel"), _channel_rows(qs)),
        Section(_("By department solving them"), _department_rows(qs)),
        Section(
            _("Answers and terms"),
            [
                Row(_("Answered within the term"), figures["on_time"]),
                Row(_("Answered after the term"), figures["late"]),
                Row(_("Still open, past the term (late)"), figures["open_late"]),
                Row(_("Still open, within the term (in progress)"), figures["open_in_term"]),
                Row(
                    _("Late in all (answered late or still open past the term)"),
                    figures["late"] + figures["open_late"],
                ),
            ],
        ),
        Section(
            _("Extensions and forwarding"),
            [
                Row(_("Terms extended (art. 9)"), figures["extended"]),
                Row(
                    _("Forwarded to the competent authority (art. 6¹)"),
                    figures["forwarded"],
                ),
                Row(_("of which within 5 days"), forwarded_in_time, indent=1),
            ],
        ),
        Section(
            _("Filed and joined"),
            [
                Row(
                    _("Filed: anonymous or without identification (art. 7)"),
                    figures["filed_unidentified"],
                ),
                Row(
                    _("Filed: the same petition after the answer (art. 10(2))"),
                    figures["filed_repeat"],
                ),
                Row(_("Filed for other reasons"), figures["filed_other"]),
                Row(_("Joined to an earlier petition (art. 10(1))"), figures["joined"]),
            ],
        ),
    ]
    return Report(
        title=_("Report on the petitions of the %(half)s of %(year)d (OG 27/2002 art. 12)")
        % {"half": half_name, "year": year},
        period=_("%(start)s – %(end)s")
        % {"start": start.strftime("%d.%m.%Y"), "end": end.strftime("%d.%m.%Y")},
        scope=point.name if point is not None else _("All registry points"),
        as_of=today,
        sections=sections,
        slug=f"petitii-{year}-s{half}" + (f"-{point.code}" if point is not None else ""),
    )


def info_544_report(*, year: int, today: dt.date | None = None) -> Report:
    """The annual report on the requests for public information (Law 544/2001)."""
    today = today or local_date(timezone.now())
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    qs = _incoming(_type_ids(regime=DocRegime.INFO_544), start, end)
    figures = qs.aggregate(
        total=Count("pk"),
        in_10=Count("pk", filter=_answered_on_time() & Q(extended_days=0)),
        in_30=Count("pk", filter=_answered_on_time() & Q(extended_days__gt=0)),
        late=Count("pk", filter=_answered_late()),
        refused=Count("pk", filter=Q(status=EntryStatus.REFUSED)),
        forwarded=Count("pk", filter=Q(status=EntryStatus.FORWARDED)),
        filed=Count("pk", filter=Q(status=EntryStatus.FILED)),
        joined=Count("pk", filter=Q(status=EntryStatus.JOINED)),
        open_late=Count("pk", filter=Q(status=EntryStatus.OPEN, due_date__lt=today)),
        open_in_term=Count("pk", filter=Q(status=EntryStatus.OPEN) & ~Q(due_date__lt=today)),
        extended=Count("pk", filter=Q(extended_days__gt=0)),
    )
    refused = qs.filter(status=EntryStatus.REFUSED)
    refused_in_time = _on_time_events(refused, EventKind.REFUSED)
    reasons = list(
        refused.values("resolution").annotate(n=Count("pk")).order_by("-n", "resolution")
    )
    reason_rows = [
        Row(r["resolution"][:200] or _("(no reason written)"), r["n"])
        for r in reasons[:MAX_REASONS]
    ]
    if not reasons:
        reason_rows.append(Row(_("No request was refused"), 0))
    if len(reasons) > MAX_REASONS:
        reason_rows.append(Row(_("Other reasons"), sum(r["n"] for r in reasons[MAX_REASONS:])))

    complaints = _incoming(_type_ids(code=COMPLAINT_544_CODE), start, end)
    complaint_figures = complaints.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=_answered_on_time()),
        late=Count("pk", filter=_answered_late()),
        open=Count("pk", filter=Q(status=EntryStatus.OPEN)),
        other=Count("pk", filter=~Q(status__in=[EntryStatus.OPEN, EntryStatus.ANSWERED])),
    )
    paper = (
        RegistryChannel.COUNTER,
        RegistryChannel.POST,
        RegistryChannel.FAX,
        RegistryChannel.COURIER,
    )
    channel_counts = _counts_by(qs, "channel")
    sections = [
        Section(
            _("Requests received"),
            [
                Row(_("Requests for public information received"), figures["total"]),
                Row(
                    _("on paper (counter, post, fax, courier)"),
                    sum(channel_counts.get(c, 0) for c in paper),
                    indent=1,
                ),
                Row(
                    _("electronically (e-mail, web portal)"),
                    sum(
                        channel_counts.get(c, 0)
                        for c in (RegistryChannel.EMAIL, RegistryChannel.WEB)
                    ),
                    indent=1,
                ),
            ],
        ),
        Section(_("By channel"), _channel_rows(qs, channel_counts)),
        Section(_("By requester"), _sender_rows(qs)),
        Section(
            _("Answers"),
            [
                Row(_("Answered within 10 days"), figures["in_10"]),
                Row(_("Answered within 30 days (term extended with notice)"), figures["in_30"]),
                Row(_("Answered after the term"), figures["late"]),
                Row(_("Refused (reasoned)"), figures["refused"]),
                Row(_("of which communicated within 5 days"), refused_in_time, indent=1),
                Row(_("Forwarded to the competent authority"), figures["forwarded"]),
                Row(_("Filed or joined to another request"), figures["filed"] + figures["joined"]),
                Row(_("Still open, within the term"), figures["open_in_term"]),
                Row(_("Still open, past the term"), figures["open_late"]),
                Row(_("Terms extended (notified within 10 days)"), figures["extended"]),
            ],
        ),
        Section(_("Reasons for refusal"), reason_rows),
        Section(
            _("Administrative complaints (art. 21)"),
            [
                Row(_("Complaints received"), complaint_figures["total"]),
                Row(_("Answered within the term"), complaint_figures["on_time"]),
                Row(_("Answered after the term"), complaint_figures["late"]),
                Row(_("Still open"), complaint_figures["open"]),
                Row(_("Closed otherwise (filed, forwarded)"), complaint_figures["other"]),
            ],
        ),
    ]
    return Report(
        title=_("Report on free access to public information in %(year)d (Law 544/2001)")
        % {"year": year},
        period=_("%(start)s – %(end)s")
        % {"start": start.strftime("%d.%m.%Y"), "end": end.strftime("%d.%m.%Y")},
        scope=_("All registry points"),
        as_of=today,
        sections=sections,
        slug=f"legea-544-{year}",
    )
