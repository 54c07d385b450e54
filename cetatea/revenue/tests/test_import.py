"""The import from the revenue system: formats, idempotence, rejects, encodings, dry run,
a crash in the middle of a file (``cetatea.revenue.importer``, ``import_revenue``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from stdnum.ro import cui as stdnum_cui

from cetatea.core import crypto
from cetatea.people.models import Person
from cetatea.revenue.importer import (
    RevenueImportError,
    parse_amount,
    parse_date,
    parse_tax_type,
    revenue_import,
)
from cetatea.revenue.models import (
    Fine,
    FiscalYear,
    ImportRun,
    Instalment,
    Obligation,
    Payment,
    TaxpayerAccount,
)
from conftest import make_cnp, make_person

pytestmark = pytest.mark.django_db

ION = make_cnp(101)
MARIA = make_cnp(102, sex="2", birth="900715")
UNKNOWN = make_cnp(103)  # valid, but nobody's taxpayer account
BAD_CHECK = ION[:-1] + str((int(ION[-1]) + 1) % 10)


def company_cui() -> str:
    body = "1854729"
    return body + stdnum_cui.calc_check_digit(body)


CUI = company_cui()

TAXPAYERS = f"""rol;cnp_cui;nume;prenume;adresa
R-100;{ION};POPESCU;ION;Str. Mihai Viteazul nr. 3
R-200;{MARIA};Mureșan;Maria;Bd. Transilvania nr. 10
R-300;{CUI};Apulum Construct SRL;;Calea Moților nr. 85
"""

OBLIGATIONS = f"""id;cnp_cui;tip;an;suma;obiect
OB-1;{ION};cladiri;2026;"1.000,00";Str. Mihai Viteazul nr. 3
OB-2;{ION};auto;2026;45,50;AB-01-XYZ
OB-3;{MARIA};teren;2026;301.25;Str. Lalelelor
OB-4;{CUI};afisaj;2026;1200;Firma luminoasă
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read_rejects(run: ImportRun) -> list[list[str]]:
    text = Path(run.rejects_file).read_text(encoding="utf-8-sig")
    first = text.splitlines()[0]
    return list(csv.reader(io.StringIO(text), delimiter=";" if ";" in first else ","))


def codes(run: ImportRun) -> dict[int, str]:
    return {int(r[0]): r[1] for r in read_rejects(run)[1:]}


@pytest.fixture
def years(db):
    for year in (2025, 2026):
        FiscalYear.objects.create(
            year=year,
            first_due=dt.date(year, 3, 31),
            second_due=dt.date(year, 9, 30),
            small_tax_limit=Decimal("50.00"),
            decision=f"HCL {year}",
        )


@pytest.fixture
def taxpayers(tmp_path, years):
    run = revenue_import(kind="taxpayers", path=write(tmp_path, "tp.csv", TAXPAYERS))
    assert (run.created, run.rejected) == (3, 0)
    return {a.external_id: a for a in TaxpayerAccount.objects.all()}


def snapshot() -> dict[str, list[tuple]]:
    """Every revenue row and every person, field by field (timestamps included)."""
    models = [TaxpayerAccount, Obligation, Instalment, Fine, Payment, Person]
    return {
        m.__name__: list(
            m.objects.order_by("pk").values_list(*[f.attname for f in m._meta.concrete_fields])
        )
        for m in models
    }


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1234,5", "1234.50"),
        ("1234.50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1.234.567", "1234567.00"),
        ("0", "0.00"),
    ],
)
def test_amounts_with_decimal_comma_or_point(text, expected):
    assert parse_amount(text, "amount") == Decimal(expected)


@pytest.mark.parametrize("text", ["-5", "12,345", "1,2,3", "abc", "12.5.3", ""])
def test_bad_amounts_are_refused(text):
    with pytest.raises(Exception) as info:
        parse_amount(text, "amount")
    assert info.value.code in {"bad_amount", "negative_amount"}


def test_dates_iso_and_romanian():
    assert parse_date("2026-03-31", "d") == dt.date(2026, 3, 31)
    assert parse_date("31.03.2026", "d") == dt.date(2026, 3, 31)
    assert parse_date("1/9/2026", "d") == dt.date(2026, 9, 1)
    for bad in ("31.02.2026", "2026/03/31", "31-03-2026", "yesterday"):
        with pytest.raises(Exception) as info:
            parse_date(bad, "d")
        assert info.value.code == "bad_date"


