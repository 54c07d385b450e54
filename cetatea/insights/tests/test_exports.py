"""The overview's CSV/XLSX exports: every table read back and compared with the
selectors, the permission matrix, refusals, the XLSX row limit, no personal data in
the cases table, and memory that does not grow with the number of rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from cetatea.cases.services import Contact, case_change_status
from cetatea.catalog.models import StaffProfile
from cetatea.core import roles
from cetatea.insights import exports, selectors
from cetatea.insights.refresh import rebuild
from conftest import INSIDE, make_case, make_person, make_user

URL = "/staff/insights/export/"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def build_fixture(catalog, personas) -> dict:
    """A few cases through the services, two viewers of one department and the mayor,
    then the counts rebuilt."""
    requester = make_person(last_name="Vasilescu", first_name="Ionela", phones=["0722123456"])
    first = make_case(
        category="POTHOLE",
        channel="web",
        latitude=INSIDE[0],
        longitude=INSIDE[1],
        description="Groapă mare în fața casei doamnei Vasilescu",
        requester=requester,
    )
    make_case(
        category="POTHOLE",
        channel="phone",
        contact=Contact(name="Maria Ionescu", email="maria@example.ro", phone="0744555666"),
        description="Sună-mă la 0744555666",
    )
    make_case(category="INFO", channel="email", title="Cerere informații")
    case_change_status(case_id=first.pk, status="fixed", actor=personas["admin"])
    _register_petitions(catalog)
    rebuild()
    mayor = make_user("mayor", roles.LEADERSHIP)
    StaffProfile.objects.create(user=personas["manager"], department=catalog["roads"])
    other = make_user("manager2", roles.MANAGER)
    StaffProfile.objects.create(user=other, department=catalog["public"])
    today = selectors.today()
    period = selectors.Period(today - dt.timedelta(days=29), today)
    return {
        "mayor": mayor,
        "manager": personas["manager"],
        "other_manager": other,
        "period": period,
        "query": f"start={period.start}&end={period.end}",
        "cases": [first],
    }


def _register_petitions(catalog) -> None:
    """The shipped registry (as the registry's tests load it) and two documents of the
    public-relations point: a petition and a request under Law 544/2001."""
    from cetatea.catalog.models import Category
    from cetatea.registry.models import DocumentType, RegistryPoint
    from cetatea.registry.services import registry_entry_register

    other = Category.objects.create(
        code="OTHER",
        name_ro="Altele",
        name_en="Other",
        department=catalog["public"],
        target_hours=720,
        regime="petition",
    )
    call_command("load_registry", stdout=io.StringIO())
    RegistryPoint.objects.filter(code="rg").update(department=catalog["public"])
    DocumentType.objects.filter(code="info-544").update(case_category=catalog["info"])
    DocumentType.objects.filter(code="petitie").update(case_category=other)
    point = RegistryPoint.objects.get(code="rg")
    for kind in ("petitie", "info-544"):
        registry_entry_register(
            point=point,
            doc_type=DocumentType.objects.get(code=kind),
            summary="Cerere privind trotuarul de pe str. Trandafirilor",
            sender_name="Popescu Ionuț",
            sender_address="Str. Trandafirilor 3, Alba Iulia",
        )


@pytest.fixture
def data(catalog, personas):
    return build_fixture(catalog, personas)


def _csv(response) -> tuple[str, list[str], list[list[str]]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    return rows[0][0], rows[1], rows[2:]


def _xlsx(response) -> tuple[str, list[str], list[list]]:
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = [h for h in rows[1] if h is not None]
    return rows[0][0], header, [r[: len(header)] for r in rows[2:]]


def _plain(value) -> str:
    """A selector's value as the CSV writes it."""
    return "" if value is None else str(value)


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600, 1)


def _expected(name: str, period, department=None) -> list[list]:
    if name in ("departments", "categories", "areas", "channels"):
        by = {"departments": "department", "categories": "category"}.get(name, name[:-1])
        out = []
        for r in selectors.breakdown(period, by, department=department):
            i = r.indicators
            out.append(
                [
                    r.label,
                    i.received,
                    i.resolved,
                    i.backlog,
                    i.open_now,
                    i.overdue_now,
                    i.on_time_pct,
                    _hours(i.first_response_median),
                    _hours(i.first_response_p90),
                    _hours(i.resolution_median),
                    _hours(i.resolution_p90),
                    i.reopen_pct,
                    i.forwarded_pct,
                    i.first_contact_pct,
                    i.satisfaction,
                    i.with_photo_pct,
                    i.with_location_pct,
                ]
            )
        return out
    if name == "trend":
        return [
            [p.start, p.end, p.received, p.resolved, p.backlog]
            for p in selectors.trend(period, department=department)
        ]
    if name == "legal":
        return [
            [f.received, f.closed, f.on_time, f.in_term, f.open_now, f.late_now]
            for f in selectors.legal(period, department=department).values()
        ]
    if name == "registry_points":
        return [
            [p.label, p.incoming, p.outgoing, p.internal] for p in selectors.registry_points(period)
        ]
    if name == "robot":
        r = selectors.robot(period)
        return [[r.calls, r.identified, r.self_served, r.transferred, r.hangups]]
    raise AssertionError(name)


