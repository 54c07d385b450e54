"""Import CSV files from the city's revenue system: taxpayers, obligations, fines, payments.

The revenue system is the source of truth; Cetatea copies what it exports. Every row
carries the revenue system's own id (``external_id``) and is stored with a hash of its
normalised content (``content_hash``), so that importing the same file again changes
nothing: a row already imported with the same content is "unchanged", one with other
content is rejected ("already imported with different content") unless the operator
asks for updates. ``docs/revenue-import.md`` documents the four formats.

How a file is read, in bounded memory whatever its size:

1. A first pass over the bytes finds the encoding (UTF-8 with or without BOM, else
   Windows-1250, else a clear error) and counts the lines for the progress bar.
2. The header is matched against the kind's columns (English names or the Romanian
   ones revenue systems use); an unknown or a missing required column stops the import
   before anything is written.
3. Rows are read in batches (2,000 by default). Each row is parsed and checked on its
   own (a bad one becomes a line of the rejects file, with the reason); then, per
   batch, one query finds the taxpayer accounts by the keyed hash of the CNP/CUI, one
   the rows already imported, one the ids this run has already seen (a temporary
   table: a duplicate id further down the file is found through the database, not an
   in-memory set), and the new rows are written (multi-row ``INSERT`` on SQLite,
   ``COPY`` on PostgreSQL), all in one transaction. A crash leaves whole batches:
   re-running the file finishes the job.

A dry run does all the checks and writes the rejects file, and writes nothing but the
temporary table and the ``ImportRun`` row that records it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core import crypto
from cetatea.core.identifiers import parse_national_id
from cetatea.core.text import fold
from cetatea.revenue import terms as revenue_terms
from cetatea.revenue.choices import (
    FineStatus,
    ImportKind,
    PaymentMethod,
    TaxpayerKind,
    TaxType,
)
from cetatea.revenue.models import (
    MONEY,
    Fine,
    ImportRun,
    Instalment,
    Obligation,
    Payment,
    TaxpayerAccount,
)

DEFAULT_BATCH = 2000
# What ``seed_demo`` imports: the demo citizens' taxes, fines and payments.
DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"
ENCODINGS = ("auto", "utf-8", "cp1250")
# Explicit instalments of an obligation: due_1/amount_1 ... due_12/amount_12.
MAX_INSTALMENTS = 12
CHUNK = 1 << 20
SEEN_TABLE = "cetatea_revenue_import_seen"
# Parameters in one SQLite statement: at most 32,766 since SQLite 3.32, 999 before.
SQLITE_MAX_PARAMS = 30000 if sqlite3.sqlite_version_info >= (3, 32) else 999

# Legacy cedilla letters (Windows-1250, old keyboards) -> the correct comma-below ones.
CEDILLA_TO_COMMA = str.maketrans({"ş": "ș", "ţ": "ț", "Ş": "Ș", "Ţ": "Ț"})


class RevenueImportError(Exception):
    """The file cannot be imported at all (encoding, header): nothing was written."""


class RowError(Exception):
    """One row is rejected; ``code`` is stable (tests, scripts), ``message`` translated."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- values -------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Trimmed, NFC-composed text with comma-below ``ș ț`` instead of cedilla ``ş ţ``."""
    value = value.strip()
    if value.isascii():
        return value
    return unicodedata.normalize("NFC", value).translate(CEDILLA_TO_COMMA)


def header_key(name: str) -> str:
    """``"Data plății"`` -> ``data_platii``; ``"CNP/CUI"`` -> ``cnp_cui``."""
    return fold(name).replace(" ", "_")


_INTEGER = re.compile(r"\d+", re.ASCII)
_DECIMAL = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_THOUSANDS_DOT = re.compile(r"-?\d{1,3}(\.\d{3})+", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_RO_DATE = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", re.ASCII)
_MAX_UNITS = 10 ** (MONEY["max_digits"] - MONEY["decimal_places"])


def parse_amount(text: str, label: str, *, positive: bool = False) -> Decimal:
    """Lei with a decimal comma or point (``1.234,50``, ``1234.50``), at most two
    decimals, never negative (and above zero when ``positive``)."""
    raw = text
    text = text.replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):  # 1.234,50
            text = text.replace(".", "").replace(",", ".")
        else:  # 1,234.50
            text = text.replace(",", "")
    elif "," in text:
        if text.count(",") > 1:
            text = "x"
        text = text.replace(",", ".")
    elif text.count(".") > 1 and _THOUSANDS_DOT.fullmatch(text):  # 1.234.567
        text = text.replace(".", "")
    if not _DECIMAL.fullmatch(text):
        raise RowError(
            "bad_amount",
            _("%(field)s: “%(value)s” is not an amount (write 1234,50 or 1234.50).")
            % {"field": label, "value": raw},
        )
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above guards it
        raise RowError("bad_amount", str(exc)) from exc
    if amount < 0:
        raise RowError(
            "negative_amount",
            _("%(field)s: the amount %(value)s is negative.") % {"field": label, "value": raw},
        )
    if positive and amount == 0:
        raise RowError(
            "zero_amount", _("%(field)s: the amount must be above zero.") % {"field": label}
        )
    if amount.as_tuple().exponent < -2:
        raise RowError(
            "bad_amount",
            _("%(field)s: “%(value)s” has more than two decimals.")
            % {"field": label, "value": raw},
        )
    if amount >= _MAX_UNITS:
        raise RowError(
            "bad_amount",
            _("%(field)s: the amount %(value)s is too large.") % {"field": label, "value": raw},
        )
    return amount.quantize(Decimal("0.01"))


@lru_cache(maxsize=8192)
def _date(text: str) -> dt.date | None:
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _RO_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day) if 1900 <= year <= 2200 else None
    except ValueError:
        return None


def parse_date(text: str, label: str) -> dt.date:
    """``YYYY-MM-DD`` or ``DD.MM.YYYY`` (also ``DD/MM/YYYY``)."""
    day = _date(text)
    if day is None:
        raise RowError(
            "bad_date",
            _("%(field)s: “%(value)s” is not a date (write 2026-03-31 or 31.03.2026).")
            % {"field": label, "value": text},
        )
    return day