@pytest.mark.parametrize(
    "label, tax_type",
    [
        ("cladiri", "building"),
        ("Impozit pe clădiri", "building"),
        ("TEREN", "land"),
        ("auto", "vehicle"),
        ("Impozitul pe mijloacele de transport", "vehicle"),
        ("taxa autorizatii", "certificates"),
        ("afișaj", "advertising"),
        ("taxa firma", "advertising"),
        ("spectacole", "shows"),
        ("taxe speciale", "special"),
        ("alte taxe locale", "other"),
        ("454c", "vehicle"),
        ("building", "building"),
    ],
)
def test_tax_types_from_romanian_labels(label, tax_type):
    assert parse_tax_type(label) == tax_type


# --- taxpayers ------------------------------------------------------------------------------


def test_taxpayers_create_accounts_and_find_or_create_persons(tmp_path, years):
    known = make_person(last_name="Popescu", first_name="Ion", national_id=ION)
    run = revenue_import(kind="taxpayers", path=write(tmp_path, "tp.csv", TAXPAYERS))

    assert (run.rows, run.created, run.rejected, run.status) == (3, 3, 0, "done")
    ion = TaxpayerAccount.objects.get(external_id="R-100")
    assert ion.person == known  # found by the keyed hash of the CNP, not duplicated
    assert ion.national_id_hash == crypto.lookup_hash(ION)
    assert (ion.kind, ion.name) == ("individual", "POPESCU ION")
    maria = TaxpayerAccount.objects.get(external_id="R-200")
    assert (maria.person.last_name, maria.person.first_name) == ("Mureșan", "Maria")
    assert maria.person.national_id_masked == crypto.mask(MARIA)
    company = TaxpayerAccount.objects.get(external_id="R-300")
    assert company.kind == "company"
    assert (company.person.kind, company.person.last_name) == ("organisation", company.name)
    assert Person.objects.count() == 3


def test_a_full_name_in_capitals_is_split_last_name_first(tmp_path, years):
    text = f"account,national_id,name\nR-1,{ION},POPESCU ION MIHAI\n"
    revenue_import(kind="taxpayers", path=write(tmp_path, "tp.csv", text))
    person = TaxpayerAccount.objects.get().person
    assert (person.last_name, person.first_name) == ("Popescu", "Ion Mihai")


# --- obligations ----------------------------------------------------------------------------


def test_obligations_get_the_years_instalments(tmp_path, taxpayers):
    run = revenue_import(kind="obligations", path=write(tmp_path, "ob.csv", OBLIGATIONS))
    assert (run.created, run.rejected) == (4, 0)

    building = Obligation.objects.get(external_id="OB-1")
    assert building.account == taxpayers["R-100"]
    assert (building.tax_type, building.fiscal_year, building.amount) == (
        "building",
        2026,
        Decimal("1000.00"),
    )
    assert list(building.instalments.values_list("seq", "due_date", "amount")) == [
        (1, dt.date(2026, 3, 31), Decimal("500.00")),
        (2, dt.date(2026, 9, 30), Decimal("500.00")),
    ]
    # At most 50 lei: the whole year by the first term (art. 472(3)).
    small = Obligation.objects.get(external_id="OB-2")
    assert list(small.instalments.values_list("due_date", "amount")) == [
        (dt.date(2026, 3, 31), Decimal("45.50"))
    ]
    odd = Obligation.objects.get(external_id="OB-3")
    assert [i.amount for i in odd.instalments.all()] == [Decimal("150.63"), Decimal("150.62")]
    assert Obligation.objects.get(external_id="OB-4").account == taxpayers["R-300"]


def test_explicit_instalments_are_taken_as_given(tmp_path, taxpayers):
    text = (
        "id;cnp_cui;tip;an;suma;scadenta_1;rata_1;scadenta_2;rata_2;scadenta_3;rata_3\n"
        f"OB-9;{ION};certificate;2026;300;15.01.2026;100;15.02.2026;100;2026-03-15;100\n"
        f"OB-10;{ION};cladiri;2026;300;15.01.2026;100;15.02.2026;100;;\n"
    )
    run = revenue_import(kind="obligations", path=write(tmp_path, "ob.csv", text))
    assert (run.created, codes(run)) == (1, {3: "instalments_sum"})
    assert list(
        Obligation.objects.get(external_id="OB-9").instalments.values_list("seq", "due_date")
    ) == [(1, dt.date(2026, 1, 15)), (2, dt.date(2026, 2, 15)), (3, dt.date(2026, 3, 15))]


