"""Server-rendered SVG charts of the management overview.

Each function returns SVG markup (safe to put in a template) with ``role="img"``, a
``<title>`` and a ``<desc>``, labelled axes and a legend. Series differ by shape and
pattern, not by colour alone: received are hatched bars, resolved are solid bars, the
backlog is a line with square markers. The page puts a table with the same numbers
right after each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 720
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 40, 56


@dataclass(frozen=True)
class TrendRow:
    label: str  # the day or month, as shown on the axis and in the table
    received: int
    resolved: int
    backlog: int


def nice_max(value: int) -> int:
    """A round upper bound of the axis (1, 2, 5 × 10^n) at or above ``value``."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def trend_chart(rows: Sequence[TrendRow], *, chart_id: str, title: str, desc: str) -> SafeString:
    """Bars of received and resolved per day or month, the backlog as a line."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = nice_max(max([0, *(max(r.received, r.resolved, r.backlog) for r in rows)]))
    n = max(len(rows), 1)
    slot = plot_w / n
    bar = max(slot * 0.35, 0.5)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    hatch = f"{chart_id}-hatch"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        "<defs>",
        f'<pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#0b4f8a" stroke-width="3"/></pattern>',
        "</defs>",
    ]
    # Axes, grid and the value labels.
    for i in range(5):
        value = top * i // 4
        gy = y(value)
        out.append(
            f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{WIDTH - RIGHT}" y2="{gy:.1f}" '
            'stroke="#c9d1d9" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#1b1f24">{value}</text>'
        )
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#1b1f24"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#1b1f24"/>'
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" font-size="12" fill="#1b1f24" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})" text-anchor="middle">'
        f"{escape(_('Cases'))}</text>"
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" font-size="12" fill="#1b1f24" '
        f'text-anchor="middle">{escape(_("Period"))}</text>'
    )
    label_every = max(1, len(rows) // 8)
    points = []
    for i, row in enumerate(rows):
        x0 = LEFT + i * slot + slot * 0.15
        out.append(
            f'<rect class="received" x="{x0:.1f}" y="{y(row.received):.1f}" width="{bar:.1f}" '
            f'height="{TOP + plot_h - y(row.received):.1f}" fill="url(#{hatch})" '
            'stroke="#0b4f8a" stroke-width="1"/>'
            f'<rect class="resolved" x="{x0 + bar:.1f}" y="{y(row.resolved):.1f}" '
            f'width="{bar:.1f}" height="{TOP + plot_h - y(row.resolved):.1f}" fill="#2b6a2f"/>'
        )
        cx = LEFT + (i + 0.5) * slot
        points.append((cx, y(row.backlog)))
        if i % label_every == 0:
            out.append(
                f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" font-size="11" fill="#1b1f24" '
                f'text-anchor="middle">{escape(row.label)}</text>'
            )
    if points:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(
            f'<polyline class="backlog" points="{path}" fill="none" stroke="#a4161a" '
            'stroke-width="2" stroke-dasharray="6 3"/>'
        )
        out.extend(
            f'<rect x="{px - 3:.1f}" y="{py - 3:.1f}" width="6" height="6" fill="#a4161a"/>'
            for px, py in points
        )
    # Legend: a sample of each shape with its name.
    legend = [
        (f'<rect width="14" height="14" fill="url(#{hatch})" stroke="#0b4f8a"/>', _("Received")),
        ('<rect width="14" height="14" fill="#2b6a2f"/>', _("Resolved")),
        (
            '<line x1="0" y1="7" x2="14" y2="7" stroke="#a4161a" stroke-width="2" '
            'stroke-dasharray="6 3"/><rect x="4" y="4" width="6" height="6" fill="#a4161a"/>',
            _("Backlog (open at the end)"),
        ),
    ]
    x = LEFT
    for shape, name in legend:
        out.append(
            f'<g class="legend" transform="translate({x} 10)">{shape}'
            f'<text x="20" y="12" font-size="12" fill="#1b1f24">{escape(name)}</text></g>'
        )
        x += 40 + 8 * len(name)
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped
