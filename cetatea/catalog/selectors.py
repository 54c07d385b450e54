"""Read-only queries on the service catalogue."""

from __future__ import annotations

from cetatea.catalog.models import (
    Area,
    Category,
    CategoryRoute,
    Department,
    OutsideOperator,
    Team,
)


def category_route(
    *, category: Category, area: Area | None
) -> tuple[Department | None, OutsideOperator | None, Team | None]:
    """Who handles ``category`` in ``area``: ``(department, operator, team)``.

    If a ``CategoryRoute`` exists for the pair it wins (a route that names only a team
    goes to that team's department). Otherwise the category's own department and
    operator are returned, with no team. ``area`` may be ``None`` (location unknown).
    """
    if area is not None:
        route = (
            CategoryRoute.objects.select_related("department", "operator", "team__department")
            .filter(category=category, area=area)
            .first()
        )
        if route is not None:
            department = route.department
            if department is None and route.team is not None:
                department = route.team.department
            return department, route.operator, route.team
    return category.department, category.operator, None
