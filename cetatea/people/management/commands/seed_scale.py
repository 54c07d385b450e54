"""Generate a large synthetic population fast, for benchmarks and load tests.

``manage.py seed_scale --persons 1000000 --cases 100000`` writes persons (with contact
points, an address and their "created" event) and cases (with their "created" event
and the intake interaction) with ``bulk_create`` in batches, one transaction per batch.
It bypasses the service functions for speed but writes exactly what they would write:
national ids encrypted, hashed and masked with ``cetatea.core.crypto``, name keys from
``cetatea.core.text.name_key``, phones in E.164, cases routed with the catalogue's
``category_route``, due times from ``cetatea.cases.due``, references from
``case_reference`` with sequences taken from the ``Counter`` rows (so ``case_create``
continues after them).

National ids, phones and e-mails are derived from a running index through bijections,
so every index gives a distinct valid CNP (birth date 1940-2006, county 01-46, sequence
001-999), a distinct mobile number and a distinct e-mail address. Indexes continue from
the number of persons already stored, and ids already present are skipped, so the
command can be run again to add more.

Cases look like a city's history for the public map: registered evenly over the last
``--case-years`` (5) years, so the map's default 90-day window holds about 5 % of them;
channels as in ``seed_demo`` (mostly map, phone, Open311, web); problems with a place
(every category but the desk ones) get a point in the city box (lat 46.04-46.10,
lon 23.54-23.61), denser in the residential neighbourhoods, always inside an ``Area``
(the area is set and routes the case); most of those are public (``publication``),
desk requests are private. Cases older than their resolution time (median 8 days, a
long tail) are closed (fixed, not responsible, duplicate, ...) with ``closed_at`` and
the status event; the others, and a 4 % backlog, are in an open state. The map's
pre-aggregated cells (``MapCell``) are rebuilt at the end (``maprollup.rebuild``).
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import random
import time
from typing import NamedTuple

import shapely
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone
from stdnum.ro import cnp as stdnum_cnp
from stdnum.ro import cui as stdnum_cui

from cetatea.cases.choices import CLOSED_STATUSES, Channel, Direction, Handler, Status
from cetatea.core import crypto
from cetatea.core.text import name_key
from cetatea.people.management.commands.seed_demo import (
    CASE_TEXTS,
    CATEGORY_WEIGHTS,
    DESK_CATEGORIES,
    EMAIL_DOMAINS,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    LAT_RANGE,
    LON_RANGE,
    MALE_FIRST_NAMES,
    ORGANISATION_NAMES,
    PUBLIC_REPLIES,
    STREETS,
    ascii_fold,
    channel_for,
    handler_for,
)

# --- Bijections from an index to identifiers ----------------------------------------------
_FIRST_DAY = dt.date(1940, 1, 1)
_DAYS = (dt.date(2006, 12, 31) - _FIRST_DAY).days + 1
_COUNTIES = 46
_SEQUENCES = 999
CNP_SPACE = _DAYS * _COUNTIES * _SEQUENCES  # about 1.1 billion distinct CNPs
_CNP_MULT = 1_000_003  # a prime not dividing CNP_SPACE: i -> i * m mod n is a bijection
MOBILE_SPACE = 60 * 1_000_000  # +40 720 000 000 .. +40 779 999 999
_MOBILE_MULT = 7_368_787
CUI_SPACE = 40_000_000
_CUI_MULT = 9_999_991
assert math.gcd(_CNP_MULT, CNP_SPACE) == 1
assert math.gcd(_MOBILE_MULT, MOBILE_SPACE) == 1
assert math.gcd(_CUI_MULT, CUI_SPACE) == 1

ORGANISATION_SHARE = 0.01
_ORG_SUFFIXES = ["SRL", "SA", "SRL-D", "PFA", "II"]
_ORG_WORDS = [
    "Apulum",
    "Cetatea",
    "Ardealul",
    "Ampoi",
    "Mureș",
    "Transilvania",
    "Carolina",
    "Partoș",
    "Oarda",
    "Micești",
    "Gemina",
    "Unirea",
    "Bastion",
    "Dacia",
]
_ORG_TRADES = [
    "Construct",
    "Trans",
    "Invest",
    "Service",
    "Impex",
    "Med",
    "Agro",
    "Tur",
    "Consult",
    "Design",
    "Food",
    "Auto",
]


def cnp_for_index(index: int, male: bool) -> str:
    """The CNP of synthetic person ``index`` (distinct for 0 <= index < CNP_SPACE)."""
    x = (index * _CNP_MULT) % CNP_SPACE
    born = _FIRST_DAY + dt.timedelta(days=x % _DAYS)
    rest = x // _DAYS
    county = rest % _COUNTIES + 1
    sequence = rest // _COUNTIES + 1
    sex = ("1" if male else "2") if born.year < 2000 else ("5" if male else "6")
    body = f"{sex}{born:%y%m%d}{county:02d}{sequence:03d}"
    return body + stdnum_cnp.calc_check_digit(body)


def mobile_for_index(index: int) -> str:
    """E.164 mobile number of synthetic person ``index`` (distinct below MOBILE_SPACE)."""
    x = (index * _MOBILE_MULT + 12_345) % MOBILE_SPACE
    return f"+40{720 + x // 1_000_000}{x % 1_000_000:06d}"


def cui_for_index(index: int) -> str:
    body = str(1_000_000 + (index * _CUI_MULT) % CUI_SPACE)
    return body + stdnum_cui.calc_check_digit(body)


class PersonRow(NamedTuple):
    kind: str
    first_name: str
    last_name: str
    name_key: str
    name_key_rev: str
    national_id_kind: str
    national_id_encrypted: str
    national_id_hash: str
    national_id_masked: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    address: tuple[str, str, str, str]  # street, number, details, kind


def _names(weighted_names):
    return [n for n, _w in weighted_names], [w for _n, w in weighted_names]


_LAST, _LAST_W = _names(LAST_NAMES)
_MALE, _MALE_W = _names(MALE_FIRST_NAMES)
_FEMALE, _FEMALE_W = _names(FEMALE_FIRST_NAMES)


def person_rows(start: int, count: int, seed: int) -> list[PersonRow]:
    """Rows for indexes ``start .. start+count-1``; a pure function of its arguments, so
    it gives the same rows in a worker process as in the main one."""
    rng = random.Random(seed * 1_000_003 + start)
    rows = []
    encrypt, lookup_hash, mask = crypto.encrypt, crypto.lookup_hash, crypto.mask
    for index in range(start, start + count):
        if rng.random() < ORGANISATION_SHARE:
            name = (
                rng.choice(ORGANISATION_NAMES)
                if rng.random() < 0.1
                else f"{rng.choice(_ORG_WORDS)} {rng.choice(_ORG_TRADES)} "
                f"{rng.choice(_ORG_SUFFIXES)}"
            )
            nid = cui_for_index(index)
            key = name_key(name)
            rows.append(
                PersonRow(
                    "organisation",
                    "",
                    name,
                    key,
                    key,
                    "cui",
                    encrypt(nid),
                    lookup_hash(nid),
                    mask(nid),
                    (f"+40258{rng.randint(800_000, 899_999)}",),
                    (f"contact{index}@{rng.choice(EMAIL_DOMAINS)}",),
                    (rng.choice(STREETS), str(rng.randint(1, 120)), "", "seat"),
                )
            )
            continue
        male = rng.random() < 0.48
        if male:
            first = rng.choices(_MALE, _MALE_W)[0]
        else:
            first = rng.choices(_FEMALE, _FEMALE_W)[0]
        last = rng.choices(_LAST, _LAST_W)[0]
        nid = cnp_for_index(index, male)
        phones: tuple[str, ...] = ()
        if rng.random() < 0.93:
            phones = (mobile_for_index(index),)
        if rng.random() < 0.15:
            phones += (f"+40258{rng.randint(800_000, 899_999)}",)
        emails: tuple[str, ...] = ()
        if rng.random() < 0.3:
            emails = (
                f"{ascii_fold(first)}.{ascii_fold(last)}.{index}@{rng.choice(EMAIL_DOMAINS)}",
            )
        details = (
            f"bl. {rng.choice('ABCDEFGHMPR')}{rng.randint(1, 30)}, sc. {rng.choice('ABCD')}, "
            f"ap. {rng.randint(1, 60)}"
            if rng.random() < 0.6
            else ""
        )
        rows.append(
            PersonRow(
                "individual",
                first,
                last,
                name_key(last, first),
                name_key(first, last),
                "cnp",
                encrypt(nid),
                lookup_hash(nid),
                mask(nid),
                phones,
                emails,
                (rng.choice(STREETS), str(rng.randint(1, 120)), details, "domicile"),
            )
        )
    return rows


# --- Cases ----------------------------------------------------------------------------------
# Where problems are reported: around the centres of the residential neighbourhoods
# (weight, standard deviation in degrees), the rest anywhere in the city box.
HOTSPOTS = [
    # (lat, lon, weight, sd)
    (46.0678, 23.5696, 14, 0.0040),  # Cetate
    (46.0703, 23.5803, 12, 0.0030),  # Centru
    (46.0786, 23.5816, 10, 0.0030),  # Ampoi I
    (46.0851, 23.5934, 9, 0.0040),  # Ampoi II
    (46.0902, 23.5776, 8, 0.0040),  # Ampoi III
    (46.0811, 23.5702, 8, 0.0040),  # Tolstoi
    (46.0737, 23.5919, 6, 0.0030),  # Mercur
    (46.0769, 23.5608, 6, 0.0040),  # Carolina
    (46.0614, 23.5803, 5, 0.0030),  # Stadion
    (46.0536, 23.5692, 5, 0.0050),  # Maieri
    (46.0750, 23.5480, 4, 0.0050),  # Orizont
    (46.0532, 23.5506, 4, 0.0060),  # Schit
    (46.0500, 23.5950, 4, 0.0060),  # Partoș
    (46.0600, 23.6000, 3, 0.0050),  # Lipoveni
]
_HOTSPOT_WEIGHTS = [h[2] for h in HOTSPOTS]
HOTSPOT_SHARE = 0.7
# Channels where city staff type the case in (and may keep it off the public map).
STAFF_CHANNELS = frozenset({"phone", "email", "counter", "letter", "robot"})
# Resolution time: lognormal in days (median e**mu = 8 days); a share is never closed.
RESOLUTION_MU = math.log(8)
RESOLUTION_SIGMA = 1.2
BACKLOG_SHARE = 0.04
CLOSED_OUTCOMES = {
    Status.FIXED: 78,
    Status.NOT_RESPONSIBLE: 7,
    Status.DUPLICATE: 6,
    Status.UNABLE_TO_FIX: 5,
    Status.WITHDRAWN: 4,
}
OPEN_STATES = {
    Status.NEW: 30,
    Status.ACKNOWLEDGED: 25,
    Status.IN_PROGRESS: 22,
    Status.PLANNED: 13,
    Status.ON_HOLD: 10,
}
STUCK_STATES = {
    Status.NEW: 10,
    Status.ACKNOWLEDGED: 30,
    Status.IN_PROGRESS: 25,
    Status.PLANNED: 20,
    Status.ON_HOLD: 15,
}
STATUS_TEXTS = {
    Status.ACKNOWLEDGED: PUBLIC_REPLIES[0],
    Status.FIXED: PUBLIC_REPLIES[1],
    Status.PLANNED: PUBLIC_REPLIES[2],
    Status.ON_HOLD: PUBLIC_REPLIES[5],
    Status.NOT_RESPONSIBLE: "Nu este în responsabilitatea primăriei; v-am îndrumat către "
    "instituția competentă.",
    Status.DUPLICATE: "Aceeași problemă a fost deja semnalată.",
    Status.UNABLE_TO_FIX: "Lucrarea necesită fonduri care nu sunt prevăzute în buget.",
    Status.WITHDRAWN: "Retrasă la cererea petentului.",
}

# (channel, direction, handler, summary) of the contacts beyond each case's intake, with
# their weights: mostly calls to the dispatch centre and to the robot, then e-mails,
# visits at the counter, letters and the city's own answers.
CONTACT_KINDS = {
    (Channel.PHONE, Direction.INBOUND, Handler.STAFF, "Întrebare despre stadiul sesizării"): 30,
    (Channel.PHONE, Direction.INBOUND, Handler.STAFF, "Informații despre program și acte"): 12,
    (Channel.ROBOT, Direction.INBOUND, Handler.ROBOT, "Robotul: impozite și amenzi de plată"): 15,
    (Channel.EMAIL, Direction.INBOUND, Handler.STAFF, "E-mail: completare la solicitare"): 12,
    (Channel.EMAIL, Direction.OUTBOUND, Handler.SYSTEM, "Confirmare de înregistrare trimisă"): 10,
    (Channel.SMS, Direction.OUTBOUND, Handler.SYSTEM, "SMS: starea solicitării s-a schimbat"): 8,
    (Channel.COUNTER, Direction.INBOUND, Handler.STAFF, "Vizită la ghișeu"): 8,
    (Channel.PHONE, Direction.OUTBOUND, Handler.STAFF, "Apel de clarificare către petent"): 3,
    (Channel.LETTER, Direction.INBOUND, Handler.STAFF, "Scrisoare primită prin poștă"): 2,
}


def _weighted_key(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def city_point(rng: random.Random) -> tuple[float, float]:
    """A point in the city box (``LAT_RANGE`` x ``LON_RANGE``): 70 % around a
    neighbourhood centre, the rest uniform. Draws again rather than clamping, so no
    points pile up on the edges of the box."""
    while True:
        if rng.random() < HOTSPOT_SHARE:
            lat0, lon0, _w, sd = rng.choices(HOTSPOTS, _HOTSPOT_WEIGHTS)[0]
            # A degree of longitude is shorter: sd / cos(46°) keeps the spot round.
            lat, lon = rng.gauss(lat0, sd), rng.gauss(lon0, sd * 1.44)
        else:
            lat, lon = rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)
        if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
            return round(lat, 6), round(lon, 6)


def _person_rows_star(args: tuple[int, int, int]) -> list[PersonRow]:
    return person_rows(*args)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Command(BaseCommand):
    help = (
        "Generate N synthetic persons and M cases fast (bulk inserts in batches), "
        "for benchmarks. Safe to run again: it adds to what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=0, help="persons to add")
        parser.add_argument("--cases", type=int, default=0, help="cases to add")
        parser.add_argument(
            "--interactions",
            type=int,
            default=0,
            help="contacts to add beyond each case's intake (calls, e-mails, visits, ...)",
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per transaction")
        parser.add_argument("--seed", type=int, default=1, help="random seed")
        parser.add_argument(
            "--case-years",
            type=float,
            default=5,
            help="cases are registered evenly over this many years before now",
        )
        parser.add_argument(
            "--skip-map-cells",
            action="store_true",
            help="do not rebuild the map's cells after adding cases (rebuild_map_cells later)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="processes generating and encrypting person rows (1: in this process)",
        )

    def handle(self, *args, **options):
        n, m, batch = options["persons"], options["cases"], options["batch"]
        k = options["interactions"]
        if n < 0 or m < 0 or k < 0 or batch < 1 or options["case_years"] <= 0:
            raise CommandError(
                "--persons, --cases and --interactions must be >= 0, --batch >= 1 "
                "and --case-years > 0"
            )
        # Bulk INSERT statements: bigger ones on PostgreSQL, the parameter limit on SQLite.
        self.insert_batch = 1000 if connection.vendor == "postgresql" else None
        started = time.perf_counter()
        if n:
            self._seed_persons(n, batch, options["seed"], options["workers"])
        if m:
            self._seed_cases(m, batch, options["seed"], options["case_years"])
            if not options["skip_map_cells"]:
                self._rebuild_map_cells()
        if k:
            self._seed_interactions(k, batch, options["seed"], options["case_years"])
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_scale: {n:,} persons, {m:,} cases, {k:,} interactions in "
                f"{time.perf_counter() - started:.1f} s"
            )
        )

    def _progress(self, what: str, done: int, total: int, rows: int, started: float) -> None:
        elapsed = max(time.perf_counter() - started, 1e-9)
        self.stdout.write(
            f"{what}: {done:,}/{total:,} ({done / total:.0%})  {done / elapsed:,.0f} {what}/s  "
            f"{rows / elapsed:,.0f} rows/s  {elapsed:.1f} s"
        )
        self.stdout.flush()

    # --- persons --------------------------------------------------------------------------------

    def _seed_persons(self, n: int, batch: int, seed: int, workers: int) -> None:
        from cetatea.people.models import Person

        start = Person.objects.count()
        ranges = [(start + k, min(batch, n - k), seed) for k in range(0, n, batch)]
        next_index = start + n
        pool = None
        if workers > 1:
            # Children must not share the parent's database connections.
            connections.close_all()
            pool = multiprocessing.get_context("fork").Pool(workers)
            batches = pool.imap(_person_rows_star, ranges)
        else:
            batches = (person_rows(*r) for r in ranges)
        done = rows_written = 0
        started = time.perf_counter()
        try:
            for rows in batches:
                added, written = self._insert_persons(rows)
                done += added
                rows_written += written
                self._progress("persons", done, n, rows_written, started)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        while done < n:  # a few indexes gave ids already stored: take more
            rows = person_rows(next_index, min(batch, n - done), seed)
            next_index += len(rows)
            added, written = self._insert_persons(rows)
            done += added
            rows_written += written
            self._progress("persons", done, n, rows_written, started)

    def _insert_persons(self, rows: list[PersonRow]) -> tuple[int, int]:
        from cetatea.people.choices import ContactKind, PersonEventKind
        from cetatea.people.models import Address, ContactPoint, Person, PersonEvent

        with transaction.atomic():
            taken: set[str] = set()
            for chunk in _chunks([r.national_id_hash for r in rows], 900):
                # No .active() here: without statistics SQLite would scan the
                # merged_into index (every active row) instead of the hash index.
                taken.update(
                    h
                    for h, merged_into in Person.objects.filter(national_id_hash__in=chunk)
                    .order_by()
                    .values_list("national_id_hash", "merged_into_id")
                    if merged_into is None
                )
            if taken:
                rows = [r for r in rows if r.national_id_hash not in taken]
            persons = [
                Person(
                    kind=r.kind,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    name_key=r.name_key,
                    name_key_rev=r.name_key_rev,
                    national_id_kind=r.national_id_kind,
                    national_id_encrypted=r.national_id_encrypted,
                    national_id_hash=r.national_id_hash,
                    national_id_masked=r.national_id_masked,
                )
                for r in rows
            ]
            Person.objects.bulk_create(persons, batch_size=self.insert_batch)
            contacts = []
            addresses = []
            for person, r in zip(persons, rows, strict=True):
                contacts += [
                    ContactPoint(person=person, kind=ContactKind.PHONE, value=v, is_primary=i == 0)
                    for i, v in enumerate(r.phones)
                ]
                contacts += [
                    ContactPoint(person=person, kind=ContactKind.EMAIL, value=v, is_primary=i == 0)
                    for i, v in enumerate(r.emails)
                ]
                street, number, details, kind = r.address
                addresses.append(
                    Address(person=person, kind=kind, street=street, number=number, details=details)
                )
            ContactPoint.objects.bulk_create(contacts, batch_size=self.insert_batch)
            Address.objects.bulk_create(addresses, batch_size=self.insert_batch)
            PersonEvent.objects.bulk_create(
                [PersonEvent(person=p, kind=PersonEventKind.CREATED) for p in persons],
                batch_size=self.insert_batch,
            )
        return len(persons), 3 * len(persons) + len(contacts)

    # --- cases ----------------------------------------------------------------------------------

    def _seed_cases(self, m: int, batch: int, seed: int, years: float) -> None:
        from shapely import prepared

        from cetatea.catalog.geo import shape_from_geojson
        from cetatea.catalog.models import Area, Category
        from cetatea.people.models import Person

        categories = list(Category.objects.filter(is_active=True).order_by("pk"))
        if not categories:
            raise CommandError("No categories: run load_catalog first.")
        self.areas = {a.pk: a for a in Area.objects.all()}
        self.area_index = [
            (a.pk, prepared.prep(shape_from_geojson(a.geometry)))
            for a in sorted(self.areas.values(), key=lambda a: a.pk)
        ]
        self.routes: dict = {}
        self.person_ids = list(Person.objects.active().values_list("pk", flat=True))
        self.categories = categories
        self.weights = [CATEGORY_WEIGHTS.get(c.code, 3) for c in categories]
        rng = random.Random(seed * 7 + 11)
        self.now = timezone.now()
        span = years * 365.25 * 86400
        # Registration times spread evenly over the last ``years``, in order, so that
        # references follow time (as case_create numbers them).
        offsets = sorted((rng.random() * span for _ in range(m)), reverse=True)
        times = [self.now - dt.timedelta(seconds=s) for s in offsets]
        del offsets
        done = rows_written = 0
        started = time.perf_counter()
        for chunk in _chunks(times, batch):
            rows_written += self._insert_cases(rng, chunk)
            done += len(chunk)
            self._progress("cases", done, m, rows_written, started)

    # --- interactions ---------------------------------------------------------------------------

    def _seed_interactions(self, k: int, batch: int, seed: int, years: float) -> None:
        """Contacts beyond the intake of each case, as a city's history has them: calls
        (with a duration), e-mails, counter visits, letters, robot calls and the city's
        answers, over the last ``years``, on random persons; a third of them about one of
        the person's cases (a status question, a reply), the rest about nothing filed."""
        from cetatea.cases.models import Case, Interaction
        from cetatea.people.models import Person

        if not Person.objects.active().exists():
            raise CommandError("No persons: add some with --persons first.")
        if connection.vendor == "postgresql":
            self._seed_interactions_sql(k, seed, years)
            return
        # Each row goes into two indexes at a random place (person, case): with SQLite's
        # default 2 MB page cache that is a disk read per row on a big table.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")  # 1 GiB, this connection only
        person_ids = list(Person.objects.active().values_list("pk", flat=True))
        if not person_ids:
            raise CommandError("No persons: add some with --persons first.")
        # (case id, requester id) pairs, read once in id order: a keyed list, not a query
        # per interaction.
        cases = list(
            Case.objects.filter(requester__isnull=False)
            .order_by("pk")
            .values_list("pk", "requester_id")
        )
        rng = random.Random(seed * 13 + 5)
        now = timezone.now()
        span = years * 365.25 * 86400
        done = 0
        started = time.perf_counter()
        while done < k:
            rows = []
            for _ in range(min(batch, k - done)):
                channel, direction, handler, summary = _weighted_key(rng, CONTACT_KINDS)
                case_id = None
                if cases and rng.random() < 0.33:
                    case_id, person_id = cases[rng.randrange(len(cases))]
                else:
                    person_id = person_ids[rng.randrange(len(person_ids))]
                duration = None
                if channel in (Channel.PHONE, Channel.ROBOT):
                    duration = int(20 + rng.expovariate(1 / 150))
                rows.append(
                    Interaction(
                        person_id=person_id,
                        case_id=case_id,
                        channel=channel,
                        direction=direction,
                        handler=handler,
                        occurred_at=now - dt.timedelta(seconds=rng.random() * span),
                        duration_seconds=duration,
                        summary=summary,
                    )
                )
            rows.sort(key=lambda row: row.person_id)  # neighbours in the person index
            with transaction.atomic():
                Interaction.objects.bulk_create(rows, batch_size=self.insert_batch)
            done += len(rows)
            self._progress("interactions", done, k, done, started)

    def _seed_interactions_sql(self, k: int, seed: int, years: float) -> None:
        """The same contacts written by PostgreSQL itself (``INSERT … SELECT`` over
        ``generate_series``), in batches of 500,000: the kinds with their weights as a
        table of cumulative shares, persons and cases drawn from arrays of their ids."""
        from cetatea.cases.models import Interaction

        table = Interaction._meta.db_table
        kinds = list(CONTACT_KINDS.items())
        total = sum(weight for _kind, weight in kinds)
        bounds, running = [], 0
        for (channel, direction, handler, summary), weight in kinds:
            running += weight
            bounds.append((running / total, str(channel), str(direction), str(handler), summary))
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(bounds))
        params = [v for row in bounds for v in row]
        span = years * 365.25 * 86400
        # Placeholders only; the table name is the model's.
        sql = f"""
            WITH kinds(upper, channel, direction, handler, summary) AS (VALUES {values}),
            persons AS (
                SELECT array_agg(id) AS ids FROM people_person WHERE merged_into_id IS NULL
            ),
            cases AS (
                SELECT array_agg(id ORDER BY id) AS ids, array_agg(requester_id ORDER BY id) AS who
                FROM cases_case WHERE requester_id IS NOT NULL
            ),
            draws AS (
                SELECT random() AS pick, random() AS about, random() AS which,
                       random() AS age, random() AS length
                FROM generate_series(1, %s)
            )
            INSERT INTO {table} (person_id, case_id, channel, direction, handler, occurred_at,
                                 duration_seconds, summary, external_id, created_at)
            SELECT
                CASE WHEN d.about < 0.33 AND cardinality(c.ids) > 0
                     THEN c.who[1 + floor(d.which * cardinality(c.ids))::int]
                     ELSE p.ids[1 + floor(d.which * cardinality(p.ids))::int] END,
                CASE WHEN d.about < 0.33 AND cardinality(c.ids) > 0
                     THEN c.ids[1 + floor(d.which * cardinality(c.ids))::int] END,
                k.channel, k.direction, k.handler,
                now() - make_interval(secs => d.age * %s),
                CASE WHEN k.channel IN ('phone', 'robot')
                     THEN (20 - 150 * ln(1 - d.length))::int END,
                k.summary, '', now()
            FROM draws d CROSS JOIN persons p CROSS JOIN cases c
            CROSS JOIN LATERAL (
                SELECT * FROM kinds WHERE kinds.upper >= d.pick ORDER BY kinds.upper LIMIT 1
            ) k
        """  # noqa: S608
        done = 0
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [((seed * 7919) % 1000) / 1000])
            while done < k:
                n = min(500_000, k - done)
                with transaction.atomic():
                    cursor.execute(sql, [*params, n, span])
                done += n
                self._progress("interactions", done, k, done, started)

    def _rebuild_map_cells(self) -> None:
        """The services keep the map's pre-aggregated cells (``MapCell``) as they file and
        close cases; bulk inserts do not, so recompute them, as after any bulk import."""
        from cetatea.cases import maprollup

        started = time.perf_counter()
        cells = maprollup.rebuild()
        self.stdout.write(f"map cells: {cells:,} in {time.perf_counter() - started:.1f} s")

    def _area_for(self, lat: float, lon: float):
        point = shapely.Point(lon, lat)
        for area_id, geom in self.area_index:
            if geom.covers(point):
                return self.areas[area_id]
        return None

    def _place(self, rng: random.Random):
        """(lat, lon, area) of a reported problem: inside the city box and inside an Area
        (the areas tile the municipality, so a point of the box practically always has
        one); (None, None, None) if 20 draws found none."""
        for _attempt in range(20):
            lat, lon = city_point(rng)
            area = self._area_for(lat, lon)
            if area is not None:
                return lat, lon, area
        return None, None, None

    def _route(self, category, area):
        from cetatea.catalog.selectors import category_route

        key = (category.pk, area.pk if area else None)
        if key not in self.routes:
            self.routes[key] = category_route(category=category, area=area)
        return self.routes[key]

    def _take_sequences(self, year: int, count: int) -> int:
        """Reserve ``count`` numbers of the "case" sequence of ``year``; return the first."""
        from cetatea.cases.models import Case
        from cetatea.core.models import Counter

        counter, _created = Counter.objects.select_for_update().get_or_create(
            name="case", year=year
        )
        highest = Case.objects.filter(year=year).aggregate(m=Max("sequence"))["m"] or 0
        first = max(counter.value, highest) + 1
        counter.value = first + count - 1
        counter.save(update_fields=["value"])
        return first

    def _insert_cases(self, rng: random.Random, times: list[dt.datetime]) -> int:
        from cetatea.cases import due
        from cetatea.cases.choices import Direction, EventKind, Publication, Status
        from cetatea.cases.models import Case, CaseEvent, Interaction
        from cetatea.cases.services import case_reference
        from cetatea.catalog.choices import Regime
        from cetatea.core import workdays

        years = [workdays.local_date(t).year for t in times]
        with transaction.atomic():
            next_seq = {y: self._take_sequences(y, years.count(y)) for y in sorted(set(years))}
            cases = []
            histories = []  # per case: (status, time of the change) or None
            for registered_at, year in zip(times, years, strict=True):
                category = rng.choices(self.categories, self.weights)[0]
                code = category.code
                channel = channel_for(rng, code)
                title, description = rng.choice(
                    CASE_TEXTS.get(code) or [(category.name_ro, category.name_ro)]
                )
                street, nr = rng.choice(STREETS), rng.randint(1, 120)
                description = description.format(street=street, nr=nr)
                area = None
                lat = lon = None
                address_text = ""
                if code not in DESK_CATEGORIES:
                    lat, lon, area = self._place(rng)
                    address_text = f"{street} nr. {nr}, Alba Iulia"
                requester_id = None
                contact_name = contact_phone = contact_email = ""
                anonymous_ok = code not in DESK_CATEGORIES and channel not in (
                    "robot",
                    "counter",
                    "letter",
                )
                if self.person_ids and not (anonymous_ok and rng.random() < 0.4):
                    requester_id = rng.choice(self.person_ids)
                else:
                    roll = rng.random()
                    first = rng.choices(_FEMALE, _FEMALE_W)[0]
                    if roll < 0.35:
                        contact_name = first
                        contact_phone = f"+40{rng.randint(720, 779)}{rng.randrange(1_000_000):06d}"
                    elif roll < 0.75:
                        contact_name = first
                        domain = rng.choice(EMAIL_DOMAINS)
                        contact_email = f"{ascii_fold(first)}{rng.randrange(100_000)}@{domain}"
                publication = self._publication(rng, category, channel, lat, contact_email)
                department, operator, team = self._route(category, area)
                regime = category.regime if requester_id else Regime.TICKET
                due_at, base = due.initial_due_at(
                    regime=regime,
                    registered_at=registered_at,
                    target_hours=category.target_hours,
                )
                status, changed_at = self._outcome(rng, registered_at)
                sequence = next_seq[year]
                next_seq[year] += 1
                cases.append(
                    Case(
                        reference=case_reference(year, sequence),
                        year=year,
                        sequence=sequence,
                        channel=channel,
                        category=category,
                        department=department,
                        operator=operator,
                        team=team,
                        area=area,
                        latitude=lat,
                        longitude=lon,
                        address_text=address_text,
                        requester_id=requester_id,
                        contact_name=contact_name,
                        contact_phone=contact_phone,
                        contact_email=contact_email,
                        title=title,
                        description=description,
                        status=status,
                        regime=regime,
                        registered_at=registered_at,
                        due_at=due_at,
                        legal_base_date=base,
                        paused_since=changed_at if status == Status.ON_HOLD else None,
                        closed_at=changed_at if status in CLOSED_STATUSES else None,
                        publication=publication,
                        supporters_count=(
                            int(rng.expovariate(0.8)) if publication == Publication.PUBLIC else 0
                        ),
                    )
                )
                histories.append(changed_at)
            Case.objects.bulk_create(cases, batch_size=self.insert_batch)
            events = []
            interactions = []
            for case, changed_at in zip(cases, histories, strict=True):
                handler = handler_for(case.channel)
                events.append(
                    CaseEvent(
                        case=case,
                        kind=EventKind.CREATED,
                        handler=handler,
                        to_status=Status.NEW,
                        is_public=True,
                        created_at=case.registered_at,
                        data={
                            "channel": case.channel,
                            "department": case.department.code if case.department else "",
                        },
                    )
                )
                if case.status != Status.NEW:
                    # One status change, as case_change_status writes it (every open state
                    # and every closed one can be reached from "new" directly).
                    events.append(
                        CaseEvent(
                            case=case,
                            kind=EventKind.STATUS,
                            handler=Handler.STAFF,
                            from_status=Status.NEW,
                            to_status=case.status,
                            text=STATUS_TEXTS.get(case.status, ""),
                            is_public=True,
                            created_at=changed_at,
                        )
                    )
                interactions.append(
                    Interaction(
                        person_id=case.requester_id,
                        case=case,
                        channel=case.channel,
                        direction=Direction.INBOUND,
                        handler=handler,
                        occurred_at=case.registered_at,
                        summary=case.title[:2000],
                    )
                )
            CaseEvent.objects.bulk_create(events, batch_size=self.insert_batch)
            Interaction.objects.bulk_create(interactions, batch_size=self.insert_batch)
        return len(cases) + len(events) + len(interactions)

    @staticmethod
    def _publication(rng: random.Random, category, channel: str, lat, contact_email: str) -> str:
        """Who sees the case: problems with a place in a map category are public (most);
        a few wait for the e-mail confirmation, are kept private by the operator who
        took them, or were hidden by a moderator. Desk requests are never public."""
        from cetatea.cases.choices import Publication

        if lat is None or not category.on_map or category.code in DESK_CATEGORIES:
            return Publication.PRIVATE
        roll = rng.random()
        if roll < 0.005:
            return Publication.HIDDEN
        if contact_email and channel in ("map", "web", "open311") and roll < 0.10:
            return Publication.PENDING  # the confirmation link was never clicked
        if channel in STAFF_CHANNELS and roll < 0.08:
            return Publication.PRIVATE
        return Publication.PUBLIC

    def _outcome(self, rng: random.Random, registered_at: dt.datetime):
        """(status, time of its change) of a case registered at ``registered_at``: closed
        after a resolution time (median 8 days, a long tail) if that has passed, else in
        one of the open states; a share stays open for good (the backlog)."""
        from cetatea.cases.choices import Status

        age = (self.now - registered_at).total_seconds()
        stuck = rng.random() < BACKLOG_SHARE
        delay = rng.lognormvariate(RESOLUTION_MU, RESOLUTION_SIGMA) * 86400
        if not stuck and delay < age:
            status = _weighted_key(rng, CLOSED_OUTCOMES)
            return status, registered_at + dt.timedelta(seconds=delay)
        status = _weighted_key(rng, STUCK_STATES if stuck else OPEN_STATES)
        if status == Status.NEW:
            return status, None
        # Acknowledged within a fraction of the time it has been open.
        seen = min(age * rng.random() * 0.5, 5 * 86400 * rng.random())
        return status, registered_at + dt.timedelta(seconds=seen)
