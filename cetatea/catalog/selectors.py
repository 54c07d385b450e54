"""Read-only queries on the service catalogue."""

from __future__ import annotations

from cetatea.catalog.models import (
    Area,
    Category,
    CategoryRoute,
    Department,
    OutsideOperator,
    Street,
    Team,
)
from cetatea.core.text import fold


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


# --- streets ----------------------------------------------------------------------------

# Street-type words and their usual abbreviations, as folded tokens ("b-dul" folds to
# "b dul", "p-ța" to "p ta"). They are ignored when matching, in the query and in the names.
_STREET_TYPES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("strada",),
        ("str",),
        ("calea",),
        ("bulevardul",),
        ("bulevard",),
        ("bd",),
        ("bdul",),
        ("b", "dul"),
        ("piata",),
        ("pta",),
        ("p", "ta"),
        ("aleea",),
        ("al",),
        ("intrarea",),
        ("intr",),
        ("soseaua",),
        ("sos",),
        ("splaiul",),
        ("spl",),
    }
)
_LONGEST_TYPE = max(len(words) for words in _STREET_TYPES)


def _type_length(words: list[str], start: int) -> int:
    """Number of words at ``start`` that form a street-type word (0 if none)."""
    for size in range(_LONGEST_TYPE, 0, -1):
        if tuple(words[start : start + size]) in _STREET_TYPES:
            return size
    return 0


def _significant_words(key: str, *, anywhere: bool) -> list[str]:
    """The words of a folded text without its street-type words.

    Names lose only the type words they start with ("Strada Aleea X" -> "x"); a query
    loses them wherever they are, since people type "motilor calea" too.
    """
    words = key.split()
    kept: list[str] = []
    i = 0
    while i < len(words):
        size = _type_length(words, i) if (anywhere or not kept) else 0
        if size:
            i += size
        else:
            kept.append(words[i])
            i += 1
    return kept


def street_search(query: str, *, limit: int = 10) -> list[Street]:
    """Streets whose name matches what the citizen typed: the accessible map alternative.

    The query is folded with ``cetatea.core.text.fold`` (case, diacritics — comma-below or
    legacy cedilla — and punctuation do not matter) and split into words. Street-type words
    (strada/str, calea, bulevardul/bd/bdul/b-dul, piața/p-ța, aleea/al, intrarea, șoseaua,
    splaiul) are ignored both in the query and at the start of the names; a query made
    only of such words is matched as plain words (so "al" still finds "Albac"). A street
    matches when every remaining query word is the beginning of some word of its name:
    "motilor", "calea motilor", "Moților" -> Calea Moților; "str. mihai vit" -> Strada Mihai
    Viteazul; "1 decembrie" -> Bulevardul 1 Decembrie 1918.

    Order: names that start with the query words, in order, first; then names whose first
    word starts with the first query word; then the rest; each group alphabetical by the
    name without its type word, then by locality. At most ``limit`` streets.

    One query, no cache: the table is small (hundreds of rows), so the database is asked
    for the streets whose ``name_key`` contains the longest query word (a cheap substring
    prefilter, always current even right after a reload or a rename) and the word-prefix
    test and the ordering are done in Python. An empty or punctuation-only query, or
    ``limit`` < 1, gives ``[]`` without touching the database.
    """
    key = fold(query or "")
    if not key or limit < 1:
        return []
    words = _significant_words(key, anywhere=True) or key.split()
    probe = max(words, key=len)

    ranked: list[tuple[int, str, str, Street]] = []
    for street in Street.objects.filter(name_key__contains=probe):
        name_words = _significant_words(street.name_key, anywhere=False)
        if not all(any(w.startswith(q) for w in name_words) for q in words):
            continue
        if len(name_words) >= len(words) and all(
            w.startswith(q) for w, q in zip(name_words, words, strict=False)
        ):
            rank = 0
        elif name_words and name_words[0].startswith(words[0]):
            rank = 1
        else:
            rank = 2
        ranked.append((rank, " ".join(name_words), street.locality, street))
    ranked.sort(key=lambda row: (row[0], row[1], row[2], row[3].name_key, row[3].pk))
    return [row[3] for row in ranked[:limit]]


def street_get(pk) -> Street | None:
    """The street with this primary key, or ``None`` (also for a malformed key)."""
    try:
        return Street.objects.filter(pk=pk).first()
    except (TypeError, ValueError):
        return None