def test_a_year_with_no_terms_is_a_reject(tmp_path, taxpayers):
    text = f"id;cnp_cui;tip;an;suma\nOB-1;{ION};cladiri;2024;100\nOB-2;{ION};cladiri;2026;100\n"
    run = revenue_import(kind="obligations", path=write(tmp_path, "ob.csv", text))
    assert (run.created, codes(run)) == (1, {2: "no_fiscal_year"})
    assert "2024" in read_rejects(run)[1][2]


def test_several_accounts_for_one_cnp_need_the_account_column(tmp_path, taxpayers):
    extra = f"rol;cnp_cui;nume\nR-101;{ION};POPESCU ION\n"
    revenue_import(kind="taxpayers", path=write(tmp_path, "tp2.csv", extra))
    text = (
        "id;cnp_cui;rol;tip;an;suma\n"
        f"OB-1;{ION};;cladiri;2026;100\n"
        f"OB-2;{ION};R-101;cladiri;2026;100\n"
        f"OB-3;{ION};R-200;cladiri;2026;100\n"
    )
    run = revenue_import(kind="obligations", path=write(tmp_path, "ob.csv", text))
    assert codes(run) == {2: "several_accounts", 4: "unknown_taxpayer"}
    assert Obligation.objects.get().account.external_id == "R-101"


# --- idempotence ----------------------------------------------------------------------------


FINES = f"""id,cnp_cui,serie,numar,cod_unic,data,data_comunicarii,emitent,temei_legal,suma,jumatate_minim,titlu_executoriu_din,stare
AM-1,{ION},AB,123456,,10.01.2026,12.01.2026,Poliția Locală Alba Iulia,HCL 255/2021 art. 3,1000,250,2026-02-01,neachitata
AM-2,{MARIA},PL,77,,2026-04-02,,Poliţia Locală Alba Iulia,,500,,,
"""  # noqa: E501

PAYMENTS = f"""id;cnp_cui;data;suma;modalitate;chitanta;debit;amenda
PL-1;{ION};20.03.2026;500;numerar;CH 1001;OB-1;
PL-2;{ION};2026-04-20;250;ghiseul.ro;;;AM-1
PL-3;{MARIA};2026-03-30;"301,25";card;CH 1002;;
"""


def import_all(tmp_path: Path) -> list[ImportRun]:
    files = [
        ("taxpayers", TAXPAYERS),
        ("obligations", OBLIGATIONS),
        ("fines", FINES),
        ("payments", PAYMENTS),
    ]
    return [
        revenue_import(kind=kind, path=write(tmp_path, f"{kind}.csv", text)) for kind, text in files
    ]


def test_importing_the_same_files_twice_changes_nothing(tmp_path, years):
    first = import_all(tmp_path)
    assert [(r.created, r.rejected) for r in first] == [(3, 0), (4, 0), (2, 0), (3, 0)]
    before = snapshot()

    second = import_all(tmp_path)

    assert [(r.rows, r.unchanged, r.created, r.updated, r.rejected) for r in second] == [
        (3, 3, 0, 0, 0),
        (4, 4, 0, 0, 0),
        (2, 2, 0, 0, 0),
        (3, 3, 0, 0, 0),
    ]
    assert snapshot() == before


def test_fines_and_payments_are_imported_with_their_links(tmp_path, years):
    import_all(tmp_path)
    fine = Fine.objects.get(external_id="AM-1")
    assert (fine.series, fine.number, fine.issued_on, fine.communicated_on) == (
        "AB",
        "123456",
        dt.date(2026, 1, 10),
        dt.date(2026, 1, 12),
    )
    assert (fine.amount, fine.half_minimum, fine.enforceable_since, fine.status) == (
        Decimal("1000.00"),
        Decimal("250.00"),
        dt.date(2026, 2, 1),
        "unpaid",
    )
    other = Fine.objects.get(external_id="AM-2")
    assert (other.issuer, other.half_minimum, other.status) == (
        "Poliția Locală Alba Iulia",  # cedilla ţ stored as comma ț
        None,
        "unpaid",
    )
    cash = Payment.objects.get(external_id="PL-1")
    assert (cash.method, cash.obligation.external_id, cash.fine) == ("cash", "OB-1", None)
    online = Payment.objects.get(external_id="PL-2")
    assert (online.method, online.fine.external_id, online.amount) == (
        "online",
        "AM-1",
        Decimal("250.00"),
    )
    assert Payment.objects.get(external_id="PL-3").obligation is None