def national_id(raw: str) -> tuple[str, str, str]:
    """``(kind, value, keyed hash)`` of a CNP/CUI, fully validated, or a ``RowError``."""
    try:
        nid = parse_national_id(raw)
    except ValidationError as exc:
        raise RowError(
            "bad_national_id",
            _("CNP/CUI “%(value)s”: %(error)s") % {"value": raw, "error": exc.messages[0]},
        ) from exc
    return nid.kind, nid.value, crypto.lookup_hash(nid.value)


@lru_cache(maxsize=65536)
def national_id_hash(raw: str) -> str | None:
    """The keyed hash a valid CNP/CUI written as ``raw`` has, without validating it; None
    when ``raw`` cannot be one.

    The fast path of obligations, fines and payments: a hash that matches a taxpayer
    account is one of a CNP/CUI validated when the account was imported, so only rows
    that match no account are validated (to say why). Validating a CNP costs more than
    the rest of the row; the cache helps files that name a taxpayer many times."""
    compact = "".join(ch for ch in raw if ch.isalnum()).upper().removeprefix("RO")
    if not compact.isdigit():
        return None
    return crypto.lookup_hash(compact)


def choice_from(value: str, table: dict[str, str], label: str, accepted: list[str]) -> str:
    key = header_key(value)
    if key in table:
        return table[key]
    raise RowError(
        "bad_code",
        _("%(field)s: “%(value)s” is not known (accepted: %(accepted)s).")
        % {"field": label, "value": value, "accepted": ", ".join(accepted)},
    )


def content_hash(*parts: Any) -> str:
    """Hash of a row's normalised values. The CNP/CUI goes in as its keyed hash, never in
    clear: the hash is stored, and a CNP has too few possible values to hide in SHA-256."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()


# --- tax types, statuses, methods (codes and the labels revenue systems use) -------------

# Keyword prefixes of folded labels, tried in this order ("autorizatii" is not "auto").
TAX_TYPE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (TaxType.CERTIFICATES, ("certificat", "aviz", "autorizat", "eliberar")),
    (TaxType.ADVERTISING, ("reclam", "publicit", "afisaj", "firma")),
    (TaxType.SHOWS, ("spectacol",)),
    (TaxType.SPECIAL, ("special",)),
    (TaxType.BUILDING, ("cladir",)),
    (TaxType.LAND, ("teren",)),
    (TaxType.VEHICLE, ("auto", "vehicul", "transport", "mijloac", "masin")),
    (TaxType.OTHER, ("alte", "altele", "other")),
]
# Fiscal Code art. 454 letters.
TAX_TYPE_LETTERS = dict(
    zip(
        "abcdefgh",
        [
            TaxType.BUILDING,
            TaxType.LAND,
            TaxType.VEHICLE,
            TaxType.CERTIFICATES,
            TaxType.ADVERTISING,
            TaxType.SHOWS,
            TaxType.SPECIAL,
            TaxType.OTHER,
        ],
        strict=True,
    )
)


TAX_TYPE_CODES = frozenset(TaxType.values)


@lru_cache(maxsize=1024)
def _tax_type(value: str) -> str | None:
    key = header_key(value)
    if key in TAX_TYPE_CODES:
        return key
    letter = key.removeprefix("art_").removeprefix("454").strip("_")
    if letter in TAX_TYPE_LETTERS:
        return TAX_TYPE_LETTERS[letter]
    words = key.split("_")
    for tax_type, prefixes in TAX_TYPE_WORDS:
        if any(word.startswith(prefix) for word in words for prefix in prefixes):
            return str(tax_type)
    return None


def parse_tax_type(value: str) -> str:
    tax_type = _tax_type(value)
    if tax_type is not None:
        return tax_type
    raise RowError(
        "bad_tax_type",
        _(
            "tax_type: “%(value)s” is not a known tax (accepted: %(codes)s, the Romanian "
            "labels such as cladiri, teren, auto, or the letter of art. 454)."
        )
        % {"value": value, "codes": ", ".join(TaxType.values)},
    )


FINE_STATUSES = {
    **{s: s for s in FineStatus.values},
    "neachitata": FineStatus.UNPAID,
    "neplatita": FineStatus.UNPAID,
    "de_plata": FineStatus.UNPAID,
    "restanta": FineStatus.UNPAID,
    "activa": FineStatus.UNPAID,
    "contestata": FineStatus.CONTESTED,
    "in_instanta": FineStatus.CONTESTED,
    "achitata": FineStatus.PAID,
    "platita": FineStatus.PAID,
    "incasata": FineStatus.PAID,
    "anulata": FineStatus.CANCELLED,
}
PAYMENT_METHODS = {
    **{m: m for m in PaymentMethod.values},
    "numerar": PaymentMethod.CASH,
    "casierie": PaymentMethod.CASH,
    "ghiseu": PaymentMethod.CASH,
    "pos": PaymentMethod.CARD,
    "ghiseul_ro": PaymentMethod.ONLINE,
    "ghiseul": PaymentMethod.ONLINE,
    "internet": PaymentMethod.ONLINE,
    "op": PaymentMethod.BANK,
    "ordin_de_plata": PaymentMethod.BANK,
    "virament": PaymentMethod.BANK,
    "banca": PaymentMethod.BANK,
    "transfer": PaymentMethod.BANK,
    "altele": PaymentMethod.OTHER,
    "alta": PaymentMethod.OTHER,
}


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()


ID = Column("id", True, ("external_id", "id_extern", "cod", "id_debit", "nr_debit"))
NATIONAL_ID = Column(
    "national_id",
    True,
    ("cnp_cui", "cnp", "cui", "cif", "cod_fiscal", "cnp_cif", "cod_identificare_fiscala"),
)
ACCOUNT = Column("account", False, ("rol", "rol_fiscal", "nr_rol", "cont", "account_id"))


def _instalment_columns() -> list[Column]:
    columns = []
    for n in range(1, MAX_INSTALMENTS + 1):
        columns.append(Column(f"due_{n}", False, (f"scadenta_{n}", f"termen_{n}")))
        columns.append(Column(f"amount_{n}", False, (f"rata_{n}", f"suma_{n}")))
    return columns


# --- one row, one batch -------------------------------------------------------------------


@dataclass
class Row:
    line: int
    raw: list[str]
    external_id: str = ""
    content_hash: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    error: RowError | None = None
    # Set while the batch is resolved and written.
    existing_pk: int | None = None
    action: str = ""  # "create", "update", "unchanged"


def _length(value: str, model, name: str, label: str | None = None) -> str:
    limit = model._meta.get_field(name).max_length
    if limit and len(value) > limit:
        raise RowError(
            "too_long",
            _("%(field)s: at most %(limit)s characters (this one has %(length)s).")
            % {"field": label or name, "limit": limit, "length": len(value)},
        )
    return value


def _required(values: dict[str, str], name: str) -> str:
    value = values.get(name, "")
    if not value:
        raise RowError("missing_value", _("%(field)s: the value is missing.") % {"field": name})
    return value


def insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert many rows: ``COPY`` on PostgreSQL, multi-row ``INSERT`` on SQLite.

    Django's ``bulk_create`` builds a model instance and prepares every value through the
    field classes: two thirds of the time of a million-row obligations file. The values
    here are already checked and typed (``Decimal``, ``date``, adapted datetimes), so they
    go to the database directly. Table and column names come from the model."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    copy_rows(table, columns, rows)


def copy_rows(table: str, columns: str, rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg parses a query's placeholders in Python: a statement of thousands
            # of them costs more than the rows; COPY sends the rows as they are.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
        per = max(1, SQLITE_MAX_PARAMS // len(rows[0]))
        sql_for: dict[int, str] = {}
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            if len(chunk) not in sql_for:
                sql_for[len(chunk)] = (
                    f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                    + ", ".join([one] * len(chunk))
                )
            cursor.execute(sql_for[len(chunk)], [value for row in chunk for value in row])


def select_in(table: str, columns: str, key: str, values: list) -> list[tuple]:
    """``SELECT columns FROM table WHERE key IN values``: one array parameter on
    PostgreSQL (psycopg would parse a statement of 2,000 placeholders in Python)."""
    if not values:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE {key} = ANY(%s)",  # noqa: S608
                [list(values)],
            )
            return cursor.fetchall()
        values = list(values)
        found = []
        for start in range(0, len(values), SQLITE_MAX_PARAMS):  # however large --batch is
            chunk = values[start : start + SQLITE_MAX_PARAMS]
            cursor.execute(
                f"SELECT {columns} FROM {table} "  # noqa: S608
                f"WHERE {key} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found += cursor.fetchall()
        return found


def existing_rows(model, ids: list[str]) -> list[tuple[str, int, str]]:
    """``(external_id, pk, content_hash)`` of the rows of ``model`` among ``ids``."""
    quote = connection.ops.quote_name
    return select_in(
        quote(model._meta.db_table),
        "external_id, id, content_hash",
        "external_id",
        ids,
    )


def next_ids(model, count: int) -> list[int] | None:
    """``count`` new ids from the table's sequence on PostgreSQL (None elsewhere: SQLite
    gives ids as rows go in, and they are read back in one query)."""
    if connection.vendor != "postgresql" or not count:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def db_now():
    """Now, as the database backend stores a ``DateTimeField`` (naive UTC on SQLite)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


