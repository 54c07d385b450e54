"""The city's open data: the transparency tables and an anonymised file of the cases.

Privacy rules (docs/insights.md, "Open data"):

- aggregate tables suppress small counts: a count of 1 or 2 is published as "<3" and the
  rates of a row with fewer than 3 cases received or resolved are not published, so one
  citizen's report cannot be singled out;
- the case files hold operational reports only: cases under the "ticket" regime in a
  category reportable on the public map or whose own regime is "ticket". Petitions and
  public-information requests (an identified person's case in a petition category, any
  case in a Law 544 category), which are personal, are left out entirely, and so are
  anonymous cases in off-map petition categories (social assistance, taxes, integrity
  reports...), where even a date and a neighbourhood could point to someone; and cases
  hidden by a moderator;
- a case is named by an opaque id (a keyed hash of its database id, not its reference);
  no names, contacts, requester, title, description, address or photo is ever written —
  free text may hold personal data;
- dates are days (no time); a place only for categories on the public map, rounded to
  3 decimals (about 100 m).

Files are written under ``MEDIA_ROOT/open-data/`` row by row from a server-side cursor
(memory stays flat whatever the number of cases) into a temporary file that replaces
the published one only when complete, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from cetatea.cases.choices import OPEN_STATUSES, Publication
from cetatea.cases.models import Case
from cetatea.catalog.choices import Regime
from cetatea.catalog.models import Area, Category
from cetatea.insights import metrics as m
from cetatea.insights import selectors

DIRECTORY = "open-data"
CASES_CSV = "cases.csv"
CASES_GEOJSON = "cases.geojson"
AGGREGATES_CSV = "aggregates.csv"
METADATA_JSON = "metadata.json"
# name -> content type; the download view serves these and nothing else.
FILES = {
    CASES_CSV: "text/csv; charset=utf-8",
    CASES_GEOJSON: "application/geo+json",
    AGGREGATES_CSV: "text/csv; charset=utf-8",
    METADATA_JSON: "application/json",
}
SMALL = 3  # counts below this are published as "<3"
SMALL_LABEL = "<3"
COORDINATE_DECIMALS = 3  # about 110 m north-south, 80 m east-west here
CHUNK = 2000
_HMAC_SALT = "cetatea.insights.opendata.case-id"

CASE_FIELDS = [
    "id",
    "category_code",
    "category",
    "area",
    "channel",
    "state",
    "status",
    "registered",
    "closed",
    "days_to_close",
    "within_target",
    "latitude",
    "longitude",
]
AGGREGATE_FIELDS = [
    "period_start",
    "period_end",
    "breakdown",
    "name",
    "received",
    "resolved",
    "resolved_on_time_pct",
    "median_resolution_days",
    "open_now",
]


def license_name() -> str:
    return getattr(settings, "CETATEA_OPEN_DATA_LICENSE", "CC BY 4.0")


def months_published() -> int:
    return int(getattr(settings, "CETATEA_OPEN_DATA_MONTHS", 24))


def directory() -> Path:
    return Path(settings.MEDIA_ROOT) / DIRECTORY


def path_of(name: str) -> Path:
    """The stored file of a published name (KeyError for any other name)."""
    FILES[name]  # noqa: B018 - only the published names have a path
    return directory() / name


def opaque_id(case_id: int) -> str:
    """A stable id for a case in the open data that cannot be turned back into the
    case or its reference without the site's secret key."""
    return salted_hmac(_HMAC_SALT, str(case_id), algorithm="sha256").hexdigest()[:20]


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


def default_period() -> selectors.Period:
    """The transparency page's period: the last 12 months, today included."""
    end = selectors.today()
    return selectors.Period(months_before(end, 12) + dt.timedelta(days=1), end)


# ------------------------------------------------------------------- aggregate tables


@dataclass(frozen=True)
class PublicRow:
    """One row of a transparency table, with small counts already suppressed: each
    figure is an int, a float, the "<3" label or None (not published)."""

    name: str
    received: int | str
    resolved: int | str
    on_time_pct: float | None
    median_days: float | None
    open_now: int | str
    suppressed: bool


def _small(n: int | None) -> int | str:
    n = n or 0
    return SMALL_LABEL if 0 < n < SMALL else n


def public_table(period: selectors.Period, by: str) -> list[PublicRow]:
    """The transparency table per category or per area (neighbourhood) over ``period``."""
    if by not in ("category", "area"):
        raise ValueError(by)
    out = []
    for row in selectors.breakdown(period, by):
        ind = row.indicators
        few = ind.received < SMALL or ind.resolved < SMALL
        median = ind.resolution_median
        out.append(
            PublicRow(
                name=row.label,
                received=_small(ind.received),
                resolved=_small(ind.resolved),
                on_time_pct=None if few else ind.on_time_pct,
                median_days=None if few or median is None else round(median / 86400, 1),
                open_now=_small(ind.open_now),
                suppressed=ind.received < SMALL,
            )
        )
    return out


# ------------------------------------------------------------------------ atomic files


