"""Reading the registry: search for clerks, the deadline watch, one entry with access.

Every list is a keyset page over an index: nothing read grows with the size of a book.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL

from cetatea.core.db import NoIndex, filter_unindexed
from cetatea.core.text import fold, name_key, prefix_upper_bound
from cetatea.core.workdays import local_date
from cetatea.registry.models import Entry, RegistryBook
from cetatea.registry.services import parse_number

PAGE_SIZE = 25


@dataclass
class EntryFilters:
    number: str = ""  # "RG-12/2026", or a bare number within the other filters
    sender: str = ""
    text: str = ""  # words of the summary
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    department_id: int | None = None
    point_id: int | None = None
    doc_type_id: int | None = None
    status: str = ""
    direction: str = ""


@dataclass
class EntryPage:
    entries: list[Entry] = field(default_factory=list)
    next_cursor: str = ""


def _cursor(entry: Entry) -> str:
    return json.dumps([entry.registered_at.isoformat(), entry.pk])


def _after(cursor: str) -> tuple[dt.datetime, int] | None:
    """The (registered_at, id) a page ended with (None: not a cursor a page made)."""
    try:
        at_s, pk = json.loads(cursor)
        at = dt.datetime.fromisoformat(at_s)
        pk = int(pk)
    except (ValueError, TypeError, OverflowError):
        return None
    if at.tzinfo is None or not 0 < pk < 2**63:
        return None
    return at, pk


def entry_queryset() -> QuerySet[Entry]:
    return Entry.objects.select_related("book__point", "doc_type", "department")


# Words shorter than this are matched too, but no index finds them (a trigram is 3 letters).
MIN_INDEXED_WORD = 3
# SQLite: a word or a sender prefix with at most this many entries drives the search from
# its index (then the few rows are sorted); a commoner one is checked row by row while
# walking the registration-date index newest first, which soon fills a page.
PROBE_LIMIT = 2000
# SQLite: a point with at most this many entries is read through its books and sorted.
SMALL_POINT = 5000


@dataclass(frozen=True)
class _Book:
    pk: int
    point_id: int
    code: str
    year: int
    size: int


def _books() -> list[_Book]:
    """Every book (a few per point and year): the numbers they reached tell how big a
    point is, and which books can hold a number, without counting entries."""
    return [
        _Book(*row)
        for row in RegistryBook.objects.order_by("pk").values_list(
            "pk", "point_id", "point__code", "year", "last_number"
        )
    ]


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _word_ids(words: list[str], limit: int) -> list[int]:
    """Ids of entries whose summary holds every word, at most ``limit``, read from the
    trigram index (``search.py``) alone.

    SQLite: the FTS5 table. Folded words hold only ``[a-z0-9]``: nothing to escape, and
    there must be no ESCAPE clause (with one, SQLite does not hand the LIKE to the FTS5
    index and scans). PostgreSQL: a bitmap scan of the GIN index, asked for by turning
    the other plans off for this one statement: with several words the planner multiplies
    their frequencies as if they were independent, expects the date order to find a page
    soon and may read the whole book when the words seldom meet."""
    from django.db import connection, transaction

    from cetatea.registry.search import FTS_TABLE

    if any(not w.isalnum() for w in words):
        raise ValueError("folded words only")
    where = " AND ".join(["summary_key LIKE %s"] * len(words))
    params = [*(f"%{w}%" for w in words), limit]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {where} LIMIT %s",  # noqa: S608 (constants)
                params,
            )
            return [row[0] for row in cursor.fetchall()]
    nested = connection.in_atomic_block  # else the commit ends the SET LOCAL
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        try:
            cursor.execute(
                f"SELECT id FROM registry_entry WHERE {where} LIMIT %s",  # noqa: S608 (constants)
                params,
            )
            return [row[0] for row in cursor.fetchall()]
        finally:
            if nested:
                cursor.execute("RESET enable_seqscan; RESET enable_indexscan")


def _id_list(ids: list[int]) -> RawSQL:
    """The ids as one parameter (Django's work per parameter of a long ``IN`` list costs
    more than the database's search here)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


def _sender_count(key: str, limit: int) -> int:
    """SQLite: how many entries have a sender starting with ``key``, counted up to
    ``limit`` in the sender index alone."""
    return (
        Entry.objects.filter(sender_key__gte=key, sender_key__lt=prefix_upper_bound(key))
        .order_by()
        .values_list("sender_key")[:limit]
        .count()
    )


def entry_search(
    filters: EntryFilters, *, cursor: str = "", page_size: int = PAGE_SIZE
) -> EntryPage:
    """Entries matching every filter given, newest first (registered_at, id), one page
    after ``cursor``.

    A page reads at most a few thousand index entries whatever the size of the books: a
    number is one probe of (book, number); a sender prefix is a range of the
    ``sender_key`` index; words of the summary use the trigram index (``search.py``);
    the other filters walk the registration-date index, or their own index when it gives
    the entries in that order (a department, a document type) or when few entries match
    (a rare status, a small point). PostgreSQL's planner chooses among them by its
    statistics; SQLite has none, so on SQLite the search counts (up to ``PROBE_LIMIT``)
    what a word or a sender prefix matches and names the index to use (``NoIndex`` on
    the other conditions). 2–4 queries per page."""
    from django.db import connection

    sqlite = connection.vendor == "sqlite"
    after = None
    if cursor:
        after = _after(cursor)
        if after is None:
            return EntryPage()
    books = _books()
    qs = Entry.objects.all()  # the entries alone: the page's rows are joined at the end
    # Conditions by column: on SQLite only those of the index that should drive the plan
    # stay plain (``serves`` below), the others are hidden from the planner (NoIndex).
    conditions: dict[str, object] = {}
    driver = ""  # the index that drives the plan on SQLite; "": the registration date's

    wanted = books
    if filters.point_id:
        wanted = [b for b in wanted if b.point_id == filters.point_id]
    if filters.date_from:
        wanted = [b for b in wanted if b.year >= filters.date_from.year]
    if filters.date_to:
        wanted = [b for b in wanted if b.year <= filters.date_to.year]

    number = filters.number.strip()
    if number:
        parsed = parse_number(number)
        if parsed is not None:
            code, n, year = parsed
            wanted = [b for b in wanted if b.code == code and b.year == year]
        elif number.isdigit() and len(number) <= 9:
            n = int(number)
        else:
            return EntryPage()
        wanted = [b for b in wanted if b.size >= n]
        if not wanted:
            return EntryPage()
        conditions["book_id__in"] = [b.pk for b in wanted]
        conditions["number"] = n
        driver = "number"
    elif filters.point_id:
        if not any(b.size for b in wanted):
            return EntryPage()
        conditions["book_id__in"] = [b.pk for b in wanted]
        if sum(b.size for b in wanted) <= SMALL_POINT:
            driver = "book"

    key = name_key(filters.sender)
    if key:
        conditions["sender_key__gte"] = key
        conditions["sender_key__lt"] = prefix_upper_bound(key)
        if sqlite and not driver and _sender_count(key, PROBE_LIMIT + 1) <= PROBE_LIMIT:
            driver = "sender"

    words = list(dict.fromkeys(fold(filters.text).split()))
    long_words = [w for w in words if len(w) >= MIN_INDEXED_WORD]
    # SQLite has no statistics; PostgreSQL's are no guide for several words together.
    if long_words and not driver and (sqlite or len(long_words) > 1):
        ids = _word_ids(long_words, PROBE_LIMIT + 1)
        if len(ids) <= PROBE_LIMIT:
            if not ids:
                return EntryPage()
            conditions["pk__in"] = _id_list(ids)
            driver = "words"
    for word in words:  # no index serves a condition on a part of a column here
        qs = qs.filter(summary_key__contains=word)

    if filters.date_from:
        conditions["registered_at__gte"] = _local_midnight(filters.date_from)
    if filters.date_to:
        conditions["registered_at__lt"] = _local_midnight(filters.date_to + dt.timedelta(days=1))
    if filters.status:
        conditions["status"] = filters.status
        if not driver:
            driver = "status"
    if filters.doc_type_id:
        conditions["doc_type_id"] = filters.doc_type_id
        if not driver:
            driver = "doc_type"
    if filters.department_id:
        conditions["department_id"] = filters.department_id
        if not driver:
            driver = "department"
    if filters.direction:
        conditions["direction"] = filters.direction

    dates = {"registered_at__gte", "registered_at__lt"}
    serves = {
        "": dates,
        "number": {"book_id__in", "number"},
        "book": {"book_id__in"},
        "sender": {"sender_key__gte", "sender_key__lt"},
        "words": {"pk__in"},
        "status": {"status", *dates},
        "doc_type": {"doc_type_id", *dates},
        "department": {"department_id", *dates},
    }[driver]
    plain = {k: v for k, v in conditions.items() if not sqlite or k in serves}
    hidden = {k: v for k, v in conditions.items() if k not in plain}
    if plain:
        qs = qs.filter(**plain)
    if hidden:
        qs = filter_unindexed(qs, **hidden)
    if after is not None:
        at, pk = after
        # (registered_at, id) < (at, pk), with a bound the date index can seek to.
        if sqlite and "registered_at__gte" not in serves:
            qs = filter_unindexed(qs, registered_at__lte=at)
        else:
            qs = qs.filter(registered_at__lte=at)
        qs = qs.alias(
            unindexed_at=NoIndex(F("registered_at")), unindexed_pk=NoIndex(F("pk"))
        ).filter(Q(unindexed_at__lt=at) | Q(unindexed_pk__lt=pk))
    # Choose the page's ids from the entries alone, then join the few rows chosen to their
    # book, point, type and department: a join before the sort would be done for every
    # candidate (a sender prefix or a word can match a thousand entries).
    ids = qs.order_by("-registered_at", "-pk").values("pk")[: page_size + 1]
    rows = list(entry_queryset().filter(pk__in=ids).order_by("-registered_at", "-pk"))
    page = rows[:page_size]
    return EntryPage(
        entries=page, next_cursor=_cursor(page[-1]) if len(rows) > page_size and page else ""
    )


def deadline_watch(
    *,
    department_id: int | None = None,
    today: dt.date | None = None,
    soon_days: int | None = None,
    limit: int = 50,
) -> dict[str, list[Entry]]:
    """Open entries past their term and those whose term ends within ``soon_days``
    (default ``CETATEA_REGISTRY_ALERT_DAYS``), soonest first: each list is a range of a
    partial index of the open entries (``entry_open_due_idx``, or
    ``entry_open_dept_due_idx`` for one department), at most ``limit`` rows."""
    from django.utils import timezone

    today = today or local_date(timezone.now())
    if soon_days is None:
        soon_days = settings.CETATEA_REGISTRY_ALERT_DAYS
    qs = entry_queryset().open().filter(due_date__isnull=False)
    if department_id:
        qs = qs.filter(department_id=department_id)
    overdue = list(qs.filter(due_date__lt=today).order_by("due_date", "pk")[:limit])
    soon = list(
        qs.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=soon_days)).order_by(
            "due_date", "pk"
        )[:limit]
    )
    return {"overdue": overdue, "soon": soon}