class Kind:
    """One file format: its columns, how a row is parsed, how a batch is written."""

    kind: str
    model: type
    columns: list[Column]

    def __init__(self, *, dry_run: bool, allow_updates: bool, actor=None):
        self.dry_run = dry_run
        self.allow_updates = allow_updates
        self.actor = actor

    # Subclasses implement these three.
    def parse(self, values: dict[str, str], row: Row) -> None:
        raise NotImplementedError

    def resolve(self, rows: list[Row]) -> None:
        """Read-only checks against the database for a batch (accounts, references)."""

    def write(self, creates: list[Row], updates: list[Row]) -> None:
        raise NotImplementedError

    # Shared by the ledger kinds (obligations, fines, payments).
    def parse_taxpayer(self, values: dict[str, str], row: Row) -> None:
        raw = _required(values, "national_id")
        nid_hash = national_id_hash(raw)
        if nid_hash is None:
            national_id(raw)  # raises the reason
        row.data.update(
            nid_raw=raw, nid_hash=nid_hash, account_ref=clean_text(values.get("account", ""))
        )

    def resolve_accounts(self, rows: list[Row]) -> None:
        """Set ``account_id`` of each row: the taxpayer account of its CNP/CUI (and of its
        ``account`` column when given). One query for the batch."""
        hashes = {r.data["nid_hash"] for r in rows}
        accounts: dict[str, list[tuple[int, str]]] = {}
        for nid_hash, pk, ext in TaxpayerAccount.objects.filter(
            national_id_hash__in=hashes
        ).values_list("national_id_hash", "pk", "external_id"):
            accounts.setdefault(nid_hash, []).append((pk, ext))
        for row in rows:
            found = accounts.get(row.data["nid_hash"], [])
            ref = row.data["account_ref"]
            if ref:
                found = [a for a in found if a[1] == ref]
            if not found:
                try:
                    national_id(row.data["nid_raw"])
                except RowError as exc:  # not a CNP/CUI at all: say that rather
                    row.error = exc
                    continue
                row.error = RowError(
                    "unknown_taxpayer",
                    _("No taxpayer account for this CNP/CUI (import the taxpayers file first).")
                    if not ref
                    else _("No taxpayer account %(account)s for this CNP/CUI.") % {"account": ref},
                )
            elif len(found) > 1:
                row.error = RowError(
                    "several_accounts",
                    _(
                        "This CNP/CUI has several taxpayer accounts (%(accounts)s): "
                        "say which in the account column."
                    )
                    % {"accounts": ", ".join(sorted(a[1] for a in found))},
                )
            else:
                row.data["account_id"] = found[0][0]