@contextmanager
def _atomic_text(target: Path):
    """A text file that replaces ``target`` only when written completely."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # served to anyone, like the rest of MEDIA_ROOT
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# --------------------------------------------------------------------------- the cases


@dataclass
class Published:
    generated_at: dt.datetime
    cases: int
    located: int
    aggregates: int
    since: dt.date
    period: selectors.Period


def _case_rows(since: dt.date) -> Iterable[dict]:
    """The published record of each case registered since ``since``, by id."""
    zone = m.tz()
    categories = {
        c.pk: c
        for c in Category.objects.filter(Q(on_map=True) | Q(regime=Regime.TICKET))
        .exclude(regime=Regime.INFO_544)
        .only("code", "name_ro", "on_map")
    }
    areas = dict(Area.objects.values_list("pk", "name_ro"))
    qs = (
        Case.objects.filter(
            registered_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=zone),
            regime=Regime.TICKET,
            category_id__in=list(categories),
        )
        .exclude(publication=Publication.HIDDEN)
        .order_by("id")
        # Only these columns are read: nothing personal ever leaves the database.
        .values_list(
            "id",
            "category_id",
            "area_id",
            "channel",
            "status",
            "registered_at",
            "closed_at",
            "due_at",
            "latitude",
            "longitude",
        )
    )
    for (
        pk,
        category_id,
        area_id,
        channel,
        status,
        registered_at,
        closed_at,
        due_at,
        lat,
        lon,
    ) in qs.iterator(chunk_size=CHUNK):
        category = categories[category_id]
        is_open = status in OPEN_STATUSES
        closed = None if is_open or closed_at is None else closed_at
        located = category.on_map and lat is not None and lon is not None
        yield {
            "id": opaque_id(pk),
            "category_code": category.code,
            "category": category.name_ro,
            "area": areas.get(area_id, ""),
            "channel": channel,
            "state": "open" if is_open else "closed",
            "status": status,
            "registered": registered_at.astimezone(zone).date().isoformat(),
            "closed": closed.astimezone(zone).date().isoformat() if closed else "",
            "days_to_close": (
                round((closed - registered_at).total_seconds() / 86400, 1) if closed else ""
            ),
            "within_target": ("yes" if closed <= due_at else "no") if closed else "",
            "latitude": round(lat, COORDINATE_DECIMALS) if located else "",
            "longitude": round(lon, COORDINATE_DECIMALS) if located else "",
        }


def _feature(row: dict) -> dict:
    properties = {k: v for k, v in row.items() if k not in ("latitude", "longitude")}
    for key in ("closed", "days_to_close", "within_target"):
        if properties[key] == "":
            properties[key] = None
    geometry = None
    if row["latitude"] != "":
        geometry = {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def write_cases(since: dt.date) -> tuple[int, int]:
    """cases.csv and cases.geojson in one pass over the cases; (rows, rows with a place)."""
    rows = located = 0
    with (
        _atomic_text(path_of(CASES_CSV)) as csv_file,
        _atomic_text(path_of(CASES_GEOJSON)) as geo_file,
    ):
        writer = csv.DictWriter(csv_file, fieldnames=CASE_FIELDS)
        writer.writeheader()
        geo_file.write('{"type": "FeatureCollection", "features": [\n')
        for row in _case_rows(since):
            writer.writerow(row)
            if rows:
                geo_file.write(",\n")
            geo_file.write(json.dumps(_feature(row), ensure_ascii=False))
            rows += 1
            located += row["latitude"] != ""
        geo_file.write("\n]}\n")
    return rows, located


def write_aggregates(period: selectors.Period) -> int:
    """aggregates.csv: the transparency tables (per category, per area) over ``period``."""
    count = 0
    with _atomic_text(path_of(AGGREGATES_CSV)) as handle:
        writer = csv.DictWriter(handle, fieldnames=AGGREGATE_FIELDS)
        writer.writeheader()
        for by in ("category", "area"):
            for row in public_table(period, by):
                writer.writerow(
                    {
                        "period_start": period.start.isoformat(),
                        "period_end": period.end.isoformat(),
                        "breakdown": by,
                        "name": row.name,
                        "received": row.received,
                        "resolved": row.resolved,
                        "resolved_on_time_pct": "" if row.on_time_pct is None else row.on_time_pct,
                        "median_resolution_days": (
                            "" if row.median_days is None else row.median_days
                        ),
                        "open_now": row.open_now,
                    }
                )
                count += 1
    return count


def publish() -> Published:
    """Write every open-data file (the metadata last, so it describes files in place)."""
    generated_at = timezone.now()
    today = selectors.today()
    since = months_before(today, months_published())
    period = default_period()
    # Category and area names in Romanian, whatever the language of the caller.
    with translation.override("ro"):
        cases, located = write_cases(since)
        aggregates = write_aggregates(period)
    published = Published(generated_at, cases, located, aggregates, since, period)
    with _atomic_text(path_of(METADATA_JSON)) as handle:
        json.dump(
            {
                "generated_at": generated_at.isoformat(),
                "license": license_name(),
                "cases": {
                    "files": [CASES_CSV, CASES_GEOJSON],
                    "registered_since": since.isoformat(),
                    "rows": cases,
                    "rows_with_location": located,
                    "fields": CASE_FIELDS,
                    "coordinate_decimals": COORDINATE_DECIMALS,
                },
                "aggregates": {
                    "file": AGGREGATES_CSV,
                    "period_start": period.start.isoformat(),
                    "period_end": period.end.isoformat(),
                    "rows": aggregates,
                    "fields": AGGREGATE_FIELDS,
                    "small_counts": f"counts below {SMALL} are published as “{SMALL_LABEL}”",
                },
            },
            handle,
            ensure_ascii=False,
            indent=2,
        )
    return published


def generated_at() -> dt.datetime | None:
    """When the files were last published (None: never)."""
    try:
        with open(path_of(METADATA_JSON), encoding="utf-8") as handle:
            return dt.datetime.fromisoformat(json.load(handle)["generated_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