def _legal_pick(row):
    # received, closed, on time, in term, open now, late now
    return [row[1], row[2], row[3], row[5], row[12], row[13]]


# Every table but the list of cases.
SUMMARY_TABLES = [name for name in exports.TABLES if name != "cases"]


def _robot_pick(row):
    return [row[0], row[1], row[3], row[5], row[7]]


@pytest.mark.parametrize(
    "name",
    SUMMARY_TABLES,
)
def test_csv_of_each_table_has_the_selectors_figures(client, data, name):
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?table={name}&format=csv&{data['query']}")
    assert response.status_code == 200
    assert response.streaming
    period = data["period"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="cetatea-{name}-{period.start}-{period.end}.csv"'
    )
    # Sent like every file (cetatea.core.security): never sniffed, cached or run.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    title, header, rows = _csv(response)
    assert str(period) in title
    expected = _expected(name, period)
    if name == "legal":
        rows = [_legal_pick(r) for r in rows]
    elif name == "robot":
        rows = [_robot_pick(r) for r in rows]
    assert rows == [[_plain(v) for v in row] for row in expected]
    assert len(header) == len(expected[0]) or name in ("legal", "robot")
    if name in ("legal", "registry_points"):
        assert any(v for row in expected for v in row[1:])  # the fixture has figures


def test_breakdown_csv_has_every_indicator_column(client, data):
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?table=departments&format=csv&{data['query']}")
    _title, header, rows = _csv(response)
    assert header[:6] == [
        "Department",
        "Received",
        "Resolved",
        "Backlog at the end of the period",
        "Open now",
        "Overdue now",
    ]
    assert "Satisfaction (1-5)" in header and "With a location (%)" in header
    roads = next(r for r in rows if r[0] == "Roads")
    assert roads[1:3] == ["2", "1"]  # two potholes received, one fixed


@pytest.mark.parametrize(
    "name",
    SUMMARY_TABLES,
)
def test_xlsx_of_each_table_has_the_selectors_figures(client, data, name):
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?table={name}&format=xlsx&{data['query']}")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'-{data["period"].end}.xlsx"')
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]
    title, _header, rows = _xlsx(response)
    assert str(data["period"]) in title
    expected = _expected(name, data["period"])
    if name == "legal":
        rows = [_legal_pick(r) for r in rows]
    elif name == "robot":
        rows = [_robot_pick(r) for r in rows]
    elif name == "trend":
        rows = [[r[0].date(), r[1].date(), *r[2:]] for r in rows]
    assert rows == expected


def test_cases_csv_lists_the_drill_down_without_personal_data(client, data):
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?table=cases&format=csv&{data['query']}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[1] == [
        "Reference",
        "Registered",
        "Category",
        "Department",
        "Neighbourhood",
        "Channel",
        "Status",
        "Due",
        "Closed",
    ]
    drill = selectors.drill_cases(selectors.DrillFilter(period=data["period"]))
    assert [r[0] for r in rows[2:]] == list(drill.values_list("reference", flat=True))
    fixed = next(r for r in rows[2:] if r[0] == data["cases"][0].reference)
    assert fixed[2:4] == ["Potholes", "Roads"]
    assert fixed[4] == "Citadel"
    assert fixed[5:7] == ["Web form", "Fixed"]
    assert fixed[8]  # closed
    for secret in (
        "Vasilescu",
        "Ionela",
        "0722123456",
        "Maria Ionescu",
        "maria@example.ro",
        "0744555666",
        "Groapă mare",
        "Cerere informații",
        "Popescu Ionuț",
        "Trandafirilor",
    ):
        assert secret not in body


def test_cases_xlsx_filters_by_figure_and_channel(client, data, catalog):
    client.force_login(data["mayor"])
    response = client.get(
        f"{URL}?table=cases&format=xlsx&{data['query']}&metric=resolved"
        f"&category={catalog['pothole'].pk}"
    )
    _title, _header, rows = _xlsx(response)
    assert [r[0] for r in rows] == [data["cases"][0].reference]
    assert isinstance(rows[0][1], dt.datetime)
    response = client.get(f"{URL}?table=cases&format=csv&{data['query']}&channel=phone")
    _title, _header, rows = _csv(response)
    assert [r[5] for r in rows] == ["Phone (operator)"]


def test_romanian_user_gets_romanian_names(client, data):
    client.cookies["django_language"] = "ro"
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?table=cases&format=csv&{data['query']}")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "Drumuri" in body and "Gropi" in body and "Relații cu publicul" in body
    assert "Roads" not in body


# ------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("who", ["operator", "clerk", "staff", "crew", "revenue", "citizen"])
def test_staff_without_the_overview_are_refused(client, data, personas, who):
    client.force_login(personas[who])
    response = client.get(f"{URL}?table=departments&format=csv")
    assert response.status_code == 403