def test_changed_content_is_refused_unless_updates_are_allowed(tmp_path, taxpayers):
    revenue_import(kind="obligations", path=write(tmp_path, "ob.csv", OBLIGATIONS))
    changed = OBLIGATIONS.replace('"1.000,00"', "1200")
    path = write(tmp_path, "ob2.csv", changed)

    run = revenue_import(kind="obligations", path=path)
    assert (run.unchanged, run.rejected, codes(run)) == (3, 1, {2: "changed"})
    assert Obligation.objects.get(external_id="OB-1").amount == Decimal("1000.00")

    run = revenue_import(kind="obligations", path=path, allow_updates=True)
    assert (run.updated, run.unchanged, run.rejected) == (1, 3, 0)
    building = Obligation.objects.get(external_id="OB-1")
    assert building.amount == Decimal("1200.00")
    assert [i.amount for i in building.instalments.all()] == [Decimal("600.00")] * 2
    assert Instalment.objects.filter(obligation=building).count() == 2


# --- bad input ------------------------------------------------------------------------------


BAD_OBLIGATIONS = f"""id;cnp_cui;tip;an;suma;obiect
OB-1;{ION};cladiri;2026;100;ok
OB-2;{UNKNOWN};cladiri;2026;100;unknown CNP
OB-3;{ION};cladiri;2026;-100;negative
OB-4;{ION};cladiri;2026;abc;not an amount
OB-5;{BAD_CHECK};cladiri;2026;100;check digit
OB-6;{ION};piscina;2026;100;unknown tax
OB-7;{ION};cladiri;20x6;100;bad year
OB-1;{ION};cladiri;2026;999;same id, other content
OB-1;{ION};cladiri;2026;100;ok
OB-8;{ION};teren;2026;100
OB-9;{MARIA};teren;2026;50;ok
"""


def test_each_bad_row_is_one_reject_and_the_good_rows_are_imported(tmp_path, taxpayers):
    path = write(tmp_path, "ob.csv", BAD_OBLIGATIONS)
    # Batches of two: the repeated id is found through the database, batches apart.
    run = revenue_import(kind="obligations", path=path, batch_size=2)

    assert codes(run) == {
        3: "unknown_taxpayer",
        4: "negative_amount",
        5: "bad_amount",
        6: "bad_national_id",
        7: "bad_tax_type",
        8: "bad_year",
        9: "duplicate",
        11: "bad_width",
    }
    assert (run.rows, run.created, run.unchanged, run.rejected) == (11, 2, 1, 8)
    assert set(Obligation.objects.values_list("external_id", flat=True)) == {"OB-1", "OB-9"}
    assert Obligation.objects.get(external_id="OB-1").amount == Decimal("100.00")
    assert Instalment.objects.count() == 3


def test_a_repeated_id_in_one_batch_is_refused_too(tmp_path, taxpayers):
    path = write(tmp_path, "ob.csv", BAD_OBLIGATIONS)
    run = revenue_import(kind="obligations", path=path, batch_size=1000)
    assert codes(run)[9] == "duplicate"
    assert run.created == 2


def test_bad_dates_and_payments_for_unknown_debts_are_rejected(tmp_path, years):
    import_all(tmp_path)
    text = (
        "id;cnp_cui;data;suma;debit;amenda\n"
        f"PL-10;{ION};31.02.2026;100;OB-1;\n"
        f"PL-11;{ION};2026-04-01;100;OB-404;\n"
        f"PL-12;{ION};2026-04-01;100;;AM-404\n"
        f"PL-13;{ION};2026-04-01;100;OB-3;\n"
        f"PL-14;{ION};2026-04-01;0;;\n"
        f"PL-15;{ION};2026-04-01;100;OB-1;AM-1\n"
        f"PL-16;{UNKNOWN};2026-04-01;100;;\n"
        f"PL-17;{ION};2026-04-01;100;OB-1;\n"
    )
    run = revenue_import(kind="payments", path=write(tmp_path, "pay.csv", text))
    assert codes(run) == {
        2: "bad_date",
        3: "unknown_obligation",
        4: "unknown_fine",
        5: "other_taxpayer",
        6: "zero_amount",
        7: "two_targets",
        8: "unknown_taxpayer",
    }
    assert run.created == 1
    assert Payment.objects.filter(external_id__in=[f"PL-1{n}" for n in range(8)]).count() == 1


