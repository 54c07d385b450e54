"""The public transparency page and the open-data downloads (no login)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from cetatea.core.security import file_response, rate_limit
from cetatea.insights import opendata, selectors

DOWNLOADS = (
    opendata.CASES_CSV,
    opendata.CASES_GEOJSON,
    opendata.AGGREGATES_CSV,
    opendata.METADATA_JSON,
)


def _period(start: str, end: str) -> selectors.Period:
    """The period asked for; the last 12 months when neither end is given."""
    default = opendata.default_period()
    if not start and not end:
        return default
    return selectors.parse_period(
        start or default.start.isoformat(), end or default.end.isoformat()
    )


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    start = request.GET.get("start", "").strip()[:40]
    end = request.GET.get("end", "").strip()[:40]
    context = {
        "start": start,
        "end": end,
        "license": opendata.license_name(),
        "small": opendata.SMALL,
        "downloads": DOWNLOADS,
        "published_at": opendata.generated_at(),
        "months": opendata.months_published(),
    }
    try:
        period = _period(start, end)
    except ValidationError as exc:
        context["errors"] = exc.message_dict
        return render(request, "insights/public/index.html", context, status=400)
    context.update(
        period=period,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        by_category=opendata.public_table(period, "category"),
        by_area=opendata.public_table(period, "area"),
        refreshed_at=selectors.refreshed_at(),
    )
    return render(request, "insights/public/index.html", context)


@require_safe
@rate_limit("60/m", methods=("GET", "HEAD"))
def download(request: HttpRequest, name: str) -> HttpResponse:
    if name not in opendata.FILES:
        raise Http404
    try:
        handle = open(opendata.path_of(name), "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:
        return render(request, "insights/public/not_published.html", {"name": name}, status=404)
    return file_response(handle, filename=name, content_type=opendata.FILES[name])