class TaxpayersKind(Kind):
    """``account, national_id, name | last_name + first_name, address``."""

    kind = ImportKind.TAXPAYERS
    model = TaxpayerAccount
    columns = [
        Column("account", True, ("rol", "rol_fiscal", "nr_rol", "cont", "account_id", "id")),
        NATIONAL_ID,
        Column(
            "name",
            False,
            ("denumire", "nume_complet", "nume_si_prenume", "nume_prenume", "contribuabil"),
        ),
        Column("last_name", False, ("nume", "nume_familie")),
        Column("first_name", False, ("prenume",)),
        Column("address", False, ("adresa", "adresa_fiscala", "domiciliu_fiscal", "domiciliu")),
    ]
    id_column = "account"

    def check_header(self, present: set[str]) -> list[str]:
        return [] if {"name", "last_name"} & present else ["name"]

    def parse(self, values, row):
        id_kind, value, nid_hash = national_id(_required(values, "national_id"))
        last = clean_text(values.get("last_name", ""))
        first = clean_text(values.get("first_name", ""))
        name = clean_text(values.get("name", "")) or f"{last} {first}".strip()
        if not name:
            raise RowError("missing_value", _("name: the value is missing."))
        if not last:
            last, first = split_name(name, individual=id_kind == "cnp")
        elif id_kind == "cnp" and last.isupper():
            last, first = last.title(), first.title()
        row.data.update(
            kind=TaxpayerKind.INDIVIDUAL if id_kind == "cnp" else TaxpayerKind.COMPANY,
            national_id=value,
            nid_hash=nid_hash,
            name=_length(name, TaxpayerAccount, "name"),
            address=_length(clean_text(values.get("address", "")), TaxpayerAccount, "address"),
            last_name=_length(last, _person_model(), "last_name"),
            first_name=_length(first, _person_model(), "first_name"),
        )
        row.content_hash = content_hash(
            row.external_id, nid_hash, name, row.data["address"], last, first
        )

    def resolve(self, rows):
        from cetatea.people.models import Person

        hashes = {r.data["nid_hash"] for r in rows}
        self.persons = dict(
            Person.objects.active()
            .filter(national_id_hash__in=hashes)
            .values_list("national_id_hash", "pk")
        )

    def _person_id(self, row: Row) -> int:
        """The person of the row's CNP/CUI, created when Cetatea does not know them yet
        (the revenue system knows everyone who owes the city)."""
        from cetatea.people.choices import PersonKind
        from cetatea.people.services import person_create

        nid_hash = row.data["nid_hash"]
        if nid_hash in self.persons:
            return self.persons[nid_hash]
        individual = row.data["kind"] == TaxpayerKind.INDIVIDUAL
        try:
            person = person_create(
                kind=PersonKind.INDIVIDUAL if individual else PersonKind.ORGANISATION,
                last_name=row.data["last_name"] if individual else row.data["name"],
                first_name=row.data["first_name"] if individual else "",
                national_id=row.data["national_id"],
                actor=self.actor,
            )
        except ValidationError as exc:
            raise RowError("person", "; ".join(exc.messages)) from exc
        self.persons[nid_hash] = person.pk
        return person.pk

    def _fields(self, row: Row) -> dict[str, Any]:
        return {
            "kind": row.data["kind"],
            "national_id_hash": row.data["nid_hash"],
            "name": row.data["name"],
            "address": row.data["address"],
            "content_hash": row.content_hash,
        }

    def write(self, creates, updates):
        new = []
        for row in creates:
            try:
                person_id = self._person_id(row)
            except RowError as exc:
                row.error = exc
                continue
            new.append(
                TaxpayerAccount(
                    external_id=row.external_id, person_id=person_id, **self._fields(row)
                )
            )
        TaxpayerAccount.objects.bulk_create(new)
        for row in updates:
            try:
                person_id = self._person_id(row)
            except RowError as exc:
                row.error = exc
                continue
            account = TaxpayerAccount(pk=row.existing_pk, person_id=person_id, **self._fields(row))
            account.save(update_fields=[*self._fields(row), "person", "updated_at"])


def _person_model():
    from cetatea.people.models import Person

    return Person


def split_name(name: str, *, individual: bool) -> tuple[str, str]:
    """``"POPESCU ION MIHAI"`` -> ``("Popescu", "Ion Mihai")``: revenue systems write the
    last name first, often in capitals. A company's name is kept whole."""
    if not individual:
        return name, ""
    if name.isupper():
        name = name.title()
    last, _sep, first = name.partition(" ")
    return last, first.strip()


