"""The public transparency page and the open-data downloads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.choices import Publication
from cetatea.cases.services import case_change_status
from cetatea.core.testing.browser import assert_accessible
from cetatea.insights import opendata, selectors
from cetatea.insights.refresh import rebuild
from conftest import INSIDE, INSIDE_EAST, make_case

URL = "/transparenta/"
# A rate not published: a dash, and words for screen readers.
NOT_SHOWN = "—not shown"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def figures(catalog, personas):
    """Five potholes (three fixed, one 200 days old in Ampoi) and two leaks."""
    cases = []
    for i in range(4):
        case = make_case(
            channel="map",
            title=f"Groapă numărul {i}",
            latitude=INSIDE[0],
            longitude=INSIDE[1],
            publication=Publication.PUBLIC,
        )
        if i < 3:
            case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"])
        cases.append(case)
    cases.append(
        make_case(
            title="Groapă veche",
            latitude=INSIDE_EAST[0],
            longitude=INSIDE_EAST[1],
            registered_at=timezone.now() - dt.timedelta(days=200),
        )
    )
    for i in range(2):
        cases.append(
            make_case(
                category="LEAK",
                title=f"Țeavă {i}",
                latitude=INSIDE[0],
                longitude=INSIDE[1],
            )
        )
    rebuild()
    return cases


def _row(html: str, label: str) -> list[str]:
    """The cells of a table row, by its header."""
    match = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', html, flags=re.DOTALL)
    assert match, label
    cells = re.findall(r"<td>(.*?)</td>", match.group(1), flags=re.DOTALL)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def test_page_works_without_login(client, figures):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Transparency: how the city answers" in html
    assert "Open data licence: CC BY 4.0" in html
    assert "<caption>Requests by category" in html
    assert "<caption>Requests by neighbourhood" in html


def test_page_is_in_romanian_by_default(client, figures):
    del client.cookies["django_language"]
    response = client.get(URL)
    assert response.status_code == 200
    assert '<html lang="ro">' in response.content.decode()


def test_page_shows_no_case_reference_or_text(client, figures):
    html = client.get(URL).content.decode()
    for case in figures:
        assert case.reference not in html
        assert case.title not in html


def test_figures_match_the_selectors_and_default_to_twelve_months(client, figures):
    response = client.get(URL)
    html = response.content.decode()
    period = response.context["period"]
    assert period == opendata.default_period()
    assert period.end == selectors.today()
    assert period.start == opendata.months_before(period.end, 12) + dt.timedelta(days=1)
    pothole = next(r for r in selectors.breakdown(period, "category") if r.label == "Potholes")
    ind = pothole.indicators
    assert ind.received == 5  # the 200-day-old one counts: the period is a year
    expected_median = round(ind.resolution_median / 86400, 1)
    assert _row(html, "Potholes") == [
        str(ind.received),
        str(ind.resolved),
        str(ind.on_time_pct),
        str(expected_median),
        "&lt;3" if 0 < ind.open_now < 3 else str(ind.open_now),
    ]
    assert _row(html, "Potholes")[:3] == ["5", "3", "100.0"]
    assert _row(html, "Citadel")[0] == "6"


def test_small_counts_are_shown_as_less_than_three(client, figures):
    html = client.get(URL).content.decode()
    # Two leaks: their count is hidden and their rates are not shown.
    assert _row(html, "Leak") == ["&lt;3", "0", NOT_SHOWN, NOT_SHOWN, "&lt;3"]
    # One pothole in Ampoi.
    assert _row(html, "Ampoi") == ["&lt;3", "0", NOT_SHOWN, NOT_SHOWN, "&lt;3"]
    assert "so that no one's request can be singled out" in html


def test_a_chosen_period_is_used(client, figures):
    today = selectors.today()
    start = (today - dt.timedelta(days=29)).isoformat()
    response = client.get(URL, {"start": start, "end": today.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert _row(html, "Potholes")[0] == "4"
    # Its only case is older than 30 days: still open now, but none received.
    assert _row(html, "Ampoi") == ["0", "0", NOT_SHOWN, NOT_SHOWN, "&lt;3"]


@pytest.mark.parametrize(
    "query, message",
    [
        ({"start": "2026-13-01"}, "is not a date"),
        ({"start": "yesterday", "end": "2026-01-01"}, "is not a date"),
        (
            {"start": "2026-05-01", "end": "2026-04-01"},
            "The end of the period is before its start.",
        ),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "at most ten years"),
    ],
)
def test_bad_period_is_refused_with_an_error_summary(client, db, query, message):
    response = client.get(URL, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert message in html
    assert 'aria-invalid="true"' in html


def test_downloads_are_404_before_publication(client, db):
    for name in opendata.FILES:
        response = client.get(reverse("transparency:download", args=[name]))
        assert response.status_code == 404
        assert "published daily" in response.content.decode()


def test_unknown_download_is_404(client, db):
    opendata.publish()
    for name in ("secrets.txt", "..", "cases.csv.tmp"):
        response = client.get(f"{URL}date/{name}")
        assert response.status_code == 404
        assert "published daily" not in response.content.decode()


def test_downloads_after_publication(client, figures):
    opendata.publish()
    types = {
        "cases.csv": "text/csv; charset=utf-8",
        "cases.geojson": "application/geo+json",
        "aggregates.csv": "text/csv; charset=utf-8",
        "metadata.json": "application/json",
    }
    for name, content_type in types.items():
        response = client.get(reverse("transparency:download", args=[name]))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        body = b"".join(response.streaming_content)
        assert body == opendata.path_of(name).read_bytes()


def test_page_links_to_the_downloads(client, figures):
    opendata.publish()
    html = client.get(URL).content.decode()
    for name in opendata.FILES:
        assert reverse("transparency:download", args=[name]) in html
    assert "Last published on" in html


def test_licence_text_is_a_setting(client, settings, db):
    settings.CETATEA_OPEN_DATA_LICENSE = "Licența deschisă a Municipiului"
    html = client.get(URL).content.decode()
    assert "Open data licence: Licența deschisă a Municipiului" in html


def test_page_cost_does_not_grow_with_cases(client, figures, django_assert_max_num_queries):
    # Two reads (by category, by area), each a query for the counts and one for the
    # histograms per run of days, weeks or months (at most seven runs), plus the
    # backlog's history, the snapshot and the labels: a fixed number, whatever the cases.
    with django_assert_max_num_queries(36):
        assert client.get(URL).status_code == 200


@pytest.mark.slow
@pytest.mark.browser
def test_page_is_accessible_in_a_browser(open_page, catalog, personas):
    for i in range(3):
        make_case(channel="map", title=f"Groapă {i}", latitude=INSIDE[0], longitude=INSIDE[1])
    make_case(category="LEAK", title="Țeavă", latitude=INSIDE[0], longitude=INSIDE[1])
    rebuild()
    page = open_page(None, URL)
    assert page.get_by_role("table", name=re.compile("Requests by category")).is_visible()
    assert_accessible(page)
    page.get_by_label("From").fill("2026-05-01")
    page.get_by_label("To").fill("2026-04-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#error-summary")
    assert_accessible(page)


def test_only_reading_is_allowed(client, db):
    assert client.post(URL).status_code == 405
    opendata.publish()
    assert client.head(reverse("transparency:download", args=["metadata.json"])).status_code == 200
