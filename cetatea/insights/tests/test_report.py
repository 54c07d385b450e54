"""A department's monthly PDF: its content read back with pypdf, who may have it, the
month checks, and the monthly command that writes every department's report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from cetatea.insights import report, selectors
from cetatea.insights.tests.test_exports import build_fixture

URL = "/staff/insights/export/department/{code}/{month}.pdf"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def data(catalog, personas):
    return build_fixture(catalog, personas)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _this_month() -> str:
    return f"{selectors.today():%Y-%m}"


def test_report_names_the_department_month_and_key_figures(client, data, catalog):
    client.force_login(data["mayor"])
    response = client.get(URL.format(code="roads", month=_this_month()))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="cetatea-roads-{_this_month()}.pdf"' in response["Content-Disposition"]
    text = _text(response.content)
    today = selectors.today()
    first = today.replace(day=1)
    indicators = selectors.indicators(report.month_period(first), department=catalog["roads"])
    assert "Roads" in text
    assert f"{report.month_label(first)}" in text
    assert "Primăria" in text or "Primaria" in text.replace("ă", "a")
    assert indicators.received == 2 and indicators.resolved == 1
    assert "Received" in text and "Resolved" in text
    # The KPI table: received 2, resolved 1 this month; the comparison columns follow.
    assert f"Open now: {indicators.open_now}, of which overdue now: {indicators.overdue_now}" in (
        text
    )
    assert "By category" in text and "Potholes" in text
    assert "By channel" in text and "Web form" in text and "Phone (operator)" in text
    assert "Petitions (OG 27/2002)" in text
    assert report.month_label(report.previous_month(first)) in text
    assert report.month_label(first.replace(year=first.year - 1)) in text


def test_kpi_rows_carry_the_selectors_values(data, catalog):
    first = selectors.today().replace(day=1)
    ind = selectors.indicators(report.month_period(first), department=catalog["roads"])
    rows = dict(report.kpi_rows(ind))
    assert rows["Received"] == "2"
    assert rows["Resolved"] == "1"


def test_romanian_diacritics_print(client, data, catalog):
    client.force_login(data["mayor"])
    client.cookies["django_language"] = "ro"
    response = client.get(URL.format(code="public", month=_this_month()))
    assert "Relații cu publicul" in _text(response.content)


def test_department_viewer_gets_only_their_department(client, data):
    client.force_login(data["manager"])
    assert client.get(URL.format(code="roads", month=_this_month())).status_code == 200
    assert client.get(URL.format(code="public", month=_this_month())).status_code == 403


@pytest.mark.parametrize("who", ["operator", "clerk", "staff", "citizen"])
def test_others_are_refused(client, data, personas, who):
    client.force_login(personas[who])
    assert client.get(URL.format(code="roads", month=_this_month())).status_code == 403


def test_administrator_gets_any_department(client, data, personas):
    client.force_login(personas["admin"])
    assert client.get(URL.format(code="public", month=_this_month())).status_code == 200


@pytest.mark.parametrize(
    "month, status, message",
    [
        ("2026-13", 400, "There is no month 2026-13"),
        ("2026-0", 400, "There is no month 2026-00"),
        ("2999-01", 400, "has not begun yet"),
    ],
)
def test_bad_months_are_refused_with_a_message(client, data, month, status, message):
    client.force_login(data["mayor"])
    response = client.get(URL.format(code="roads", month=month))
    assert response.status_code == status
    assert message in response.content.decode()


def test_unknown_department_is_not_found(client, data):
    client.force_login(data["mayor"])
    response = client.get(URL.format(code="nowhere", month=_this_month()))
    assert response.status_code == 404
    assert "There is no department “nowhere”" in response.content.decode()


def test_malformed_month_does_not_match(client, data):
    client.force_login(data["mayor"])
    assert client.get("/staff/insights/export/department/roads/26-1.pdf").status_code == 404


# ---------------------------------------------------------------------------- command


def test_monthly_command_writes_one_pdf_per_active_department(data, catalog, settings):
    catalog["public"].is_active = True
    from cetatea.catalog.models import Department

    Department.objects.create(code="old", name_ro="Vechi", is_active=False)
    month = _this_month()
    call_command("insights_monthly_reports", "--month", month, stdout=io.StringIO())
    folder = Path(settings.MEDIA_ROOT) / "insights" / "reports" / month
    assert sorted(p.name for p in folder.iterdir()) == ["public.pdf", "roads.pdf"]
    text = _text((folder / "roads.pdf").read_bytes())
    assert "Drumuri" in text  # the site's language: Romanian
    before = (folder / "roads.pdf").stat().st_mtime_ns
    call_command("insights_monthly_reports", "--month", month, stdout=io.StringIO())
    assert sorted(p.name for p in folder.iterdir()) == ["public.pdf", "roads.pdf"]
    assert (folder / "roads.pdf").stat().st_mtime_ns >= before


def test_monthly_command_defaults_to_the_previous_month(data, tmp_path):
    with time_machine.travel("2026-03-10 12:00 +02:00"):
        call_command("insights_monthly_reports", "--out", str(tmp_path), stdout=io.StringIO())
        text = _text((tmp_path / "roads.pdf").read_bytes())
    assert "februarie 2026" in text.lower() or "february 2026" in text.lower()


@pytest.mark.parametrize("month", ["2026-13", "march", "2999-01"])
def test_monthly_command_refuses_bad_months(db, month):
    with pytest.raises(CommandError):
        call_command("insights_monthly_reports", "--month", month, stdout=io.StringIO())
