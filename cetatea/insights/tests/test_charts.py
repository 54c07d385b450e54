"""The SVG charts: accessible (role, title, description, legend, labelled axes), safe
with any label, and the page's table view carries the same numbers as the chart."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cetatea.insights import charts
from cetatea.insights import selectors as s
from cetatea.insights.tests.conftest import END, START

ROWS = [
    charts.TrendRow("01.03", 4, 1, 3),
    charts.TrendRow("02.03", 0, 2, 1),
    charts.TrendRow("03.03", 7, 0, 8),
]


def test_the_trend_chart_is_an_accessible_image():
    svg = str(charts.trend_chart(ROWS, chart_id="t", title="Trend <x>", desc="Bars & line"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg
    assert 'aria-labelledby="t-t t-d"' in svg
    assert '<title id="t-t">Trend &lt;x&gt;</title>' in svg
    assert '<desc id="t-d">Bars &amp; line</desc>' in svg
    for name in ("Received", "Resolved", "Backlog (open at the end)", "Cases", "Period"):
        assert f">{name}</text>" in svg
    # Received and resolved differ by pattern, not colour alone; the backlog is a
    # dashed line with markers.
    assert 'fill="url(#t-hatch)"' in svg
    assert 'stroke-dasharray="6 3"' in svg


def test_the_bars_and_the_line_follow_the_numbers():
    svg = str(charts.trend_chart(ROWS, chart_id="t", title="T", desc="D"))
    heights = [float(h) for h in re.findall(r'class="received"[^>]*height="([\d.]+)"', svg)]
    assert heights[1] == 0 and heights[2] > heights[0] > 0
    assert heights[2] / heights[0] == pytest.approx(7 / 4, rel=1e-3)
    points = re.search(r'class="backlog" points="([^"]+)"', svg).group(1).split()
    assert len(points) == 3
    assert charts.nice_max(8) == 10  # the axis' top
    assert ">10</text>" in svg


def test_an_empty_chart_still_renders():
    svg = str(charts.trend_chart([], chart_id="e", title="T", desc="D"))
    assert 'role="img"' in svg and "<polyline" not in svg


def test_the_table_view_has_the_same_numbers_as_the_chart(client, viewers, city):
    client.force_login(viewers["leader"])
    response = client.get(
        reverse("insights:dashboard"), {"start": START.isoformat(), "end": END.isoformat()}
    )
    content = response.content.decode()
    assert re.search(r'<svg[^>]*role="img"', content)
    assert "<summary>Table view</summary>" in content
    table = re.search(r'id="trend-table".*?</table>', content, re.S).group(0)
    rows = re.findall(
        r'<th scope="row">([\d.]+)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', table
    )
    points = s.trend(s.Period(START, END))
    assert len(rows) == len(points) == 31
    assert [(int(a), int(b), int(c)) for _d, a, b, c in rows] == [
        (p.received, p.resolved, p.backlog) for p in points
    ]
    assert sum(p.received for p in points) == 5
    chart_rows = response.context["trend"]
    assert [(r.received, r.resolved, r.backlog) for r in chart_rows] == [
        (p.received, p.resolved, p.backlog) for p in points
    ]
