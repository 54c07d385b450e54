"""The map's queries read the index their selector chose, whatever the planner knows.

SQLite without statistics (Django never runs ANALYZE) picks indexes by rule; with the
category's or the status's index, a map request would read most of a million cases. The
plans are the same on an empty table as on a full one, so an empty one shows them.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cetatea.catalog.models import Category
from cetatea.core.db import NoIndex, filter_unindexed
from cetatea.portal.selectors import (
    MapFilters,
    case_list,
    map_features,
    nearby_open_cases,
    public_cases,
)

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")
CENTRE = (46.07, 23.575)
STREET = (23.572, 46.0686, 23.578, 46.0714)  # about 450 m wide
CITY = (23.49, 46.03, 23.66, 46.11)


def plans(fn) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement on cases_case that ``fn`` runs."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    found = []
    with connection.cursor() as cursor:
        for query in ctx.captured_queries:
            if 'FROM "cases_case"' not in query["sql"]:
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            found.append(" | ".join(row[-1] for row in cursor.fetchall()))
    assert found
    return found


@sqlite_only
@pytest.mark.parametrize(
    "filters",
    [
        MapFilters(),
        MapFilters(age="all"),
        MapFilters(categories=("POTHOLE",)),
        MapFilters(state="open", age="30"),
    ],
)
def test_map_reads_the_box_index_for_a_street_and_newest_first_for_a_city(catalog, filters):
    for plan in plans(lambda: map_features(STREET, filters, zoom=17)):
        assert "USING INDEX case_map_box_idx" in plan, plan
    for plan in plans(lambda: map_features(CITY, filters, zoom=13)):
        assert "USING INDEX case_map_newest_idx" in plan, plan


@sqlite_only
def test_lists_and_duplicate_check_never_read_the_category_or_status_index(catalog):
    (plan,) = plans(
        lambda: case_list(
            filters=MapFilters(categories=("POTHOLE",), state="open"), area_code="cetate"
        )
    )
    assert "USING INDEX case_map_newest_idx" in plan, plan
    pothole = Category.objects.get(code="POTHOLE")
    (plan,) = plans(
        lambda: nearby_open_cases(category=pothole, latitude=CENTRE[0], longitude=CENTRE[1])
    )
    assert "USING INDEX case_map_box_idx" in plan, plan


def test_unindexed_conditions_still_filter(catalog):
    from django.db.models import F

    from conftest import make_case

    kept = make_case(category="POTHOLE", publication="public", latitude=46.07, longitude=23.575)
    make_case(category="LEAK", publication="public", latitude=46.07, longitude=23.575)
    pothole = Category.objects.get(code="POTHOLE")
    found = filter_unindexed(public_cases(), category_id=pothole.pk, status__in=["new", "x"])
    assert list(found) == [kept]
    sql = str(public_cases().alias(c=NoIndex(F("category_id"))).filter(c=1).query)
    # SQLite gets ``+column``; PostgreSQL (which has no unary plus for text) the column.
    assert ('(+"cases_case"."category_id")' in sql) == (connection.vendor == "sqlite")