class ObligationsKind(Kind):
    """``id, national_id, [account], tax_type, fiscal_year, amount, [subject],
    [due_1, amount_1, ...]``."""

    kind = ImportKind.OBLIGATIONS
    model = Obligation
    columns = [
        ID,
        NATIONAL_ID,
        ACCOUNT,
        Column("tax_type", True, ("tip", "tip_impozit", "impozit", "cod_impozit", "tip_taxa")),
        Column("fiscal_year", True, ("an", "an_fiscal", "anul")),
        Column("amount", True, ("suma", "valoare", "debit", "suma_anuala")),
        Column(
            "subject",
            False,
            ("obiect", "bun", "bun_impozabil", "adresa_bun", "nr_inmatriculare", "descriere"),
        ),
        *_instalment_columns(),
    ]
    id_column = "id"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.years: dict = {}
        self.max_year = timezone.localdate().year + 1
        self.instalment_numbers = list(range(1, MAX_INSTALMENTS + 1))

    def header_seen(self, present: set[str]) -> None:
        self.instalment_numbers = [
            n for n in range(1, MAX_INSTALMENTS + 1) if {f"due_{n}", f"amount_{n}"} & present
        ]

    def parse(self, values, row):
        self.parse_taxpayer(values, row)
        tax_type = parse_tax_type(_required(values, "tax_type"))
        year_text = _required(values, "fiscal_year")
        if not _INTEGER.fullmatch(year_text) or not 1990 <= int(year_text) <= self.max_year:
            raise RowError(
                "bad_year",
                _("fiscal_year: “%(value)s” is not a year between 1990 and %(max)s.")
                % {"value": year_text, "max": self.max_year},
            )
        year = int(year_text)
        amount = parse_amount(_required(values, "amount"), "amount")
        subject = _length(clean_text(values.get("subject", "")), Obligation, "subject")
        explicit = []
        for n in self.instalment_numbers:
            due, part = values.get(f"due_{n}", ""), values.get(f"amount_{n}", "")
            if not due and not part:
                continue
            if not (due and part):
                raise RowError(
                    "bad_instalment",
                    _("Instalment %(n)s needs both its due date and its amount.") % {"n": n},
                )
            explicit.append(
                (len(explicit) + 1, parse_date(due, f"due_{n}"), parse_amount(part, f"amount_{n}"))
            )
        if explicit:
            total = sum((p for _s, _d, p in explicit), Decimal("0.00"))
            if total != amount:
                raise RowError(
                    "instalments_sum",
                    _("The instalments add up to %(sum)s, not to the amount %(amount)s.")
                    % {"sum": total, "amount": amount},
                )
            instalments = explicit
        else:
            try:
                year_terms = revenue_terms.fiscal_year_terms(year, self.years)
            except ValidationError as exc:
                raise RowError("no_fiscal_year", exc.messages[0]) from exc
            instalments = revenue_terms.default_instalments(
                tax_type=tax_type, amount=amount, terms=year_terms
            )
        row.data.update(
            tax_type=tax_type, fiscal_year=year, amount=amount, subject=subject,
            instalments=instalments,
        )  # fmt: skip
        row.content_hash = content_hash(
            row.external_id,
            row.data["nid_hash"],
            row.data["account_ref"],
            tax_type,
            year,
            amount,
            subject,
            # Explicit instalments only: default ones follow from the row and the year.
            ";".join(f"{d.isoformat()}={p}" for _s, d, p in explicit),
        )

    def resolve(self, rows):
        self.resolve_accounts(rows)

    def _obligation(self, row: Row, **extra) -> Obligation:
        return Obligation(
            account_id=row.data["account_id"],
            tax_type=row.data["tax_type"],
            fiscal_year=row.data["fiscal_year"],
            subject=row.data["subject"],
            amount=row.data["amount"],
            content_hash=row.content_hash,
            **extra,
        )

    def write(self, creates, updates):
        now = db_now()
        fields = ["external_id", "account", "tax_type", "fiscal_year", "subject", "amount",
                  "content_hash", "created_at", "updated_at"]  # fmt: skip
        values = [
            (r.external_id, r.data["account_id"], r.data["tax_type"], r.data["fiscal_year"],
             r.data["subject"], r.data["amount"], r.content_hash, now, now)
            for r in creates
        ]  # fmt: skip
        new_ids = next_ids(Obligation, len(creates))
        if new_ids is not None:  # PostgreSQL: the ids go in with the rows
            insert_rows(
                Obligation, ["id", *fields], [(i, *v) for i, v in zip(new_ids, values, strict=True)]
            )
            ids = {r.external_id: i for r, i in zip(creates, new_ids, strict=True)}
        else:
            insert_rows(Obligation, fields, values)
            ids = {
                ext: pk
                for ext, pk, _h in existing_rows(Obligation, [r.external_id for r in creates])
            }
        instalments = [
            (ids[row.external_id], seq, due, part)
            for row in creates
            for seq, due, part in row.data["instalments"]
        ]
        for row in updates:
            self._obligation(row, pk=row.existing_pk).save(
                update_fields=[
                    "account",
                    "tax_type",
                    "fiscal_year",
                    "subject",
                    "amount",
                    "content_hash",
                    "updated_at",
                ]
            )
            Instalment.objects.filter(obligation_id=row.existing_pk).delete()
            instalments += [
                (row.existing_pk, seq, due, part) for seq, due, part in row.data["instalments"]
            ]
        insert_rows(Instalment, ["obligation", "seq", "due_date", "amount"], instalments)


class FinesKind(Kind):
    """``id, national_id, [account], series, number, unique_code, issued_on,
    communicated_on, issuer, legal_basis, amount, half_minimum, enforceable_since,
    status``."""

    kind = ImportKind.FINES
    model = Fine
    columns = [
        ID,
        NATIONAL_ID,
        ACCOUNT,
        Column("series", False, ("serie", "seria", "serie_pv")),
        Column("number", True, ("numar", "nr", "numar_pv", "nr_pv")),
        Column("unique_code", False, ("cod_unic", "serie_unica", "cod_unic_pv")),
        Column("issued_on", True, ("data", "data_pv", "data_proces_verbal", "data_intocmirii")),
        Column("communicated_on", False, ("data_comunicarii", "comunicat_la", "data_comunicare")),
        Column("issuer", True, ("emitent", "organ_constatator", "institutia", "agent_constatator")),
        Column("legal_basis", False, ("temei_legal", "act_normativ", "baza_legala")),
        Column("amount", True, ("suma", "amenda", "cuantum", "valoare")),
        Column(
            "half_minimum",
            False,
            ("jumatate_minim", "jumatate_din_minim", "jumatate_minimul", "suma_redusa"),
        ),
        Column(
            "enforceable_since",
            False,
            ("titlu_executoriu_din", "executoriu_din", "data_titlu_executoriu"),
        ),
        Column("status", False, ("stare", "situatie", "stadiu")),
    ]
    id_column = "id"

    def parse(self, values, row):
        self.parse_taxpayer(values, row)
        issued_on = parse_date(_required(values, "issued_on"), "issued_on")
        dates = {}
        for name in ("communicated_on", "enforceable_since"):
            dates[name] = parse_date(values[name], name) if values.get(name) else None
            if dates[name] and dates[name] < issued_on:
                raise RowError(
                    "date_order",
                    _("%(field)s: %(date)s is before the date of the offence record.")
                    % {"field": name, "date": dates[name].isoformat()},
                )
        amount = parse_amount(_required(values, "amount"), "amount")
        half = values.get("half_minimum", "")
        half_minimum = parse_amount(half, "half_minimum") if half else None
        if half_minimum is not None and half_minimum > amount:
            raise RowError(
                "half_above_fine",
                _("half_minimum: %(half)s is more than the fine %(amount)s.")
                % {"half": half_minimum, "amount": amount},
            )
        status = values.get("status", "")
        status = (
            choice_from(status, FINE_STATUSES, "status", FineStatus.values)
            if status
            else FineStatus.UNPAID
        )
        row.data.update(
            series=_length(clean_text(values.get("series", "")), Fine, "series"),
            number=_length(clean_text(_required(values, "number")), Fine, "number"),
            unique_code=_length(clean_text(values.get("unique_code", "")), Fine, "unique_code"),
            issued_on=issued_on,
            communicated_on=dates["communicated_on"],
            issuer=_length(clean_text(_required(values, "issuer")), Fine, "issuer"),
            legal_basis=_length(clean_text(values.get("legal_basis", "")), Fine, "legal_basis"),
            amount=amount,
            half_minimum=half_minimum,
            enforceable_since=dates["enforceable_since"],
            status=status,
        )
        row.content_hash = content_hash(
            row.external_id,
            row.data["nid_hash"],
            row.data["account_ref"],
            *(row.data[name] for name in self.FIELDS),
        )

    FIELDS = [
        "series",
        "number",
        "unique_code",
        "issued_on",
        "communicated_on",
        "issuer",
        "legal_basis",
        "amount",
        "half_minimum",
        "enforceable_since",
        "status",
    ]

    def resolve(self, rows):
        self.resolve_accounts(rows)

    def _fine(self, row: Row, **extra) -> Fine:
        return Fine(
            account_id=row.data["account_id"],
            content_hash=row.content_hash,
            **{name: row.data[name] for name in self.FIELDS},
            **extra,
        )

    def write(self, creates, updates):
        now = db_now()
        insert_rows(
            Fine,
            ["external_id", "account", *self.FIELDS, "content_hash", "created_at", "updated_at"],
            [
                (r.external_id, r.data["account_id"], *(r.data[f] for f in self.FIELDS),
                 r.content_hash, now, now)
                for r in creates
            ],
        )  # fmt: skip
        for row in updates:
            self._fine(row, pk=row.existing_pk).save(
                update_fields=["account", *self.FIELDS, "content_hash", "updated_at"]
            )