@dataclass
class DepartmentTerms:
    """How many open entries of a department are past their term, and ending soon."""

    department_id: int | None
    department_name: str
    overdue: int
    soon: int


def deadline_summary(
    *, today: dt.date | None = None, soon_days: int | None = None
) -> list[DepartmentTerms]:
    """Per department, the open entries past their term and those ending within
    ``soon_days``: one grouped read of the open entries' term index, most overdue first."""
    from django.db.models import Count
    from django.utils import timezone

    from cetatea.catalog.models import Department

    today = today or local_date(timezone.now())
    if soon_days is None:
        soon_days = settings.CETATEA_REGISTRY_ALERT_DAYS
    rows = list(
        Entry.objects.open()
        .filter(due_date__isnull=False, due_date__lte=today + dt.timedelta(days=soon_days))
        .order_by()
        .values("department_id")
        .annotate(
            overdue=Count("pk", filter=Q(due_date__lt=today)),
            soon=Count("pk", filter=Q(due_date__gte=today)),
        )
    )
    names = {
        d.pk: d.name for d in Department.objects.filter(pk__in=[r["department_id"] for r in rows])
    }
    out = [
        DepartmentTerms(
            department_id=r["department_id"],
            department_name=names.get(r["department_id"], ""),
            overdue=r["overdue"],
            soon=r["soon"],
        )
        for r in rows
    ]
    return sorted(out, key=lambda t: (-t.overdue, -t.soon, t.department_name))