def test_bad_fines_are_rejected(tmp_path, taxpayers):
    text = (
        "id;cnp_cui;numar;data;data_comunicarii;emitent;suma;jumatate_minim\n"
        f"AM-1;{ION};1;2026-03-10;2026-03-01;Poliția Locală;100;\n"
        f"AM-2;{ION};2;2026-03-10;;Poliția Locală;100;250\n"
        f"AM-3;{ION};3;2026-03-10;;;100;\n"
        f"AM-4;{ION};4;2026-03-10;;Poliția Locală;100;25\n"
    )
    run = revenue_import(kind="fines", path=write(tmp_path, "fines.csv", text))
    assert codes(run) == {2: "date_order", 3: "half_above_fine", 4: "missing_value"}
    assert run.created == 1


def test_the_rejects_file_says_where_and_why_and_keeps_the_row(tmp_path, taxpayers):
    path = write(tmp_path, "ob.csv", BAD_OBLIGATIONS)
    run = revenue_import(kind="obligations", path=path)

    assert run.rejects_file == str(tmp_path / "ob.csv.rejects.csv")
    rows = read_rejects(run)
    assert rows[0] == ["line", "code", "reason", "id", "cnp_cui", "tip", "an", "suma", "obiect"]
    by_line = {int(r[0]): r for r in rows[1:]}
    assert (
        by_line[3][2] == "No taxpayer account for this CNP/CUI (import the taxpayers file first)."
    )
    assert by_line[3][3:] == ["OB-2", UNKNOWN, "cladiri", "2026", "100", "unknown CNP"]
    assert by_line[4][2] == "amount: the amount -100 is negative."
    assert "check digit" in by_line[6][2]
    assert by_line[9][2] == "OB-1 appears earlier in this file with different content."
    assert by_line[11][2] == "The row has 5 fields where the header has 6."


def test_rejects_go_where_asked(tmp_path, taxpayers):
    target = tmp_path / "out" / "respinse.csv"
    target.parent.mkdir()
    run = revenue_import(
        kind="obligations", path=write(tmp_path, "ob.csv", BAD_OBLIGATIONS), rejects_path=target
    )
    assert run.rejects_file == str(target)
    assert len(read_rejects(run)) == 1 + run.rejected


# --- encodings and headers ------------------------------------------------------------------


def test_a_windows_1250_file_with_cedillas_is_read_and_normalised(tmp_path, years):
    text = (
        "rol;cnp_cui;nume;prenume;adresa\n"
        f"R-1;{ION};Ştefănescu;Ţuca;Str. Ţesătorilor nr. 5, Oarda\n"
        f"R-2;{CUI};Braşov Trans SRL;;Şoseaua Cetăţii 1\n"
    )
    path = write(tmp_path, "tp.csv", text, encoding="cp1250")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")

    run = revenue_import(kind="taxpayers", path=path)

    assert (run.created, run.encoding) == (2, "Windows-1250")
    person = TaxpayerAccount.objects.get(external_id="R-1").person
    assert (person.last_name, person.first_name) == ("Ștefănescu", "Țuca")
    assert TaxpayerAccount.objects.get(external_id="R-1").address == (
        "Str. Țesătorilor nr. 5, Oarda"
    )
    assert TaxpayerAccount.objects.get(external_id="R-2").name == "Brașov Trans SRL"


def test_utf8_with_a_bom_and_comma_delimiter(tmp_path, years):
    text = f"\ufeffAccount,National ID,Name\nR-1,{ION},Popescu Ion\n"
    run = revenue_import(kind="taxpayers", path=write(tmp_path, "tp.csv", text))
    assert (run.created, run.encoding) == (1, "UTF-8 (BOM)")