class PaymentsKind(Kind):
    """``id, national_id, [account], paid_on, amount, method, receipt, obligation | fine``."""

    kind = ImportKind.PAYMENTS
    model = Payment
    columns = [
        ID,
        NATIONAL_ID,
        ACCOUNT,
        Column("paid_on", True, ("data", "data_platii", "data_plata", "data_incasarii")),
        Column("amount", True, ("suma", "suma_achitata", "suma_platita", "valoare")),
        Column("method", False, ("modalitate", "mod_plata", "modalitate_plata", "canal")),
        Column("receipt", False, ("chitanta", "nr_chitanta", "document", "nr_document")),
        Column("obligation", False, ("debit", "id_debit", "obligatie", "pentru_debit")),
        Column("fine", False, ("amenda", "id_amenda", "pentru_amenda")),
    ]
    id_column = "id"

    def parse(self, values, row):
        self.parse_taxpayer(values, row)
        paid_on = parse_date(_required(values, "paid_on"), "paid_on")
        if paid_on > timezone.localdate():
            raise RowError(
                "future_date",
                _("paid_on: %(date)s is in the future.") % {"date": paid_on.isoformat()},
            )
        method = values.get("method", "")
        method = (
            choice_from(method, PAYMENT_METHODS, "method", PaymentMethod.values)
            if method
            else PaymentMethod.CASH
        )
        obligation_ref = clean_text(values.get("obligation", ""))
        fine_ref = clean_text(values.get("fine", ""))
        if obligation_ref and fine_ref:
            raise RowError(
                "two_targets",
                _("A payment indicates an obligation or a fine, not both."),
            )
        row.data.update(
            paid_on=paid_on,
            amount=parse_amount(_required(values, "amount"), "amount", positive=True),
            method=method,
            receipt=_length(clean_text(values.get("receipt", "")), Payment, "receipt"),
            obligation_ref=obligation_ref,
            fine_ref=fine_ref,
        )
        row.content_hash = content_hash(
            row.external_id,
            row.data["nid_hash"],
            row.data["account_ref"],
            paid_on,
            row.data["amount"],
            method,
            row.data["receipt"],
            obligation_ref,
            fine_ref,
        )

    def resolve(self, rows):
        self.resolve_accounts(rows)
        refs = {
            "obligation": (Obligation, {r.data["obligation_ref"] for r in rows} - {""}),
            "fine": (Fine, {r.data["fine_ref"] for r in rows} - {""}),
        }
        found = {
            name: {
                ext: (pk, account_id)
                for ext, pk, account_id in model.objects.filter(external_id__in=ids).values_list(
                    "external_id", "pk", "account_id"
                )
            }
            for name, (model, ids) in refs.items()
        }
        for row in rows:
            if row.error:
                continue
            for name in ("obligation", "fine"):
                ref = row.data[f"{name}_ref"]
                row.data[f"{name}_id"] = None
                if not ref:
                    continue
                target = found[name].get(ref)
                if target is None:
                    row.error = RowError(
                        f"unknown_{name}",
                        (
                            _("The payment is for obligation %(id)s, which was never imported.")
                            if name == "obligation"
                            else _("The payment is for fine %(id)s, which was never imported.")
                        )
                        % {"id": ref},
                    )
                elif target[1] != row.data["account_id"]:
                    row.error = RowError(
                        "other_taxpayer",
                        _("%(id)s belongs to another taxpayer account.") % {"id": ref},
                    )
                else:
                    row.data[f"{name}_id"] = target[0]

    FIELDS = ["paid_on", "amount", "method", "receipt"]

    def _payment(self, row: Row, **extra) -> Payment:
        return Payment(
            account_id=row.data["account_id"],
            obligation_id=row.data["obligation_id"],
            fine_id=row.data["fine_id"],
            content_hash=row.content_hash,
            **{name: row.data[name] for name in self.FIELDS},
            **extra,
        )

    def write(self, creates, updates):
        now = db_now()
        insert_rows(
            Payment,
            ["external_id", "account", "obligation", "fine", *self.FIELDS, "content_hash",
             "created_at"],
            [
                (r.external_id, r.data["account_id"], r.data["obligation_id"], r.data["fine_id"],
                 *(r.data[f] for f in self.FIELDS), r.content_hash, now)
                for r in creates
            ],
        )  # fmt: skip
        for row in updates:
            self._payment(row, pk=row.existing_pk).save(
                update_fields=["account", "obligation", "fine", *self.FIELDS, "content_hash"]
            )


KINDS: dict[str, type[Kind]] = {
    ImportKind.TAXPAYERS: TaxpayersKind,
    ImportKind.OBLIGATIONS: ObligationsKind,
    ImportKind.FINES: FinesKind,
    ImportKind.PAYMENTS: PaymentsKind,
}


# --- the file -------------------------------------------------------------------------------


@dataclass
class FileInfo:
    encoding: str  # for open(): "utf-8-sig" or "cp1250"
    label: str  # for people: "UTF-8", "UTF-8 (BOM)", "Windows-1250"
    lines: int