# --- who may read what (the clerk pages, views.py) ------------------------------------------
# Clerks read the books of the registry points they belong to; a department's staff read the
# entries assigned to their department; managers and administrators read everything.


@dataclass(frozen=True)
class RegistryScope:
    """The part of the registry a user may read."""

    everything: bool = False
    point_ids: tuple[int, ...] = ()
    department_id: int | None = None

    def covers(self, entry: Entry) -> bool:
        if self.everything:
            return True
        if entry.book.point_id in self.point_ids:
            return True
        if self.department_id is not None and entry.department_id == self.department_id:
            return True
        return False

    def q(self) -> Q | None:
        """The scope as a filter (None: everything)."""
        if self.everything:
            return None
        allowed = Q(pk__in=[])
        if self.point_ids:
            allowed |= Q(book__point_id__in=self.point_ids)
        if self.department_id is not None:
            allowed |= Q(department_id=self.department_id)
        return allowed


def access_registry(user) -> None:
    """PermissionDenied unless ``user`` may open the registry's staff pages."""
    from django.core.exceptions import PermissionDenied

    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("registry.view_entry"):
        raise PermissionDenied


def _reads_everything(user) -> bool:
    from cetatea.core import roles

    if user.is_superuser:
        return True
    return user.groups.filter(name__in=[roles.MANAGER, roles.ADMINISTRATOR]).exists()