def test_an_explicit_encoding_that_does_not_fit_is_a_clear_error(tmp_path, years):
    path = write(tmp_path, "tp.csv", f"rol;cnp;nume\nR-1;{ION};Ştefan\n", encoding="cp1250")
    with pytest.raises(RevenueImportError, match="not valid utf-8"):
        revenue_import(kind="taxpayers", path=path, encoding="utf-8")
    run = revenue_import(kind="taxpayers", path=path, encoding="cp1250")
    assert run.created == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"rol;cnp;nume\nR-1;1;\x81\x8d\x90\n", "neither UTF-8 nor Windows-1250"),
        ("rol;cnp;nume\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x00\x00rol;cnp;nume", "not a text file"),
        (b"", "is empty"),
    ],
)
def test_a_file_that_is_not_text_is_refused_with_nothing_imported(
    tmp_path, years, content, message
):
    path = tmp_path / "tp.csv"
    path.write_bytes(content)
    with pytest.raises(RevenueImportError, match=message):
        revenue_import(kind="taxpayers", path=path)
    assert not TaxpayerAccount.objects.exists()
    run = ImportRun.objects.get()
    assert (run.status, run.created) == ("failed", 0)
    assert message in run.error


@pytest.mark.parametrize(
    "header, message",
    [
        ("id;cnp_cui;tip;an;suma;culoare", "Unknown columns for “Tax obligations”: culoare"),
        ("id;cnp_cui;tip;suma", "Missing columns for “Tax obligations”: fiscal_year"),
        ("id;cnp;cui;tip;an;suma", "Columns given more than once: national_id"),
    ],
)
def test_a_wrong_header_stops_before_anything_is_imported(tmp_path, taxpayers, header, message):
    text = header + "\n" + f"OB-1;{ION};cladiri;2026;100;x\n"
    with pytest.raises(RevenueImportError, match=message):
        revenue_import(kind="obligations", path=write(tmp_path, "ob.csv", text))
    assert not Obligation.objects.exists()


# --- dry run, crash -------------------------------------------------------------------------


def test_a_dry_run_checks_everything_and_keeps_nothing(tmp_path, taxpayers):
    before = snapshot()
    path = write(tmp_path, "ob.csv", BAD_OBLIGATIONS)

    run = revenue_import(kind="obligations", path=path, dry_run=True, batch_size=2)

    assert snapshot() == before
    assert (run.dry_run, run.created, run.unchanged, run.rejected) == (True, 2, 1, 8)
    assert codes(run)[9] == "duplicate"  # found through the run's temporary table
    # The same file for real gives the same answer.
    real = revenue_import(kind="obligations", path=path, batch_size=2)
    assert (real.created, real.unchanged, real.rejected) == (2, 1, 8)


def test_a_dry_run_of_taxpayers_creates_no_person(tmp_path, years):
    run = revenue_import(kind="taxpayers", path=write(tmp_path, "tp.csv", TAXPAYERS), dry_run=True)
    assert run.created == 3
    assert not Person.objects.exists()
    assert not TaxpayerAccount.objects.exists()


