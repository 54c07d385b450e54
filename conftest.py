"""Shared test fixtures: named personas, a small catalogue, ``make_*`` helpers."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group, User
from stdnum.ro import cnp as stdnum_cnp

from cetatea.core import roles

pytest_plugins = ["cetatea.core.testing.browser"]  # browser, open_page

_counter = itertools.count(1)

SQUARE = {  # a square around the citadel, 46.06-46.08 N, 23.56-23.58 E
    "type": "Polygon",
    "coordinates": [
        [[23.56, 46.06], [23.58, 46.06], [23.58, 46.08], [23.56, 46.08], [23.56, 46.06]]
    ],
}
SQUARE_EAST = {
    "type": "Polygon",
    "coordinates": [
        [[23.58, 46.06], [23.60, 46.06], [23.60, 46.08], [23.58, 46.08], [23.58, 46.06]]
    ],
}
INSIDE = (46.07, 23.57)
INSIDE_EAST = (46.07, 23.59)


def make_cnp(n: int | None = None, *, birth: str = "850312", sex: str = "1", county: str = "01"):
    """A valid CNP, distinct for each ``n``."""
    n = next(_counter) if n is None else n
    body = f"{sex}{birth}{county}{(n % 999) + 1:03d}"
    return body + stdnum_cnp.calc_check_digit(body)


def make_user(username: str, role: str | None = None, **extra) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-9", **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_person(**kwargs):
    from cetatea.people.services import person_create

    kwargs.setdefault("last_name", "Popescu")
    kwargs.setdefault("first_name", "Ion")
    return person_create(**kwargs)


def make_case(**kwargs):
    from cetatea.cases.services import case_create

    kwargs.setdefault("channel", "web")
    kwargs.setdefault("category", "POTHOLE")
    kwargs.setdefault("title", "Groapă")
    return case_create(**kwargs)


@pytest.fixture
def catalog(db):
    """Two departments, an outside operator, two areas and three categories."""
    from cetatea.catalog.models import Area, Category, Department, OutsideOperator

    roads = Department.objects.create(code="roads", name_ro="Drumuri", name_en="Roads")
    registry = Department.objects.create(
        code="public", name_ro="Relații cu publicul", name_en="Public relations"
    )
    water = OutsideOperator.objects.create(code="water", name_ro="Apă-Canal", name_en="Water")
    centre = Area.objects.create(
        code="cetate", name_ro="Cetate", name_en="Citadel", geometry=SQUARE
    )
    east = Area.objects.create(code="ampoi", name_ro="Ampoi", name_en="Ampoi", geometry=SQUARE_EAST)
    pothole = Category.objects.create(
        code="POTHOLE", name_ro="Gropi", name_en="Potholes", department=roads, target_hours=240
    )
    leak = Category.objects.create(
        code="LEAK",
        name_ro="Țeavă spartă",
        name_en="Leak",
        operator=water,
        target_hours=24,
        regime="ticket",
    )
    info = Category.objects.create(
        code="INFO",
        name_ro="Informații",
        name_en="Information",
        department=registry,
        target_hours=240,
        regime="info_544",
    )
    return {
        "roads": roads,
        "public": registry,
        "water": water,
        "centre": centre,
        "east": east,
        "pothole": pothole,
        "leak": leak,
        "info": info,
    }


@pytest.fixture
def personas(db):
    """One account per role, plus a citizen (no staff role) and an inactive account."""
    return {
        "operator": make_user("op", roles.OPERATOR),
        "clerk": make_user("clerk", roles.REGISTRY_CLERK),
        "staff": make_user("staff", roles.DEPARTMENT_STAFF),
        "crew": make_user("crew", roles.FIELD_CREW),
        "manager": make_user("manager", roles.MANAGER),
        "revenue": make_user("revenue", roles.REVENUE_OFFICER),
        "admin": make_user("admin", roles.ADMINISTRATOR, is_staff=True),
        "citizen": make_user("citizen"),
    }


@pytest.fixture(autouse=True, scope="session")
def _audit_flush_allowed():
    """SQLite's flush (teardown of transactional tests) deletes the audit rows, which
    its trigger refuses outside the tests (core.audit_guard)."""
    from cetatea.core import audit_guard

    audit_guard.allow_delete_for_tests = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 is slow on purpose (about a second per password on this machine): the
    personas' passwords would cost seconds per test. Tests hash with MD5 instead."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_2fa_by_default(settings):
    """Staff tests sign in with ``client.force_login``, which no second factor follows:
    two-factor enforcement is off here; the 2FA tests in cetatea/accounts turn it on."""
    settings.CETATEA_2FA_REQUIRED = False


_rate_limit_prefixes = itertools.count(1)


@pytest.fixture(autouse=True)
def _own_rate_limits(settings):
    """Each test counts its own requests against the rate limits (the cache outlives it)."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{next(_rate_limit_prefixes)}:"


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Uploaded files of a test go to its own folder, never to the repository's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CETATEA_PRIVATE_MEDIA_ROOT = tmp_path / "private"
    private = settings.STORAGES["private"]
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**private, "OPTIONS": {**private["OPTIONS"], "location": tmp_path / "private"}},
    }


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Tests render templates without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Service-level messages are asserted in English; requests pick their own language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_choice_cache():
    """The queue's cached select options must not outlive a test's rolled-back rows."""
    from cetatea.console.templatetags.console import clear_choice_cache

    clear_choice_cache()
    yield
    clear_choice_cache()


@pytest.fixture(autouse=True)
def _fresh_insights_cache():
    """The overview's cached reads must not outlive a test's rolled-back counts."""
    from cetatea.insights.selectors import forget

    forget()
    yield
    forget()
