"""The staff pages of the management overview: who sees what, bad filters, the
figures against the selectors, the drill-down behind a figure, a constant query count."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from cetatea.insights import selectors as s
from cetatea.insights.refresh import rebuild
from cetatea.insights.tests.conftest import END, START, at, file_case

PERIOD = {"start": START.isoformat(), "end": END.isoformat()}
DASHBOARD = reverse("insights:dashboard")
CASES = reverse("insights:cases")


def department_url(code):
    return reverse("insights:department", kwargs={"code": code})


def links(content: bytes) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', content.decode())]


def tile(content: bytes, key: str) -> str:
    match = re.search(
        rf'id="kpi-{key}">.*?class="kpi-value">(.*?)</span>\s*(?:<span|</li>)',
        content.decode(),
        re.S,
    )
    assert match, key
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# ------------------------------------------------------------------------- access


@pytest.mark.parametrize("who", ["leader", "admin"])
def test_leadership_and_administrators_see_the_city(client, viewers, city, who):
    client.force_login(viewers[who])
    response = client.get(DASHBOARD, PERIOD)
    assert response.status_code == 200
    assert "Management overview: the city" in response.content.decode()


def test_a_manager_is_sent_from_the_city_to_their_own_department(client, viewers, city):
    client.force_login(viewers["manager"])
    response = client.get(DASHBOARD, PERIOD)
    assert response.status_code == 302
    assert response.url.startswith(department_url("roads") + "?")
    assert "start=2026-03-01" in response.url
    assert client.get(response.url).status_code == 200


def test_a_manager_may_not_see_another_department(client, viewers, city):
    client.force_login(viewers["manager"])
    assert client.get(department_url("public"), PERIOD).status_code == 403
    drill = client.get(CASES, {**PERIOD, "metric": "received", "department": "public"})
    assert drill.status_code == 403


def test_a_manager_without_a_department_and_other_staff_are_refused(client, viewers, city):
    for user in (viewers["staff"],):
        client.force_login(user)
        assert client.get(DASHBOARD).status_code == 403
        assert client.get(department_url("roads")).status_code == 403
        assert client.get(CASES).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, city):
    for url in (DASHBOARD, department_url("roads"), CASES):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_managers_drill_down_is_limited_to_their_department(client, viewers, city):
    client.force_login(viewers["manager"])
    response = client.get(CASES, {**PERIOD, "metric": "received"})
    assert response.status_code == 200
    assert {c.title for c in response.context["cases"]} == {"P3", "P4", "P5"}


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end", "before its start"),
        ({"start": "yesterday"}, "start", "is not a date"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "end", "at most ten years"),
        ({"compare": "tomorrow"}, "compare", "Select a valid choice"),
    ],
)
def test_bad_periods_are_refused_with_a_message(client, viewers, city, params, field, message):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, params)
    assert response.status_code == 400
    content = response.content.decode()
    assert 'id="error-summary"' in content
    assert f'href="#id_{field}"' in content
    assert message in content
    assert 'id="kpi-received"' not in content  # no figures for a period refused


def test_an_unknown_department_page_is_a_404_with_a_message(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(department_url("nowhere"))
    assert response.status_code == 404
    assert "There is no department “nowhere”." in response.content.decode()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"department": "nowhere"}, "There is no department “nowhere”."),
        ({"metric": "everything"}, "Select a valid choice"),
        ({"category": "999999"}, "There is no category"),
        ({"area": "abc"}, "Enter a whole number"),
        ({"channel": "pigeon"}, "Select a valid choice"),
        ({"end": "2026-02-30"}, "is not a date"),
        ({"page": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_drill_down_filters_are_refused_with_a_message(client, viewers, city, params, message):
    client.force_login(viewers["leader"])
    response = client.get(CASES, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="error-summary"' in response.content.decode()


def test_a_period_without_cases_says_so(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, {"start": "2025-01-01", "end": "2025-01-31"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "No data for this period." in content
    assert tile(response.content, "received") == "0"


def test_figures_of_a_busy_period_carry_no_no_data_notice(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, PERIOD)
    assert "No data for this period." not in response.content.decode()
    assert "figures as of" in response.content.decode()


# ------------------------------------------------------------------------ figures


def test_the_city_tiles_match_the_selectors(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, PERIOD)
    expected = s.indicators(s.Period(START, END))
    assert expected.received == 5 and expected.resolved == 1
    assert tile(response.content, "received") == "5"
    assert tile(response.content, "resolved") == "1"
    assert tile(response.content, "backlog") == str(expected.backlog) == "4"
    assert tile(response.content, "open_now") == str(expected.open_now)
    assert tile(response.content, "with_location_pct") == "60.0 %"


def test_the_department_page_shows_only_its_department(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(department_url("roads"), PERIOD)
    assert response.status_code == 200
    assert tile(response.content, "received") == "3"
    content = response.content.decode()
    assert 'id="table-categories"' in content
    assert "Potholes" in content and "Street light" not in content
    last = s.today().replace(day=1) - dt.timedelta(days=1)  # the previous full month
    report = reverse(
        "insights_export:department_report",
        kwargs={"code": "roads", "year": last.year, "month": last.month},
    )
    assert report in links(response.content)


def test_the_comparison_shows_both_values_and_the_change(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(
        DASHBOARD, {"start": "2026-03-01", "end": "2026-03-31", "compare": "previous"}
    )
    content = response.content.decode()
    assert re.search(r'id="kpi-received">.*?before: 0 · change: \+5', content, re.S)
    year = client.get(DASHBOARD, {"start": "2027-03-01", "end": "2027-03-31", "compare": "year"})
    assert re.search(
        r'id="kpi-received">.*?before: 5 · change: -5 \(-100.0 %\)', year.content.decode(), re.S
    )


def test_department_numbers_link_to_the_cases_behind_them(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, PERIOD)
    table = re.search(r'id="table-departments".*?</table>', response.content.decode(), re.S)
    row = re.search(
        r"<tr>\s*<th scope=\"row\"><a href=\"([^\"]+)\">Roads</a></th>(.*?)</tr>",
        table.group(0),
        re.S,
    )
    assert html.unescape(row.group(1)).startswith(department_url("roads"))
    received_link, received = re.search(
        r'<td><a href="([^"]+)">(\d+)</a></td>', row.group(2)
    ).groups()
    assert received == "3"
    drill = client.get(html.unescape(received_link))
    assert drill.status_code == 200
    assert sorted(c.title for c in drill.context["cases"]) == ["P3", "P4", "P5"]
    for case in drill.context["cases"]:
        assert reverse("console:case", args=[case.pk]) in links(drill.content)


def test_drill_down_by_channel_and_category(client, viewers, city):
    client.force_login(viewers["leader"])
    phone = client.get(CASES, {**PERIOD, "metric": "received", "channel": "phone"})
    assert [c.title for c in phone.context["cases"]] == ["L2"]
    category = client.get(
        CASES, {**PERIOD, "metric": "received", "category": str(city["light"].pk)}
    )
    assert sorted(c.title for c in category.context["cases"]) == ["L1", "L2"]
    resolved = client.get(CASES, {**PERIOD, "metric": "resolved", "department": "roads"})
    assert [c.title for c in resolved.context["cases"]] == ["P3"]


def test_the_drill_down_pages_by_fifty_without_counting(
    client, viewers, catalog, django_assert_max_num_queries
):
    for day in range(1, 29):
        for hour in (9, 11):
            file_case(at(day, hour), category="POTHOLE", title=f"C{day}-{hour}")
    client.force_login(viewers["leader"])
    with django_assert_max_num_queries(8):
        first = client.get(CASES, {**PERIOD, "metric": "received"})
    assert len(first.context["cases"]) == 50
    assert first.context["next_url"]
    second = client.get(CASES + first.context["next_url"])
    assert len(second.context["cases"]) == 6
    assert not second.context["next_url"]
    seen = {c.pk for c in first.context["cases"]} | {c.pk for c in second.context["cases"]}
    assert len(seen) == 56


def test_every_table_has_csv_and_xlsx_links_with_the_filters(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, PERIOD)
    exports = [h for h in links(response.content) if h.startswith(reverse("insights_export:table"))]
    for name in ("departments", "areas", "channels", "trend", "legal", "registry_points", "robot"):
        for fmt in ("csv", "xlsx"):
            assert any(
                f"table={name}&format={fmt}&start=2026-03-01&end=2026-03-31" in h for h in exports
            ), (name, fmt)
    drill = client.get(CASES, {**PERIOD, "metric": "received", "department": "roads"})
    assert any(
        "table=cases&format=csv" in h and "department=roads" in h for h in links(drill.content)
    )


def test_the_month_picker_leads_to_the_pdf_report(client, viewers, city):
    client.force_login(viewers["manager"])
    url = reverse("insights:department_report", kwargs={"code": "roads"})
    response = client.get(url, {"month": "2026-03"})
    assert response.status_code == 302
    assert response.url == reverse(
        "insights_export:department_report", kwargs={"code": "roads", "year": 2026, "month": 3}
    )
    assert client.get(url, {"month": "March"}).status_code == 400
    assert (
        client.get(
            reverse("insights:department_report", kwargs={"code": "public"}), {"month": "2026-03"}
        ).status_code
        == 403
    )


def test_the_map_data_and_its_table(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(DASHBOARD, PERIOD)
    data = response.context["map_data"]
    assert [(a["name"], a["received"]) for a in data["areas"]] == [("Citadel", 3)]
    assert sum(n for _lat, _lon, n in data["heat"]) == 3
    content = response.content.decode()
    assert 'id="map-data"' in content
    assert re.search(r'id="map-table".*?<th scope="row">Citadel</th><td>3</td>', content, re.S)


# --------------------------------------------------------------------------- speed


def _dashboard_queries(client, n, django_assert_max_num_queries, url=DASHBOARD):
    for i in range(n):
        file_case(
            at(1 + i % 28), category="POTHOLE", title=f"Q{i}", latitude=46.07, longitude=23.57
        )
    rebuild()
    with django_assert_max_num_queries(40) as captured:
        response = client.get(url, PERIOD)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_dashboards_queries_do_not_grow_with_the_cases(
    client, viewers, catalog, django_assert_max_num_queries
):
    client.force_login(viewers["leader"])
    few = _dashboard_queries(client, 5, django_assert_max_num_queries)
    many = _dashboard_queries(client, 45, django_assert_max_num_queries)
    assert few == many


def test_the_department_pages_queries_do_not_grow_with_the_cases(
    client, viewers, catalog, django_assert_max_num_queries
):
    client.force_login(viewers["manager"])
    url = department_url("roads")
    few = _dashboard_queries(client, 5, django_assert_max_num_queries, url)
    many = _dashboard_queries(client, 45, django_assert_max_num_queries, url)
    assert few == many