def registry_scope(user) -> RegistryScope:
    """What ``user`` may read (after ``access_registry``)."""
    from cetatea.catalog.models import StaffProfile
    from cetatea.registry.models import RegistryPoint

    access_registry(user)
    if _reads_everything(user):
        return RegistryScope(everything=True)
    point_ids: tuple[int, ...] = ()
    if user.has_perm("registry.add_entry"):
        point_ids = tuple(
            RegistryPoint.objects.filter(clerks=user).order_by("pk").values_list("pk", flat=True)
        )
    department_id = (
        StaffProfile.objects.filter(user=user).values_list("department_id", flat=True).first()
    )
    return RegistryScope(point_ids=point_ids, department_id=department_id)


def registry_points_for(user):
    """The active points where ``user`` registers documents: their own (``clerks``), or
    every one for administrators."""
    from cetatea.registry.models import RegistryPoint

    points = RegistryPoint.objects.filter(is_active=True).select_related("department")
    if not user.has_perm("registry.add_entry"):
        return points.none()
    if _reads_everything(user):
        return points
    return points.filter(clerks=user)


def access_entry(user, entry_id: int) -> Entry:
    """The entry, if ``user`` may read it; else PermissionDenied or Http404."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    scope = registry_scope(user)
    entry = (
        entry_queryset()
        .select_related(
            "archive_item",
            "person",
            "case",
            "registered_by",
            "answers__book__point",
            "joined_to__book__point",
        )
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise Http404
    if not scope.covers(entry):
        raise PermissionDenied
    return entry


def access_entry_file(user, file_id: int):
    """A scan of an entry ``user`` may read, if they may also download files."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from cetatea.registry.models import EntryFile

    access_registry(user)
    row = EntryFile.objects.filter(pk=file_id).only("pk", "entry_id").first()
    if row is None:
        raise Http404
    if not user.has_perm("registry.view_entryfile"):
        raise PermissionDenied
    access_entry(user, row.entry_id)
    return EntryFile.objects.get(pk=file_id)


def deadline_watch_scoped(
    *,
    scope: RegistryScope,
    department_id: int | None = None,
    today: dt.date | None = None,
    soon_days: int = 3,
    limit: int = 50,
) -> dict[str, list[Entry]]:
    """``deadline_watch`` limited to what a clerk or a department's staff may read."""
    from django.utils import timezone

    allowed = scope.q()
    if allowed is None:
        return deadline_watch(
            department_id=department_id, today=today, soon_days=soon_days, limit=limit
        )
    today = today or local_date(timezone.now())
    qs = entry_queryset().open().filter(due_date__isnull=False).filter(allowed)
    if department_id:
        qs = qs.filter(department_id=department_id)
    overdue = list(qs.filter(due_date__lt=today).order_by("due_date", "pk")[:limit])
    soon = list(
        qs.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=soon_days)).order_by(
            "due_date", "pk"
        )[:limit]
    )
    return {"overdue": overdue, "soon": soon}
