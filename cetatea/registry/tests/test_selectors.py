"""The clerks' search (each filter, combined, keyset pages, the indexes it reads) and the
deadline watch."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from cetatea.registry import search, selectors
from cetatea.registry.choices import Direction, EntryStatus
from cetatea.registry.models import Entry
from cetatea.registry.selectors import EntryFilters, entry_search
from cetatea.registry.services import registry_entry_answer, registry_entry_register

TZ = ZoneInfo("Europe/Bucharest")


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def register(registry, point="rg", kind="cerere", **kwargs):
    kwargs.setdefault("summary", "Cerere certificat de atestare fiscală")
    kwargs.setdefault("sender_name", "Popescu Ion")
    kwargs.setdefault("sender_address", "Str. Trandafirilor 3, Alba Iulia")
    return registry_entry_register(
        point=registry["points"][point], doc_type=registry["types"][kind], **kwargs
    )


def numbers(page) -> list[str]:
    return [e.display_number for e in page.entries]


def everything(filters: EntryFilters, page_size: int = 100) -> list[str]:
    return numbers(entry_search(filters, page_size=page_size))


@pytest.fixture(params=["index", "scan"])
def strategy(request, monkeypatch):
    """Both ways SQLite reads a word or a sender: from the trigram / sender index when
    few entries match, walking the date order when many do (PostgreSQL: the planner's
    choice; the results must be the same)."""
    if request.param == "scan":
        monkeypatch.setattr(selectors, "PROBE_LIMIT", 1)
        monkeypatch.setattr(selectors, "SMALL_POINT", 0)
    return request.param


@pytest.fixture
def book(registry, personas):
    """Twelve entries of March 2026 at three points, and the answer to one of them."""
    r, p = registry["roads"], registry["public"]
    rows = {
        # name: (day, hour, point, type, sender, summary, department)
        "closca": (2, 9, "rg", "petitie", "Popescu Ion", "Trotuarul de pe strada Cloșca", r),
        "popa": (2, 10, "rg", "cerere", "Popa Maria", "Certificat de urbanism: garaj", p),
        "dv_ana": (3, 11, "dv", "cerere", "Ştefănescu Ana", "Scutire de impozit", p),
        "info": (4, 12, "rg", "info-544", "Ionescu Pop", "Contractele trotuarelor", p),
        "groapa": (5, 9, "rg", "petitie", "Ștefănescu Dan", "Groapă, strada Horea", r),
        "dv_radu": (6, 15, "dv", "cerere", "Stefanescu Radu", "Certificat fiscal", p),
        "adresa": (9, 9, "rg", "corespondenta", "Consiliul Județean", "Adresă: drumul", r),
        "ioana": (10, 10, "rg", "cerere", "Popescu Ioana", "Urbanism, strada Cloșca", p),
        "das": (11, 11, "das", "cerere", "Moldovan Ion", "Ajutor de încălzire", r),
        "iluminat": (12, 12, "rg", "petitie", "Mureșan Vasile", "Stins pe strada Horea", r),
        "referat": (13, 13, "rg", "intern", "", "Referat privind iluminatul public", p),
        "late": (31, 23, "rg", "cerere", "Pop Vasile", "Certificat fiscal: vânzare", p),
    }
    made = {}
    for name, (day, hour, point, kind, sender, summary, department) in rows.items():
        moment = at(2026, 3, day, hour, 50 if name == "late" else 0)
        with time_machine.travel(moment, tick=False):
            made[name] = register(
                registry,
                point=point,
                kind=kind,
                sender_name=sender,
                summary=summary,
                department=department,
                direction=Direction.INTERNAL if kind == "intern" else Direction.INCOMING,
                actor=personas["clerk"],
            )
    with time_machine.travel(at(2026, 3, 20), tick=False):
        made["answer"] = registry_entry_answer(
            entry_id=made["popa"].pk, summary="Eliberat", actor=personas["clerk"]
        )
    return {name: entry.display_number for name, entry in made.items()}


@pytest.mark.django_db
def test_a_number_finds_its_entry(registry, book, strategy):
    assert book["closca"] == "RG-1/2026" and book["popa"] == "RG-2/2026"
    assert everything(EntryFilters(number="RG-2/2026")) == [book["popa"]]
    assert everything(EntryFilters(number=" rg 2 / 2026 ")) == [book["popa"]]
    # A bare number within the other filters: number 2 of each book that has one.
    assert set(everything(EntryFilters(number="2"))) == {book["popa"], book["dv_radu"]}
    dv = registry["points"]["dv"].pk
    assert everything(EntryFilters(number="2", point_id=dv)) == [book["dv_radu"]]
    for missing in ("RG-99/2026", "RG-2/2025", "XX-2/2026", "123456", "nonsense", "1e5", "-2"):
        assert everything(EntryFilters(number=missing)) == [], missing


@pytest.mark.django_db
def test_a_sender_is_a_prefix_of_last_name_first_name(registry, book, strategy):
    assert everything(EntryFilters(sender="pop")) == [
        book["late"],  # Pop Vasile
        book["ioana"],  # Popescu Ioana
        book["popa"],  # Popa Maria; not "Ionescu Pop"
        book["closca"],  # Popescu Ion
    ]
    assert everything(EntryFilters(sender="Popescu Io")) == [book["ioana"], book["closca"]]
    assert everything(EntryFilters(sender="popescu ion")) == [book["closca"]]
    # ş (cedilla), ș (comma below) and plain s are the same letter.
    for spelling in ("Ştefănescu", "Ștefănescu", "stefanescu"):
        assert everything(EntryFilters(sender=spelling)) == [
            book["dv_radu"],
            book["groapa"],
            book["dv_ana"],
        ], spelling
    assert everything(EntryFilters(sender="zzz")) == []


@pytest.mark.django_db
def test_words_of_the_summary_are_found_anywhere_in_it(registry, book, strategy):
    assert everything(EntryFilters(text="trotuar")) == [book["info"], book["closca"]]
    assert everything(EntryFilters(text="CLOȘCA")) == [book["ioana"], book["closca"]]
    assert everything(EntryFilters(text="urbanism closca")) == [book["ioana"]]
    assert everything(EntryFilters(text="strada horea")) == [book["iluminat"], book["groapa"]]
    # Words shorter than a trigram still filter (no index serves them).
    assert everything(EntryFilters(text="pe horea")) == [book["iluminat"]]
    assert everything(EntryFilters(text="certificat xylofon")) == []
    assert everything(EntryFilters(text=" ,. ")) == everything(EntryFilters())


@pytest.mark.django_db
def test_a_date_range_is_whole_local_days(registry, book, strategy):
    # "late" was registered on 31 March at 23:50 in Bucharest (20:50 UTC).
    last_day = EntryFilters(date_from=dt.date(2026, 3, 31), date_to=dt.date(2026, 3, 31))
    assert everything(last_day) == [book["late"]]
    assert book["late"] not in everything(EntryFilters(date_to=dt.date(2026, 3, 30)))
    first_days = EntryFilters(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 3))
    assert everything(first_days) == [book["dv_ana"], book["popa"], book["closca"]]
    assert everything(EntryFilters(date_from=dt.date(2026, 4, 1))) == []
    assert everything(EntryFilters(date_to=dt.date(2025, 12, 31))) == []


@pytest.mark.django_db
def test_each_column_filter(registry, book, strategy):
    roads, public = registry["roads"].pk, registry["public"].pk
    types, points = registry["types"], registry["points"]
    assert everything(EntryFilters(department_id=roads)) == [
        book["iluminat"],
        book["das"],
        book["adresa"],
        book["groapa"],
        book["closca"],
    ]
    assert book["answer"] in everything(EntryFilters(department_id=public))
    assert everything(EntryFilters(point_id=points["dv"].pk)) == [book["dv_radu"], book["dv_ana"]]
    assert everything(EntryFilters(point_id=points["das"].pk)) == [book["das"]]
    assert everything(EntryFilters(doc_type_id=types["info-544"].pk)) == [book["info"]]
    assert everything(EntryFilters(status=EntryStatus.ANSWERED)) == [book["popa"]]
    assert everything(EntryFilters(direction=Direction.INTERNAL)) == [book["referat"]]
    assert everything(EntryFilters(direction=Direction.OUTGOING)) == [book["answer"]]


@pytest.mark.django_db
def test_filters_combine(registry, book, strategy):
    roads = registry["roads"].pk
    rg = registry["points"]["rg"].pk
    combined = EntryFilters(
        sender="pop",
        text="trotuar",
        date_from=dt.date(2026, 3, 1),
        date_to=dt.date(2026, 3, 31),
        department_id=roads,
        point_id=rg,
        doc_type_id=registry["types"]["petitie"].pk,
        status=EntryStatus.OPEN,
        direction=Direction.INCOMING,
    )
    assert everything(combined) == [book["closca"]]
    assert everything(EntryFilters(text="strada", department_id=roads, status="open")) == [
        book["iluminat"],
        book["groapa"],
        book["closca"],
    ]
    assert everything(EntryFilters(number="RG-1/2026", text="horea")) == []
    assert everything(EntryFilters(number="1", point_id=rg, sender="popescu")) == [book["closca"]]
    assert everything(EntryFilters(point_id=registry["points"]["dv"].pk, department_id=roads)) == []


@pytest.mark.django_db
def test_keyset_pages_never_repeat_or_skip_with_equal_times(registry, strategy):
    moment = at(2026, 5, 4, 9)
    with time_machine.travel(moment, tick=False):
        same = [register(registry, summary=f"Cerere {i} certificat") for i in range(7)]
        later = register(registry, registered_at=moment + dt.timedelta(seconds=1))
        earlier = register(registry, registered_at=moment - dt.timedelta(seconds=1))
    assert len({e.registered_at for e in same}) == 1
    expected = [later.pk] + sorted((e.pk for e in same), reverse=True) + [earlier.pk]
    for filters in (EntryFilters(), EntryFilters(text="certificat"), EntryFilters(sender="pop")):
        seen, cursor = [], ""
        for _page in range(10):
            page = entry_search(filters, cursor=cursor, page_size=3)
            seen += [e.pk for e in page.entries]
            cursor = page.next_cursor
            if not cursor:
                break
        assert seen == expected, filters


@pytest.mark.django_db
def test_the_last_page_has_no_next_cursor(registry, book):
    page = entry_search(EntryFilters(point_id=registry["points"]["dv"].pk), page_size=2)
    assert len(page.entries) == 2 and page.next_cursor == ""
    page = entry_search(EntryFilters(point_id=registry["points"]["dv"].pk), page_size=1)
    assert entry_search(EntryFilters(), cursor=page.next_cursor, page_size=1).entries
    page = entry_search(EntryFilters(), page_size=2)
    assert page.next_cursor and json.loads(page.next_cursor)[1] == page.entries[-1].pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "[]",
        '["x", 1]',
        '["2026-03-02T09:00:00", 5]',  # no time zone
        '["2026-03-02T09:00:00+02:00", "a"]',
        '["2026-03-02T09:00:00+02:00", -1]',
        '["2026-03-02T09:00:00+02:00", 99999999999999999999999]',
        '{"a": 1}',
    ],
)
def test_a_bad_cursor_gives_an_empty_page(registry, book, cursor):
    assert entry_search(EntryFilters(), cursor=cursor).entries == []


@pytest.mark.django_db
def test_a_search_is_a_few_queries(registry, book, django_assert_max_num_queries, strategy):
    rg = registry["points"]["rg"].pk
    for filters in (
        EntryFilters(),
        EntryFilters(number="RG-3/2026"),
        EntryFilters(sender="pop", text="certificat", point_id=rg),
        EntryFilters(text="strada", status="open", department_id=registry["roads"].pk),
        EntryFilters(text="strada horea"),
    ):
        # The books, up to two counts in an index (PostgreSQL: one, after the SET LOCAL
        # that asks for it, and the RESET inside a test's transaction), the page.
        with django_assert_max_num_queries(5):
            page = entry_search(filters, page_size=5)
        with django_assert_max_num_queries(0):  # related rows came with the entries
            [(e.display_number, e.doc_type.name, e.department) for e in page.entries]


def _plan(filters: EntryFilters) -> str:
    """SQLite's plan for choosing the page (the subquery of the search's last statement,
    which picks the ids before the rows are joined), with the parameters bound."""
    captured = []

    def spy(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        entry_search(filters)
    sql, params = captured[-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        rows = cursor.fetchall()
    root = next(row[0] for row in rows if row[-1].startswith("LIST SUBQUERY"))
    inside, lines = {root}, []
    for node, parent, _unused, detail in rows:
        if parent in inside:
            inside.add(node)
            lines.append(detail)
    return " | ".join(lines)


@pytest.mark.django_db
def test_each_filter_reads_an_index_in_date_order(registry, book):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics (EXPLAIN in bench/registry.py)")
    roads = registry["roads"].pk
    cases = {
        "entry_registered_idx": EntryFilters(),
        "entry_dept_registered_idx": EntryFilters(department_id=roads),
        "entry_status_registered_idx": EntryFilters(status="open", department_id=roads),
        "entry_type_idx": EntryFilters(doc_type_id=registry["types"]["petitie"].pk),
        "entry_sender_idx": EntryFilters(sender="popescu"),
        "(book_id=? AND number=?)": EntryFilters(number="RG-2/2026"),
    }
    for index, filters in cases.items():
        plan = _plan(filters)
        assert index in plan, (index, plan)
    for filters in (EntryFilters(), EntryFilters(department_id=roads), EntryFilters(status="open")):
        assert "TEMP B-TREE" not in _plan(filters)  # no sort: the index gives the order
    rare = _plan(EntryFilters(text="trotuar"))
    assert "INTEGER PRIMARY KEY" in rare and "SCAN registry_entry " not in rare + " "


@pytest.mark.django_db
def test_the_summary_index_follows_every_write(registry):
    first = register(registry, summary="Cerere pentru xilofonul școlii")
    assert everything(EntryFilters(text="xilofon")) == [first.display_number]
    Entry.objects.filter(pk=first.pk).update(summary_key="cerere pentru vioara")
    assert everything(EntryFilters(text="xilofon")) == []
    assert everything(EntryFilters(text="vioara")) == [first.display_number]
    Entry.objects.filter(pk=first.pk).delete()
    assert everything(EntryFilters(text="vioara")) == []


@pytest.mark.django_db
def test_a_lost_trigger_is_put_back_after_migrate(registry):
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite rebuilds tables (and drops their triggers) on ALTER")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER registry_entry_fts_ai")
    missed = register(registry, summary="Cerere pentru harpa orchestrei")
    assert search.ensure_summary_index(connection) is True
    assert everything(EntryFilters(text="harpa")) == [missed.display_number]
    assert search.ensure_summary_index(connection) is False
    after = register(registry, summary="O altă harpă")
    assert everything(EntryFilters(text="harpa")) == [after.display_number, missed.display_number]


# --- the deadline watch ---------------------------------------------------------------------


@pytest.fixture
def terms(registry, personas):
    """Petitions (30 days) registered so that on 2 November 2026 some are late, some end
    within three days, one is answered and one ends later."""
    roads = registry["roads"]
    made = {}
    plan = {
        "late_public": (at(2026, 9, 25), None),  # 25 Oct (Sunday) -> Monday 26 Oct
        "late_roads": (at(2026, 9, 28), roads),  # 28 Oct
        "today_roads": (at(2026, 10, 3), roads),  # 2 Nov
        "soon_public": (at(2026, 10, 5), None),  # 4 Nov
        "later_public": (at(2026, 10, 20), None),  # 19 Nov
        "answered_roads": (at(2026, 9, 28, 11), roads),
    }
    for name, (moment, department) in plan.items():
        with time_machine.travel(moment, tick=False):
            made[name] = register(registry, kind="petitie", department=department)
    with time_machine.travel(at(2026, 10, 30), tick=False):
        registry_entry_answer(
            entry_id=made["answered_roads"].pk, summary="Răspuns", actor=personas["clerk"]
        )
    return made


@pytest.mark.django_db
def test_deadline_watch_lists_late_and_near_terms_soonest_first(registry, terms, settings):
    today = dt.date(2026, 11, 2)
    watch = selectors.deadline_watch(today=today, soon_days=3)
    assert [e.pk for e in watch["overdue"]] == [terms["late_public"].pk, terms["late_roads"].pk]
    assert [e.pk for e in watch["soon"]] == [terms["today_roads"].pk, terms["soon_public"].pk]
    roads = selectors.deadline_watch(today=today, soon_days=3, department_id=registry["roads"].pk)
    assert [e.pk for e in roads["overdue"]] == [terms["late_roads"].pk]
    assert [e.pk for e in roads["soon"]] == [terms["today_roads"].pk]
    assert len(selectors.deadline_watch(today=today, soon_days=3, limit=1)["overdue"]) == 1
    settings.CETATEA_REGISTRY_ALERT_DAYS = 0
    assert [e.pk for e in selectors.deadline_watch(today=today)["soon"]] == [
        terms["today_roads"].pk
    ]


@pytest.mark.django_db
def test_deadline_summary_counts_per_department(registry, terms, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        summary = selectors.deadline_summary(today=dt.date(2026, 11, 2), soon_days=3)
    by_department = {t.department_id: (t.overdue, t.soon) for t in summary}
    assert by_department == {registry["public"].pk: (1, 1), registry["roads"].pk: (1, 1)}
    assert selectors.deadline_summary(today=dt.date(2026, 10, 1), soon_days=3) == []


@pytest.mark.django_db(transaction=True)
def test_the_planner_settings_of_a_word_search_do_not_outlive_it(registry):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (SQLite reads its FTS5 table)")
    from django.db import transaction

    register(registry, summary="Strada Horea, trotuar")

    def settings_now():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
            )
            return cursor.fetchone()

    assert everything(EntryFilters(text="strada horea")) == ["RG-1/2026"]  # autocommit
    assert settings_now() == ("on", "on")
    with transaction.atomic():  # inside a view's transaction
        assert everything(EntryFilters(text="strada horea")) == ["RG-1/2026"]
        assert settings_now() == ("on", "on")


@pytest.mark.django_db
def test_a_double_submit_is_found_through_its_index(registry):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL proves the partial index's condition itself")
    from cetatea.registry.services import _by_submit_token

    first = register(registry, submit_token="form-1")
    captured = []

    def spy(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert _by_submit_token("form-1") == first
    sql, params = captured[-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert "USING INDEX entry_submit_token" in plan, plan
    assert register(registry, submit_token="form-1") == first