def _fail_on_instalment(amount: str):
    """A real database error while a batch is written: a trigger refuses one instalment."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER boom BEFORE INSERT ON revenue_instalment "
                f"WHEN NEW.amount = {amount} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.amount = {amount} THEN RAISE EXCEPTION 'disk on fire'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER boom BEFORE INSERT ON revenue_instalment "
                "FOR EACH ROW EXECUTE FUNCTION boom()"
            )


def _drop_trigger():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER boom")
        else:
            cursor.execute("DROP TRIGGER boom ON revenue_instalment")
            cursor.execute("DROP FUNCTION boom()")


def test_a_crash_in_the_middle_leaves_whole_batches_and_a_rerun_finishes(tmp_path, taxpayers):
    lines = ["id;cnp_cui;tip;an;suma"]
    lines += [f"OB-{n};{ION};cladiri;2026;{100 + n}" for n in range(1, 11)]
    path = write(tmp_path, "ob.csv", "\n".join(lines) + "\n")
    _fail_on_instalment("53.5")  # OB-7: 107 lei -> instalments 53.50 + 53.50

    with pytest.raises(Exception, match="disk on fire"):
        revenue_import(kind="obligations", path=path, batch_size=3)

    # Batches OB-1..3 and OB-4..6 are in, whole; nothing of OB-7..9 (the failing batch).
    assert sorted(Obligation.objects.values_list("external_id", flat=True)) == [
        f"OB-{n}" for n in range(1, 7)
    ]
    assert Instalment.objects.count() == 12
    run = ImportRun.objects.filter(kind="obligations").get()
    assert (run.status, run.created, run.rows) == ("failed", 6, 9)
    assert "disk on fire" in run.error

    _drop_trigger()
    rerun = revenue_import(kind="obligations", path=path, batch_size=3)
    assert (rerun.unchanged, rerun.created, rerun.rejected) == (6, 4, 0)
    assert Instalment.objects.count() == 20


# --- the command ----------------------------------------------------------------------------


def test_the_command_prints_a_summary_and_writes_rejects(tmp_path, taxpayers):
    path = write(tmp_path, "ob.csv", BAD_OBLIGATIONS)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_revenue", "obligations", str(path), "--batch", "3", stdout=out, stderr=err)
    text = out.getvalue()
    assert "Read 11 rows: 2 created, 0 updated, 1 unchanged, 8 rejected" in text
    assert "(encoding UTF-8)" in text
    assert f"Rejected rows and why: {tmp_path / 'ob.csv.rejects.csv'}" in text

    out = io.StringIO()
    call_command("import_revenue", "obligations", str(path), "--dry-run", stdout=out)
    assert "Dry run, nothing was imported." in out.getvalue()
    assert "0 created, 0 updated, 3 unchanged" in out.getvalue()


def test_the_command_reports_a_file_error(tmp_path, taxpayers):
    path = write(tmp_path, "ob.csv", "id;colour\n1;red\n")
    with pytest.raises(CommandError, match="Unknown columns"):
        call_command("import_revenue", "obligations", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_revenue", "fines", str(tmp_path / "missing.csv"), stdout=io.StringIO())


def test_the_documented_samples_import_as_the_docs_say(tmp_path, years):
    """``docs/samples/revenue`` and what ``docs/revenue-import.md`` says of them."""
    samples = Path(__file__).resolve().parents[3] / "docs" / "samples" / "revenue"

    def run(kind, name):
        return revenue_import(kind=kind, path=samples / name, rejects_path=tmp_path / name)

    for kind in ("taxpayers", "obligations", "fines", "payments"):
        result = run(kind, f"{kind}.csv")
        assert (result.rejected, result.created, result.status) == (0, result.rows, "done")
    result = run("taxpayers", "taxpayers-windows-1250.csv")
    assert (result.encoding, result.created, result.unchanged) == ("Windows-1250", 1, 1)
    assert TaxpayerAccount.objects.get(external_id="100104").person.last_name == "Țăran"

    result = run("obligations", "obligations-with-errors.csv")
    assert (result.created, codes(result)) == (
        1,
        {
            3: "unknown_taxpayer",
            4: "negative_amount",
            5: "bad_date",
            6: "bad_tax_type",
            7: "bad_national_id",
            8: "no_fiscal_year",
            9: "duplicate",
        },
    )
    result = run("payments", "payments-with-errors.csv")
    assert (result.created, codes(result)) == (
        1,
        {
            3: "unknown_obligation",
            4: "bad_date",
            5: "zero_amount",
            6: "unknown_taxpayer",
            7: "other_taxpayer",
            8: "bad_code",
        },
    )


def test_the_progress_bar_gets_the_rows_as_batches_finish(tmp_path, taxpayers):
    updates: list[int] = []

    class Bar:
        def __init__(self, total):
            updates.append(-total)

        def update(self, n):
            updates.append(n)

        def close(self):
            updates.append(0)

    path = write(tmp_path, "ob.csv", BAD_OBLIGATIONS)
    revenue_import(kind="obligations", path=path, batch_size=4, progress=Bar)
    assert updates == [-11, 4, 4, 3, 0]


def test_a_taxpayer_whose_address_changed_is_updated_when_allowed(tmp_path, taxpayers):
    person = taxpayers["R-100"].person
    moved = TAXPAYERS.replace("Str. Mihai Viteazul nr. 3", "Str. Decebal nr. 8")
    run = revenue_import(
        kind="taxpayers", path=write(tmp_path, "tp2.csv", moved), allow_updates=True
    )
    assert (run.updated, run.unchanged) == (1, 2)
    account = TaxpayerAccount.objects.get(external_id="R-100")
    assert (account.address, account.person) == ("Str. Decebal nr. 8", person)
    assert Person.objects.count() == 3