def test_anonymous_is_sent_to_log_in(client, data):
    response = client.get(f"{URL}?table=departments&format=csv")
    assert response.status_code == 302


def test_department_viewer_exports_only_their_department(client, data, catalog):
    client.force_login(data["manager"])
    response = client.get(f"{URL}?table=departments&format=csv&{data['query']}")
    assert response.status_code == 200
    _title, _header, rows = _csv(response)
    assert [r[0] for r in rows] == ["Roads"]
    response = client.get(f"{URL}?table=cases&format=csv&{data['query']}")
    _title, _header, rows = _csv(response)
    assert {r[3] for r in rows} == {"Roads"}
    response = client.get(f"{URL}?table=cases&format=csv&{data['query']}&department=roads")
    assert response.status_code == 200
    response = client.get(f"{URL}?table=cases&format=csv&department=public")
    assert response.status_code == 403
    for city_table in ("registry_points", "robot"):
        response = client.get(f"{URL}?table={city_table}&format=csv")
        assert response.status_code == 403


def test_administrator_and_mayor_export_any_department(client, data, personas):
    for user in (data["mayor"], personas["admin"]):
        client.force_login(user)
        response = client.get(f"{URL}?table=cases&format=csv&department=public&{data['query']}")
        assert response.status_code == 200
        _title, _header, rows = _csv(response)
        assert {r[3] for r in rows} == {"Public relations"}


def test_viewer_without_the_export_permission_is_refused(client, data):
    from django.contrib.auth.models import Permission

    user = make_user("viewer-only")
    user.user_permissions.add(
        Permission.objects.get(codename="view_city_dashboard", content_type__app_label="insights")
    )
    client.force_login(user)
    assert client.get(f"{URL}?table=departments&format=csv").status_code == 403


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "query, message",
    [
        ("table=nope&format=csv", "There is no table “nope”"),
        ("table=&format=csv", "There is no table"),
        ("table=trend&format=pdf", "There is no format “pdf”"),
        ("table=trend&start=2026-02-30", "is not a date"),
        ("table=trend&start=yesterday", "is not a date"),
        ("table=trend&start=2026-05-02&end=2026-05-01", "before its start"),
        ("table=trend&start=2000-01-01&end=2026-01-01", "at most ten years"),
        ("table=cases&department=nowhere", "There is no department “nowhere”"),
        ("table=cases&metric=bogus", "Unknown figure “bogus”"),
        ("table=cases&channel=pigeon", "There is no channel “pigeon”"),
        ("table=cases&category=abc", "must be a number"),
        ("table=cases&area=1x", "must be a number"),
    ],
)
def test_bad_input_is_refused_with_a_message(client, data, query, message):
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert message in response.content.decode()


def test_xlsx_over_the_row_limit_is_refused_but_csv_works(client, data, monkeypatch):
    # Five cases: four data rows fit, five do not.
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", exports.HEADER_ROWS + 4)
    client.force_login(data["mayor"])
    response = client.get(f"{URL}?table=cases&format=xlsx&{data['query']}")
    assert response.status_code == 400
    assert "export it as CSV" in response.content.decode()
    response = client.get(f"{URL}?table=cases&format=csv&{data['query']}")
    assert response.status_code == 200
    assert len(_csv(response)[2]) == 5
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", exports.HEADER_ROWS + 5)
    response = client.get(f"{URL}?table=cases&format=xlsx&{data['query']}")
    assert response.status_code == 200


# ------------------------------------------------------------------------------ memory


def _seed_minimal_cases(catalog, start: int, count: int) -> None:
    """Rows straight into the table (the services would take minutes for this many)."""
    from cetatea.cases.models import Case

    now = timezone.now()
    Case.objects.bulk_create(
        (
            Case(
                reference=f"MEM-{i:07d}",
                year=1999,
                sequence=i,
                channel="web",
                category=catalog["pothole"],
                department=catalog["roads"],
                title="x",
                registered_at=now - dt.timedelta(seconds=i),
                due_at=now + dt.timedelta(days=10),
            )
            for i in range(start, start + count)
        ),
        batch_size=2000,
    )


def _peak_while_streaming(client) -> tuple[int, int]:
    tracemalloc.start()
    try:
        response = client.get(f"{URL}?table=cases&format=csv")
        rows = 0
        tracemalloc.reset_peak()
        for piece in response.streaming_content:
            rows += piece.count(b"\n")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, rows


def test_csv_memory_does_not_grow_with_the_rows(client, catalog, personas):
    client.force_login(personas["admin"])
    _seed_minimal_cases(catalog, 1, 6000)
    small_peak, small_rows = _peak_while_streaming(client)
    _seed_minimal_cases(catalog, 6001, 24000)
    large_peak, large_rows = _peak_while_streaming(client)
    assert (small_rows, large_rows) == (6002, 30002)
    # Five times the rows, about the same memory: one chunk of 2,000 rows at a time.
    assert large_peak < small_peak * 1.5 + 256 * 1024, (small_peak, large_peak)
    assert large_peak < 8 * 1024 * 1024
