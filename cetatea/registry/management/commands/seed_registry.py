"""Fill a registry book with a realistic year of documents, fast, for benchmarks.

``manage.py seed_registry --entries 500000 --point rg`` writes entries into the point's
book of the year (``--year``, default this year) with ``bulk_create`` in batches, one
transaction per batch. It bypasses ``registry_entry_register`` for speed but writes what
the services would have written: numbers consecutive after the book's last one and the
book's counter updated in the same transaction, ``sender_key``/``summary_key`` from
``cetatea.core.text``, the term from ``services.term_for`` (holidays included), a status
code from ``services.new_status_code``, a "registered" event per entry, and the life
of each document as the services write it:

* incoming petitions, requests and information requests are answered by an outgoing
  entry linked to them (``answers``), mostly within the term, some late; some terms are
  extended (event + notice entry), some documents forwarded or refused (event + notice);
  anonymous petitions are filed on registration (OG 27/2002 art. 7);
* what is still open at the end (the last weeks, and a late backlog) stays open, and
  when ``--cases`` is on (the default) each open entry whose type opens cases gets its
  Case through the service (``case_create``), as the counter would have done;
* incoming correspondence, outgoing letters and internal documents need no answer.

Registration times are spread over the working hours of the working days from the book's
last entry (or 1 January) to now (or 31 December of a past year); documents from
e-mail and the web arrive at any hour. Entry ids continue after the largest id and the
PostgreSQL sequence is moved past them, so the services continue normally afterwards.
Run it on a quiet database (nobody registering at the same time).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import heapq
import random
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core import workdays
from cetatea.core.text import fold, name_key
from cetatea.people.management.commands.seed_demo import (
    CASE_TEXTS,
    EMAIL_DOMAINS,
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    ORGANISATION_NAMES,
    PUBLIC_REPLIES,
    ascii_fold,
)
from cetatea.registry.choices import (
    Direction,
    DocRegime,
    EntryStatus,
    EventKind,
    RegistryChannel,
    SenderKind,
)
from cetatea.registry.models import (
    DocumentType,
    Entry,
    EntryEvent,
    NomenclatorItem,
    RegistryBook,
    RegistryPoint,
)
from cetatea.registry.services import book_for, new_status_code, term_for

TZ = ZoneInfo(settings.TIME_ZONE)

# fmt: off
# Incoming documents by type code, per point; outgoing letters and internal documents.
INCOMING_TYPES = {
    "rg": [("petitie", 30), ("cerere", 34), ("info-544", 5), ("reclamatie-544", 1),
           ("corespondenta", 30)],
    "dv": [("cerere", 70), ("petitie", 10), ("corespondenta", 20)],
    "das": [("cerere", 75), ("petitie", 8), ("corespondenta", 17)],
}
BASE_DIRECTIONS = [(Direction.INCOMING, 86), (Direction.OUTGOING, 8), (Direction.INTERNAL, 6)]
CHANNELS_IN = [(RegistryChannel.COUNTER, 50), (RegistryChannel.POST, 15),
               (RegistryChannel.EMAIL, 22), (RegistryChannel.WEB, 10),
               (RegistryChannel.COURIER, 2), (RegistryChannel.FAX, 1)]
DEPARTMENTS_RG = [("venituri", 20), ("urbanism", 15), ("drumuri-utilitati", 12),
                  ("domeniu-public", 10), ("relatii-publicul", 10), ("asistenta-sociala", 8),
                  ("juridic", 8), ("politia-locala", 7), ("programe", 5), ("cabinet-primar", 5)]
INSTITUTIONS = [
    "Instituția Prefectului - Județul Alba", "Consiliul Județean Alba",
    "Administrația Județeană a Finanțelor Publice Alba", "Inspectoratul de Poliție Județean Alba",
    "Tribunalul Alba", "Judecătoria Alba Iulia", "Camera de Conturi Alba",
    "Agenția pentru Protecția Mediului Alba", "Direcția de Sănătate Publică Alba",
    "Oficiul de Cadastru și Publicitate Imobiliară Alba", "Inspectoratul Școlar Județean Alba",
    "Ministerul Dezvoltării, Lucrărilor Publice și Administrației",
    "Agenția Județeană pentru Plăți și Inspecție Socială Alba", "Avocatul Poporului",
    "Direcția Județeană pentru Cultură Alba", "Garda de Mediu - Comisariatul Alba",
]
# Topics, most frequent first: a Zipf mix of common and rare words in the summaries.
TOPICS = [
    "impozitul pe clădire", "certificatul de atestare fiscală", "ajutorul de încălzire",
    "certificatul de urbanism", "autorizația de construire", "parcarea de reședință",
    "taxa de salubrizare", "repararea drumului", "iluminatul public", "spațiile verzi",
    "concesionarea terenului", "înmatricularea vehiculului lent", "acordul de funcționare",
    "scoaterea din evidență a autoturismului", "decizia de impunere", "restituirea sumelor",
    "amenda contravențională", "locuința socială", "alocația pentru susținerea familiei",
    "indemnizația de însoțitor", "cimitirul municipal", "câinii fără stăpân",
    "toaletarea arborilor", "deszăpezirea", "zgomotul din trafic", "locul de joacă",
    "transportul public local", "bursele școlare", "piața agroalimentară",
    "rețeaua de canalizare", "racordarea la apă", "branșamentul de gaz",
    "avizul de amplasare", "publicitatea stradală", "terasa sezonieră", "chioșcul de presă",
    "numărul poștal", "nomenclatura stradală", "adeverința de rol fiscal",
    "istoricul de rol", "compensarea datoriilor", "eșalonarea la plată",
    "scutirea veteranilor", "cardul de parcare pentru persoane cu handicap",
    "cantina socială", "centrul de zi pentru vârstnici", "tichetele sociale",
    "ajutorul de urgență", "stimulentul de inserție", "vouchere de vacanță",
    "festivalul cetății", "garda de onoare", "parcul dendrologic", "podul peste Ampoi",
    "pista de biciclete", "stațiile de încărcare electrică", "fântâna arteziană",
    "monumentul istoric", "bastionul Sfântul Mihail", "arhiva primăriei",
    "regulamentul local de urbanism", "planul urbanistic zonal", "dezmembrarea terenului",
    "intabularea construcției", "exproprierea pentru utilitate publică",
    "dreptul de preempțiune", "arendarea pășunii", "registrul agricol",
    "atestatul de producător", "carnetul de comercializare", "stupina autorizată",
    "catagrafia animalelor", "colectarea uleiului uzat", "deșeurile voluminoase",
    "compostul menajer", "vidanjarea foselor", "deratizarea subsolurilor",
    "dezinsecția țânțarilor", "fațada blocului", "reabilitarea termică",
    "ascensorul defect", "asociația de proprietari", "administratorul blocului",
    "zidul de sprijin", "alunecarea de teren", "inundarea pivniței", "rigola colmatată",
    "podețul surpat", "marcajul rutier", "limitatorul de viteză", "sensul giratoriu",
    "semaforul pietonal", "oglinda stradală", "copertina stației", "banca din parc",
    "coșul de gunoi stradal", "wifi gratuit în parc", "camerele de supraveghere",
]
CERERE_TEMPLATES = [
    "Cerere privind {topic} pentru imobilul din {street} nr. {nr}.",
    "Solicit eliberarea unui document privind {topic}.",
    "Cerere: {topic}, {street} nr. {nr}, Alba Iulia.",
    "Depun documentele necesare pentru {topic}.",
]
PETITION_PREFIXES = ["Sesizare", "Reclamație", "Petiție", "Propunere", "Cerere"]
INFO_TEMPLATES = [
    "Solicit, în baza Legii 544/2001, informații privind {topic}.",
    "Cerere Legea 544/2001: lista contractelor privind {topic} din ultimii doi ani.",
    "Solicit comunicarea sumelor cheltuite pentru {topic} în anul {year}.",
]
LETTER_TEMPLATES = [
    "Adresă privind {topic}; se solicită punct de vedere.",
    "Comunicare privind {topic} în municipiul Alba Iulia.",
    "Solicitare de date statistice despre {topic}.",
    "Invitație la ședința de lucru privind {topic}.",
]
INTERNAL_TEMPLATES = [
    "Referat de necesitate privind {topic}.",
    "Notă internă: situația dosarelor privind {topic}.",
    "Proiect de dispoziție privind {topic}.",
    "Raport de activitate: {topic}.",
]
ARCHIVE_BY_TYPE = {"petitie": "I-5", "info-544": "I-6", "reclamatie-544": "I-6",
                   "corespondenta": "I-1"}
ARCHIVE_BY_POINT = {"dv": "V-3", "das": "S-2"}
# fmt: on
PETITION_TEXTS = [text for texts in CASE_TEXTS.values() for _title, text in texts]


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def _zipf_cumulative(n: int, s: float = 1.05) -> list[float]:
    total, out = 0.0, []
    for k in range(1, n + 1):
        total += 1 / k**s
        out.append(total)
    return out


@dataclass(slots=True)
class Doc:
    """One document of the generated book: a base document, or an answer or a notice
    (``about`` is the base document it answers or notifies)."""

    at: dt.datetime
    kind: str  # "base", "answer", "notice"
    direction: str = Direction.INCOMING
    type_code: str = ""
    about: Doc | None = None
    fate: str = ""  # answered, forwarded, refused, filed, none
    extended: bool = False
    notice_at: dt.datetime | None = None  # extension notice
    closes_at: dt.datetime | None = None  # the answer, the forwarding or the refusal
    entry_id: int = 0
    number: int = 0
    # What an answer or a notice copies from the entry it is about (not the whole Entry:
    # half a million of those would not fit in memory).
    facts: dict = field(default_factory=dict)


def _insert(model, rows: list[dict]) -> None:
    """``bulk_create`` without building model instances (five times faster here): one
    ``executemany`` of the rows (dicts keyed by attribute name, missing ones take the
    field's default); what Django would adapt (date-times, dates, JSON) is adapted the
    way its backend does; ``auto_now`` fields get the present time."""
    if not rows:
        return
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(timezone.now())
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
    plan = []
    for f in fields:
        internal = f.get_internal_type()
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            plan.append((f.attname, None, "now"))
        elif internal == "DateTimeField":
            plan.append((f.attname, None, ops.adapt_datetimefield_value))
        elif internal == "DateField":
            plan.append((f.attname, None, ops.adapt_datefield_value))
        elif internal == "JSONField":
            plan.append((f.attname, {}, lambda v, f=f: f.get_db_prep_save(v, connection)))
        else:
            default = None if f.primary_key else f.get_default()
            plan.append((f.attname, default, None))
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (model names)
    values = []
    for row in rows:
        out = []
        for name, default, adapt in plan:
            value = row.get(name, default)
            if adapt == "now":
                value = stamp
            elif adapt is not None and value is not None:
                value = adapt(value)
            out.append(value)
        values.append(out)
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


class Command(BaseCommand):
    help = "Bulk-insert a realistic year of registry entries into one book (benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, required=True, help="entries to add")
        parser.add_argument("--point", default="rg", help="registry point code (default rg)")
        parser.add_argument("--year", type=int, default=None, help="the book's year")
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--cases",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="open the Cases of entries still open, through the service (default on)",
        )

    # --- command --------------------------------------------------------------------------

    def handle(self, *args, **options):
        n, batch = options["entries"], options["batch"]
        if n < 1 or batch < 1:
            raise CommandError("--entries and --batch must be >= 1")
        point = RegistryPoint.objects.filter(code=options["point"]).first()
        if point is None:
            raise CommandError(f"no registry point {options['point']!r}: run load_registry")
        now = timezone.now()
        this_year = workdays.local_date(now).year
        year = options["year"] or this_year
        if year > this_year:
            raise CommandError("a book of a future year cannot be filled")
        self.rng = random.Random(f"{options['seed']}-{point.code}-{year}")
        self.types = {t.code: t for t in DocumentType.objects.all()}
        missing = {code for pairs in INCOMING_TYPES.values() for code, _w in pairs}
        missing |= {"intern"}
        missing -= self.types.keys()
        if missing:
            raise CommandError(f"document types missing ({', '.join(sorted(missing))})")
        self.point = point
        self.archive = {i.code: i for i in NomenclatorItem.objects.all()}
        from cetatea.catalog.models import Department

        self.departments = {d.code: d for d in Department.objects.all()}
        self._terms: dict[tuple[int, dt.date, int], dt.date | None] = {}
        self.zipf = _zipf_cumulative(len(TOPICS))
        self.streets = self._street_names()

        with transaction.atomic():
            book = book_for(point, year)
        last = Entry.objects.filter(book=book).aggregate(at=Max("registered_at"))["at"]
        start = max(dt.datetime(year, 1, 1, tzinfo=TZ), last or dt.datetime.min.replace(tzinfo=TZ))
        if last is not None:
            start += dt.timedelta(seconds=1)
        end = now if year == this_year else dt.datetime(year + 1, 1, 1, tzinfo=TZ)
        if start >= end:
            raise CommandError(f"the book {point.code}/{year} is already filled up to now")

        started = time.perf_counter()
        docs, cutoff = self._plan(n, start, end)
        # A past year's documents go on being answered after 31 December (in the next
        # year's book, which is not written here): their state is the state of today.
        as_of = cutoff if year == this_year else now
        self.stdout.write(
            f"planned {len(docs):,} entries for {point.code.upper()}/{year} "
            f"({start:%d.%m %H:%M} – {cutoff:%d.%m %H:%M}) in {time.perf_counter() - started:.1f} s"
        )
        self.stdout.flush()
        self._write(book, docs, as_of, batch, started)
        opened = self._open_cases() if options["cases"] else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_registry: {len(docs):,} entries in {point.code.upper()}/{year}"
                f" (numbers {docs[0].number:,}–{docs[-1].number:,}), {opened:,} cases opened,"
                f" in {time.perf_counter() - started:.1f} s"
            )
        )

    # --- planning -------------------------------------------------------------------------

    def _plan(self, n: int, start: dt.datetime, end: dt.datetime) -> tuple[list[Doc], dt.datetime]:
        """``n`` documents in time order: base documents spread over [start, end) and the
        answers and notices they lead to; the state of each is fixed later."""
        seed_state = self.rng.getstate()
        m = max(1, int(n / 1.7))
        best = None
        # The answers of the last weeks fall after the end: find the number of base
        # documents whose documents and answers make ``n`` (truncating only a few hours).
        for _attempt in range(8):
            self.rng.setstate(seed_state)
            docs = self._generate(m, start, end)
            if len(docs) >= n and (best is None or len(docs) < len(best)):
                best = docs
            if n <= len(docs) <= n * 1.002 + 2:
                break
            m = max(1, round(m * n / len(docs)) + (1 if len(docs) < n else -1))
        if best is None:
            raise CommandError("could not plan enough documents")
        docs = best
        docs = docs[:n]
        return docs, docs[-1].at

    def _generate(self, m: int, start: dt.datetime, end: dt.datetime) -> list[Doc]:
        times = sorted(self._random_time(start, end) for _ in range(m))
        docs: list[Doc] = []
        followups: list[tuple[dt.datetime, int, Doc]] = []
        serial = 0
        for at in times:
            while followups and followups[0][0] <= at:
                docs.append(heapq.heappop(followups)[2])
            doc = self._base(at)
            docs.append(doc)
            for follow in self._followups(doc):
                if follow.at < end:
                    serial += 1
                    heapq.heappush(followups, (follow.at, serial, follow))
        while followups:
            docs.append(heapq.heappop(followups)[2])
        return docs

    def _random_time(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        """Office hours of a working day, or (1 in 10) any moment: e-mail and the web."""
        rng = self.rng
        span = (end - start).total_seconds()
        for _try in range(50):
            at = start + dt.timedelta(seconds=rng.random() * span)
            if rng.random() < 0.1:
                return at
            local = at.astimezone(TZ)
            if workdays.is_working_day(local.date(), frozenset()) and 8 <= local.hour < 16:
                return at
        return at

    def _office_time(self, at: dt.datetime) -> dt.datetime:
        """The first office moment at or after ``at`` (answers leave in working hours)."""
        local = at.astimezone(TZ)
        day = local.date()
        if local.hour >= 16:
            day += dt.timedelta(days=1)
            local = None
        elif local.hour < 8:
            local = None
        if not workdays.is_working_day(day, frozenset()):
            day = workdays.roll_forward(day, frozenset())
            local = None
        if local is None:
            minutes = self.rng.randint(0, 8 * 60 - 1)
            return dt.datetime.combine(day, dt.time(8), tzinfo=TZ) + dt.timedelta(
                minutes=minutes, seconds=self.rng.random() * 60
            )
        return local

    def _base(self, at: dt.datetime) -> Doc:
        rng = self.rng
        direction = _weighted(rng, BASE_DIRECTIONS)
        doc = Doc(at=at, kind="base", direction=direction)
        if direction == Direction.INCOMING:
            doc.type_code = _weighted(
                rng, INCOMING_TYPES.get(self.point.code, INCOMING_TYPES["rg"])
            )
        elif direction == Direction.OUTGOING:
            doc.type_code = "corespondenta"
        else:
            doc.type_code = "intern"
        kind = self.types[doc.type_code]
        doc.fate = "none"
        if direction != Direction.INCOMING or kind.term_days is None:
            return doc
        if kind.regime == DocRegime.PETITION and rng.random() < 0.04:
            doc.fate = "filed"  # anonymous (art. 7)
            return doc
        roll = rng.random()
        if kind.forward_days is not None and roll < 0.03:
            doc.fate = "forwarded"
            doc.closes_at = self._office_time(at + dt.timedelta(days=rng.uniform(0.2, 4.5)))
            return doc
        if kind.refusal_days is not None and roll < 0.05:
            doc.fate = "refused"
            doc.closes_at = self._office_time(at + dt.timedelta(days=rng.uniform(0.5, 4.5)))
            return doc
        doc.fate = "answered"
        term = kind.term_days
        if kind.extension_days and rng.random() < 0.08:
            doc.extended = True
            notice_within = kind.extension_notice_days or term - 2
            doc.notice_at = self._office_time(
                at + dt.timedelta(days=rng.uniform(2, max(notice_within - 1, 2.5)))
            )
            term += kind.extension_days
        low = 0.3
        if doc.notice_at is not None:  # the answer follows the extension's notice
            low = (doc.notice_at - at).total_seconds() / 86400 + 0.5
        if rng.random() < 0.12:  # late: the backlog every report counts
            delay = term + rng.uniform(1, 20)
        else:
            delay = rng.triangular(low, term - 0.5, max(low, term * 0.45))
        doc.closes_at = self._office_time(at + dt.timedelta(days=delay))
        return doc

    def _followups(self, doc: Doc) -> list[Doc]:
        out = []
        if doc.notice_at is not None:
            out.append(Doc(at=doc.notice_at, kind="notice", direction=Direction.OUTGOING))
            out[-1].about = doc
            out[-1].fate = "extended"
        if doc.closes_at is not None:
            kind = "answer" if doc.fate == "answered" else "notice"
            follow = Doc(at=doc.closes_at, kind=kind, direction=Direction.OUTGOING, about=doc)
            follow.fate = doc.fate
            out.append(follow)
        return out

    # --- fields ---------------------------------------------------------------------------

    def _street_names(self) -> list[str]:
        import json
        from pathlib import Path

        from cetatea.catalog import models as catalog_models

        path = Path(catalog_models.__file__).parent / "data" / "alba_iulia_streets.json"
        try:
            return [s["name"] for s in json.loads(path.read_text(encoding="utf-8"))["streets"]]
        except (OSError, ValueError, KeyError):
            return ["Calea Moților", "Bulevardul Transilvaniei", "Strada Mihai Viteazul"]

    def _topic(self) -> str:
        x = self.rng.random() * self.zipf[-1]
        return TOPICS[min(bisect.bisect_left(self.zipf, x), len(TOPICS) - 1)]

    def _fill(self, text: str) -> str:
        rng = self.rng
        return text.format(
            topic=self._topic(),
            street=rng.choice(self.streets),
            nr=rng.randint(1, 120),
            year=rng.randint(2019, 2025),
        )

    def _person_name(self) -> tuple[str, str]:
        rng = self.rng
        last = _weighted(rng, LAST_NAMES)
        first = _weighted(rng, MALE_FIRST_NAMES if rng.random() < 0.5 else FEMALE_FIRST_NAMES)
        return last, first

    def _sender(self, doc: Doc) -> dict:
        rng = self.rng
        if doc.fate == "filed":
            return {"sender_kind": SenderKind.ANONYMOUS}
        if doc.type_code == "corespondenta":
            who = SenderKind.INSTITUTION if rng.random() < 0.8 else SenderKind.COMPANY
        else:
            who = _weighted(rng, [(SenderKind.PERSON, 85), (SenderKind.COMPANY, 12),
                                  (SenderKind.INSTITUTION, 3)])  # fmt: skip
        fields = {"sender_kind": who}
        if who == SenderKind.PERSON:
            last, first = self._person_name()
            name = f"{last} {first}"
            fields["sender_address"] = (
                f"{rng.choice(self.streets)} nr. {rng.randint(1, 120)}, Alba Iulia"
            )
            if rng.random() < 0.4:
                fields["sender_email"] = (
                    f"{ascii_fold(first)}.{ascii_fold(last)}{rng.randint(1, 99)}"
                    f"@{rng.choice(EMAIL_DOMAINS)}"
                )
            if rng.random() < 0.5:
                fields["sender_phone"] = f"07{rng.randint(20, 79)}{rng.randint(0, 999999):06d}"
        elif who == SenderKind.COMPANY:
            name = rng.choice(ORGANISATION_NAMES)
            fields["sender_address"] = f"{rng.choice(self.streets)} nr. {rng.randint(1, 120)}"
            fields["sender_email"] = f"office@{ascii_fold(name.split()[0])}.example.com"
        else:
            name = rng.choice(INSTITUTIONS)
            fields["sender_address"] = "Alba Iulia"
        fields["sender_name"] = name
        if who != SenderKind.PERSON:
            fields["sender_reference"] = str(rng.randint(100, 99999))
            fields["sender_date"] = workdays.local_date(doc.at) - dt.timedelta(
                days=rng.randint(0, 10)
            )
        return fields

    def _summary(self, doc: Doc) -> str:
        rng = self.rng
        code = doc.type_code
        if doc.direction == Direction.INTERNAL:
            return self._fill(rng.choice(INTERNAL_TEMPLATES))
        if doc.direction == Direction.OUTGOING:
            return self._fill(rng.choice(LETTER_TEMPLATES))
        if code == "petitie":
            text = rng.choice(PETITION_TEXTS).format(
                street=rng.choice(self.streets), nr=rng.randint(1, 120)
            )
            if rng.random() < 0.5:
                text += " " + self._fill("Solicit și informații despre {topic}.")
            return f"{rng.choice(PETITION_PREFIXES)}: {text}"
        if code in ("info-544", "reclamatie-544"):
            text = self._fill(rng.choice(INFO_TEMPLATES))
            if code == "reclamatie-544":
                text = "Reclamație administrativă: nu am primit răspuns. " + text
            return text
        if code == "cerere":
            return self._fill(rng.choice(CERERE_TEMPLATES))
        return self._fill(rng.choice(LETTER_TEMPLATES))

    def _department(self):
        code = {"dv": "venituri", "das": "asistenta-sociala"}.get(self.point.code)
        if code is None:
            code = _weighted(self.rng, DEPARTMENTS_RG)
        return self.departments.get(code) or self.point.department

    def _term(self, kind: DocumentType, at: dt.datetime, extra: int = 0) -> dt.date | None:
        key = (kind.pk, workdays.local_date(at), extra)
        if key not in self._terms:
            if extra:
                self._terms[key] = workdays.term_end(key[1], kind.term_days + extra)
            else:
                self._terms[key] = term_for(kind, at)
        return self._terms[key]

    # --- writing --------------------------------------------------------------------------

    def _write(self, book: RegistryBook, docs: list[Doc], as_of, batch: int, started) -> int:
        """Insert the planned documents in batches, one transaction each, with the book's
        counter moved in the same transaction (a run stopped half-way leaves no gap)."""
        next_id = (Entry.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        first = RegistryBook.objects.get(pk=book.pk).last_number + 1
        for index, doc in enumerate(docs):  # answers need the numbers of what follows
            doc.number, doc.entry_id = first + index, next_id + index
        open_ids: list[int] = []
        for i in range(0, len(docs), batch):
            chunk = docs[i : i + batch]
            with transaction.atomic():
                locked = RegistryBook.objects.select_for_update().get(pk=book.pk)
                if locked.last_number != chunk[0].number - 1:
                    raise CommandError("someone registered in this book meanwhile: stopped")
                entries, events = [], []
                for doc in chunk:
                    entry = self._entry(book, doc, as_of)
                    entries.append(entry)
                    events += self._events(book, doc, entry)
                    if entry["status"] == EntryStatus.OPEN:
                        open_ids.append(entry["id"])
                _insert(Entry, entries)
                _insert(EntryEvent, events)
                RegistryBook.objects.filter(pk=book.pk).update(last_number=chunk[-1].number)
            for doc in chunk:
                if doc.kind == "answer" or (doc.kind == "notice" and doc.fate != "extended"):
                    doc.about.facts = {}  # its last follow-up: nothing refers to it any more
            done = i + len(chunk)
            elapsed = time.perf_counter() - started
            self.stdout.write(
                f"entries: {done:,}/{len(docs):,} ({done / len(docs):.0%})  "
                f"{done / max(elapsed, 1e-9):,.0f}/s  {elapsed:.0f} s"
            )
            self.stdout.flush()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Entry]):
                    cursor.execute(sql)
        self.open_ids = open_ids
        return len(docs)

    def _display(self, book: RegistryBook, number: int) -> str:
        return f"{book.point.code.upper()}-{number}/{book.year}"

    def _answer_summary(self, book: RegistryBook, about: Doc) -> str:
        reply = PUBLIC_REPLIES[about.number % len(PUBLIC_REPLIES)]
        return f"Răspuns la {self._display(book, about.number)}: {reply}"

    def _entry(self, book: RegistryBook, doc: Doc, as_of) -> dict:
        rng = self.rng
        if doc.kind != "base":
            return self._reply(book, doc)
        kind = self.types[doc.type_code]
        if doc.direction == Direction.INCOMING:
            fields = self._sender(doc)
            channel = _weighted(rng, CHANNELS_IN)
        elif doc.direction == Direction.OUTGOING:
            channel = RegistryChannel.POST if rng.random() < 0.6 else RegistryChannel.EMAIL
            fields = {
                "sender_kind": SenderKind.INSTITUTION,
                "addressee": rng.choice(INSTITUTIONS),
                "dispatched_at": doc.at,
            }
        else:
            channel = RegistryChannel.INTERNAL
            fields = {"sender_kind": SenderKind.INSTITUTION}
        summary = self._summary(doc)
        department = self._department()
        archive_code = ARCHIVE_BY_POINT.get(book.point.code) or ARCHIVE_BY_TYPE.get(doc.type_code)
        status, due, resolution, closed_at = EntryStatus.DONE, None, "", doc.at
        extended_days, forwarded_to, version = 0, "", 1
        if doc.fate == "filed":
            status = EntryStatus.FILED
            resolution = _(
                "Filed without action: anonymous or without identification (OG 27/2002 art. 7)."
            )
        elif doc.fate != "none":
            status, closed_at = EntryStatus.OPEN, None
            due = self._term(kind, doc.at)
            if doc.extended and doc.notice_at <= as_of:
                extended_days = kind.extension_days
                due = self._term(kind, doc.at, kind.extension_days)
                version += 1
            if doc.closes_at is not None and doc.closes_at <= as_of:
                version += 1
                closed_at = doc.closes_at
                fields["dispatched_at"] = doc.closes_at
                if doc.fate == "answered":
                    status = EntryStatus.ANSWERED
                    fields["addressee"] = fields.get("sender_name") or fields.get(
                        "sender_email", ""
                    )
                    resolution = self._answer_summary(book, doc)
                elif doc.fate == "forwarded":
                    status = EntryStatus.FORWARDED
                    forwarded_to = rng.choice(INSTITUTIONS)
                    fields["addressee"] = forwarded_to
                    resolution = _("Forwarded to %(to)s.") % {"to": forwarded_to}
                else:
                    status = EntryStatus.REFUSED
                    resolution = (
                        "Informațiile solicitate nu sunt de interes public "
                        "(art. 12 din Legea 544/2001)."
                    )
        sender_name = fields.pop("sender_name", "")
        entry = dict(
            id=doc.entry_id,
            book_id=book.pk,
            number=doc.number,
            registered_at=doc.at,
            direction=doc.direction,
            doc_type_id=kind.pk,
            channel=channel,
            pages=rng.choice((1, 1, 1, 2, 2, 3, 4, 6, 10)),
            annexes=rng.choice((0, 0, 0, 1, 2, 3)),
            sender_name=sender_name,
            sender_key=name_key(sender_name) if sender_name else "",
            summary=summary,
            summary_key=fold(summary),
            department_id=getattr(department, "pk", None),
            archive_item_id=getattr(self.archive.get(archive_code or ""), "pk", None),
            status=status,
            due_date=due,
            extended_days=extended_days,
            forwarded_to=forwarded_to,
            resolution=resolution,
            closed_at=closed_at,
            status_code=new_status_code(),
            version=version,
            **fields,
        )
        if doc.fate not in ("none", "filed"):
            doc.facts = {
                "pk": doc.entry_id,
                "registered_at": doc.at,
                "doc_type": kind,
                "sender_name": sender_name,
                "sender_email": entry.get("sender_email", ""),
                "department_id": entry["department_id"],
                "archive_item_id": entry["archive_item_id"],
                "due_date": due,
                "extended_days": extended_days,
                "forwarded_to": forwarded_to,
                "resolution": resolution,
            }
        return entry

    def _reply(self, book: RegistryBook, doc: Doc) -> dict:
        """An answer, or a notice (extension, forwarding, refusal), linked to its entry
        as ``registry_entry_answer`` and ``_notice`` link them."""
        about = doc.about
        facts = about.facts
        about_display = self._display(book, about.number)
        if doc.kind == "answer":
            summary = self._answer_summary(book, about)
        elif doc.fate == "extended":
            summary = (
                f"Termenul de răspuns pentru {about_display} a fost prelungit cu "
                f"{facts['extended_days']} zile, până la {facts['due_date']:%d.%m.%Y}."
            )
        elif doc.fate == "forwarded":
            summary = (
                f"Documentul {about_display} nu este de competența noastră; a fost "
                f"transmis către {facts['forwarded_to']}."
            )
        else:
            summary = f"Solicitarea {about_display} este respinsă: {facts['resolution']}"
        channel = RegistryChannel.EMAIL if facts["sender_email"] else RegistryChannel.POST
        return dict(
            id=doc.entry_id,
            book_id=book.pk,
            number=doc.number,
            registered_at=doc.at,
            direction=Direction.OUTGOING,
            doc_type_id=facts["doc_type"].pk,
            channel=channel,
            sender_kind=SenderKind.INSTITUTION,
            summary=summary,
            summary_key=fold(summary),
            department_id=facts["department_id"],
            addressee=facts["sender_name"] or facts["sender_email"],
            answers_id=facts["pk"] if doc.kind == "answer" else None,
            joined_to_id=facts["pk"] if doc.kind == "notice" else None,
            archive_item_id=facts["archive_item_id"],
            status=EntryStatus.DONE,
            closed_at=doc.at,
            dispatched_at=doc.at,
            status_code=new_status_code(),
        )

    def _events(self, book: RegistryBook, doc: Doc, entry: dict) -> list[dict]:
        display = self._display(book, doc.number)
        events = [
            dict(
                entry_id=entry["id"],
                kind=EventKind.REGISTERED,
                created_at=doc.at,
                data={"number": display},
            )
        ]
        if doc.kind == "base":
            return events
        facts = doc.about.facts
        if doc.kind == "answer":
            events.append(
                dict(
                    entry_id=facts["pk"],
                    kind=EventKind.ANSWERED,
                    created_at=doc.at,
                    data={"answer": display},
                )
            )
            return events
        if doc.fate == "extended":
            kind = facts["doc_type"]
            events.append(
                dict(
                    entry_id=facts["pk"],
                    kind=EventKind.EXTENDED,
                    created_at=doc.at,
                    text="Este necesară o cercetare suplimentară.",
                    data={
                        "days": kind.extension_days,
                        "old_due": self._term(kind, facts["registered_at"]).isoformat(),
                        "new_due": facts["due_date"].isoformat(),
                    },
                )
            )
        else:
            data = {"late": False}
            if doc.fate == "forwarded":
                data["to"] = facts["forwarded_to"]
            events.append(
                dict(
                    entry_id=facts["pk"],
                    kind=EventKind.FORWARDED if doc.fate == "forwarded" else EventKind.REFUSED,
                    created_at=doc.at,
                    text=facts["resolution"],
                    data=data,
                )
            )
        events.append(
            dict(
                entry_id=facts["pk"],
                kind=EventKind.NOTICE,
                created_at=doc.at,
                text=entry["summary"],
                data={"notice": display},
            )
        )
        return events

    def _open_cases(self) -> int:
        """The Case of each entry still open whose type opens one, through the service
        (``registry_entry_register`` opens it in the registration's transaction)."""
        from cetatea.registry.services import _open_case

        opened = 0
        started = time.perf_counter()
        ids = self.open_ids
        for start in range(0, len(ids), 500):
            rows = Entry.objects.filter(
                pk__in=ids[start : start + 500], case__isnull=True, direction=Direction.INCOMING
            ).select_related("book__point", "doc_type")
            for entry in rows:
                kind = entry.doc_type
                if not (kind.opens_case or kind.regime == DocRegime.PETITION):
                    continue
                with transaction.atomic():
                    entry.case = _open_case(entry, kind, None, None, None)
                    entry.save(update_fields=["case"])
                opened += 1
            self.stdout.write(f"cases: {opened:,} opened ({time.perf_counter() - started:.0f} s)")
            self.stdout.flush()
        return opened