def inspect_file(path: Path, requested: str = "auto") -> FileInfo:
    """Find the encoding of ``path`` (streamed, in 1 MiB chunks) and count its lines.

    ``auto`` takes UTF-8 when every byte sequence is valid UTF-8, else Windows-1250
    (Romanian Excel and older revenue systems). A file that is neither, holds NUL bytes
    (a spreadsheet, UTF-16) or is not readable raises ``RevenueImportError``."""
    if requested not in ENCODINGS:
        raise RevenueImportError(_("Unknown encoding %(value)s.") % {"value": requested})
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise RevenueImportError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from exc
    with handle:
        head = handle.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise RevenueImportError(
                _("%(path)s is in UTF-16: save it as CSV in UTF-8 or Windows-1250.")
                % {"path": path}
            )
        bom = head.startswith(codecs.BOM_UTF8)
        candidates = ["utf-8", "cp1250"] if requested == "auto" else [requested]
        for candidate in candidates:
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(candidate)()
            lines = 0
            offset = 0
            try:
                while chunk := handle.read(CHUNK):
                    if b"\x00" in chunk:
                        raise RevenueImportError(
                            _(
                                "%(path)s is not a text file (it holds NUL bytes: a "
                                "spreadsheet or UTF-16?). Save it as CSV."
                            )
                            % {"path": path}
                        )
                    decoder.decode(chunk)
                    lines += chunk.count(b"\n")
                    offset += len(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                if requested != "auto":
                    raise RevenueImportError(
                        _(
                            "%(path)s is not valid %(encoding)s (byte %(offset)s); try "
                            "--encoding auto."
                        )
                        % {"path": path, "encoding": candidate, "offset": offset + exc.start}
                    ) from exc
                continue
            if candidate == "utf-8":
                return FileInfo("utf-8-sig", "UTF-8 (BOM)" if bom else "UTF-8", lines)
            return FileInfo("cp1250", "Windows-1250", lines)
    raise RevenueImportError(
        _("%(path)s is neither UTF-8 nor Windows-1250 text: save it as CSV in UTF-8.")
        % {"path": path}
    )


def sniff_delimiter(header_line: str) -> str:
    """``;`` (Romanian Excel), ``,`` or a tab: whichever the header line holds most of."""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def match_header(raw: list[str], kind: Kind) -> list[str | None]:
    """The kind's column name for each header cell; ``RevenueImportError`` for an unknown
    column, a column given twice or a required one missing."""
    names: dict[str, str] = {}
    for column in kind.columns:
        names[column.name] = column.name
        for alias in column.aliases:
            names.setdefault(alias, column.name)
    mapped: list[str | None] = []
    unknown = []
    for cell in raw:
        key = header_key(cell)
        if not key:  # a trailing empty column from a spreadsheet
            mapped.append(None)
            continue
        if key not in names:
            unknown.append(cell.strip())
        mapped.append(names.get(key))
    if unknown:
        raise RevenueImportError(
            _("Unknown columns for “%(kind)s”: %(unknown)s. The columns are: %(known)s.")
            % {
                "kind": ImportKind(kind.kind).label,
                "unknown": ", ".join(unknown),
                "known": ", ".join(c.name for c in kind.columns if not c.name[-1].isdigit())
                + (", due_1, amount_1…" if isinstance(kind, ObligationsKind) else ""),
            }
        )
    present = [m for m in mapped if m]
    twice = sorted({m for m in present if present.count(m) > 1})
    if twice:
        raise RevenueImportError(
            _("Columns given more than once: %(columns)s.") % {"columns": ", ".join(twice)}
        )
    missing = [c.name for c in kind.columns if c.required and c.name not in present]
    missing += getattr(kind, "check_header", lambda _p: [])(set(present))
    if hasattr(kind, "header_seen"):
        kind.header_seen(set(present))
    if missing:
        raise RevenueImportError(
            _("Missing columns for “%(kind)s”: %(missing)s.")
            % {"kind": ImportKind(kind.kind).label, "missing": ", ".join(missing)}
        )
    return mapped


class SeenIds:
    """The ids this run has accepted, in a temporary table of the run's own connection:
    a duplicate id far down a file of a million rows is found without holding every id
    in memory. On SQLite the table is kept on disk for the run (the settings keep
    temporary tables in memory otherwise)."""

    def __enter__(self):
        # SQLite refuses the change inside a transaction (a caller's atomic block, a test).
        self.sqlite = connection.vendor == "sqlite" and not connection.in_atomic_block
        with connection.cursor() as cursor:
            if self.sqlite:
                cursor.execute("PRAGMA temp_store")
                self.saved_temp_store = cursor.fetchone()[0]
                cursor.execute("PRAGMA temp_store = FILE")
            cursor.execute(f"DROP TABLE IF EXISTS {SEEN_TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {SEEN_TABLE} "
                "(external_id varchar(60) PRIMARY KEY, content_hash varchar(64) NOT NULL)"
            )
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SEEN_TABLE}")
            if self.sqlite:
                cursor.execute(f"PRAGMA temp_store = {int(self.saved_temp_store)}")

    def get(self, ids: list[str]) -> dict[str, str]:
        return dict(select_in(SEEN_TABLE, "external_id, content_hash", "external_id", ids))

    def add(self, pairs: list[tuple[str, str]]) -> None:
        if pairs:
            copy_rows(SEEN_TABLE, "external_id, content_hash", pairs)


class Rejects:
    """The rejects file: CSV in UTF-8 with a BOM (Excel reads it), the input's delimiter,
    then for each bad row its line, a stable code, the reason and the row as read."""

    def __init__(self, path: Path, delimiter: str, header: list[str]):
        self.path = path
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle, delimiter=delimiter)
        self.writer.writerow([_("line"), _("code"), _("reason"), *header])
        self.count = 0

    def add(self, line: int, code: str, reason: str, raw: list[str]) -> None:
        self.writer.writerow([line, code, reason, *raw])
        self.count += 1

    def close(self) -> None:
        self.handle.close()


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def _read_rows(reader) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of each non-blank data row (the line where it starts)."""
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        yield start, cells


def revenue_import(
    *,
    kind: str,
    path: str | Path,
    dry_run: bool = False,
    encoding: str = "auto",
    rejects_path: str | Path | None = None,
    allow_updates: bool = False,
    batch_size: int = DEFAULT_BATCH,
    actor=None,
    progress: Callable[[int], Any] | None = None,
) -> ImportRun:
    """Import one CSV file of ``kind`` and return its ``ImportRun`` (counts, encoding,
    rejects file). ``progress(total_rows)`` may return an object with ``update(n)`` and
    ``close()`` (a tqdm bar). A file that cannot be read at all raises
    ``RevenueImportError`` with nothing imported (the run is recorded as failed)."""
    if kind not in KINDS:
        raise RevenueImportError(_("Unknown kind of file %(kind)s.") % {"kind": kind})
    path = Path(path)
    national_id_hash.cache_clear()  # the hash key may have changed since the last run
    handler = KINDS[kind](dry_run=dry_run, allow_updates=allow_updates, actor=actor)
    run = ImportRun.objects.create(
        kind=kind,
        file_name=str(path)[-500:],
        dry_run=dry_run,
        started_by=actor if getattr(actor, "pk", None) else None,
    )
    started = time.perf_counter()
    bar = None
    rejects = None
    try:
        info = inspect_file(path, encoding)
        run.encoding = info.label
        with path.open(encoding=info.encoding, newline="") as handle:
            first = handle.readline()
            handle.seek(0)
            reader = csv.reader(handle, delimiter=sniff_delimiter(first))
            header = next((r for r in reader if any(c.strip() for c in r)), None)
            if header is None:
                raise RevenueImportError(_("%(path)s is empty.") % {"path": path})
            columns = match_header(header, handler)
            rejects_file = Path(rejects_path) if rejects_path else default_rejects_path(path)
            try:
                rejects = Rejects(rejects_file, reader.dialect.delimiter, header)
            except OSError as exc:
                raise RevenueImportError(
                    _("Cannot write the rejects file %(path)s: %(error)s")
                    % {"path": rejects_file, "error": exc.strerror}
                ) from exc
            run.rejects_file = str(rejects_file)[-500:]
            if progress is not None:
                bar = progress(max(info.lines - 1, 0))
            with SeenIds() as seen:
                batch: list[Row] = []
                for line, cells in _read_rows(reader):
                    batch.append(_parse(handler, columns, line, cells))
                    if len(batch) >= batch_size:
                        _run_batch(handler, batch, seen, run, rejects)
                        if bar is not None:
                            bar.update(len(batch))
                        batch = []
                if batch:
                    _run_batch(handler, batch, seen, run, rejects)
                    if bar is not None:
                        bar.update(len(batch))
        run.status = ImportRun.Status.DONE
    except RevenueImportError as exc:
        run.status = ImportRun.Status.FAILED
        run.error = str(exc)
        raise
    except BaseException as exc:  # a database error, Ctrl-C: whole batches stay imported
        run.status = ImportRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:5000]
        raise
    finally:
        if bar is not None:
            bar.close()
        if rejects is not None:
            rejects.close()
        run.finished_at = timezone.now()
        run.seconds = time.perf_counter() - started
        run.save()
    return run


def _parse(handler: Kind, columns: list[str | None], line: int, cells: list[str]) -> Row:
    row = Row(line=line, raw=cells)
    if len(cells) != len(columns):
        row.error = RowError(
            "bad_width",
            _("The row has %(cells)s fields where the header has %(columns)s.")
            % {"cells": len(cells), "columns": len(columns)},
        )
        return row
    values = {name: cell.strip() for name, cell in zip(columns, cells, strict=True) if name}
    try:
        row.external_id = _length(
            clean_text(_required(values, handler.id_column)),
            handler.model,
            "external_id",
            handler.id_column,
        )
        handler.parse(values, row)
    except RowError as exc:
        row.error = exc
    return row


def _run_batch(handler: Kind, batch: list[Row], seen: SeenIds, run: ImportRun, rejects) -> None:
    """Check a batch against the database and write it in one transaction."""
    run.rows += len(batch)
    # A dry run only reads (and fills the temporary table): no write lock is taken.
    with contextlib.nullcontext() if handler.dry_run else transaction.atomic():
        rows = [r for r in batch if not r.error]
        if rows:
            handler.resolve(rows)
        rows = [r for r in rows if not r.error]
        ids = list({r.external_id: None for r in rows})
        already = seen.get(ids)
        existing = {ext: (pk, digest) for ext, pk, digest in existing_rows(handler.model, ids)}
        # Row by row in file order: an id accepted earlier (in this batch, an earlier one
        # of this run, or a previous import) decides whether a row is new, the same or a
        # conflicting duplicate.
        accepted: dict[str, str] = {}
        for row in rows:
            ext = row.external_id
            earlier = accepted.get(ext, already.get(ext))
            if earlier is not None:
                row.action = "unchanged" if earlier == row.content_hash else "dup"
            elif ext in existing:
                row.existing_pk, digest = existing[ext]
                if digest == row.content_hash:
                    row.action = "unchanged"
                elif handler.allow_updates:
                    row.action = "update"
                else:
                    row.error = RowError(
                        "changed",
                        _(
                            "%(id)s was already imported with different content (use "
                            "--allow-updates to replace it)."
                        )
                        % {"id": ext},
                    )
            else:
                row.action = "create"
            if row.action in ("create", "update", "unchanged"):
                accepted[ext] = row.content_hash
        for row in rows:
            if row.action == "dup":
                row.error = RowError(
                    "duplicate",
                    _("%(id)s appears earlier in this file with different content.")
                    % {"id": row.external_id},
                )
        creates = [r for r in rows if r.action == "create" and not r.error]
        updates = [r for r in rows if r.action == "update" and not r.error]
        if not handler.dry_run:
            handler.write(creates, updates)
        for row in creates + updates:
            if row.error:  # refused while written (a taxpayer's person could not be made)
                accepted.pop(row.external_id, None)
        seen.add([(ext, digest) for ext, digest in accepted.items() if ext not in already])
    for row in batch:
        if row.error:
            run.rejected += 1
            rejects.add(row.line, row.error.code, row.error.message, row.raw)
        elif row.action == "create":
            run.created += 1
        elif row.action == "update":
            run.updated += 1
        else:
            run.unchanged += 1
