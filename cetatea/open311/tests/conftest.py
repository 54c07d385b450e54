"""Fixtures of the Open311 tests: client applications with their keys, a category with
extra questions of every datatype."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from cetatea.open311.models import ApiClient


@dataclass
class KeyedClient:
    app: ApiClient
    key: str


def make_api_client(name: str) -> KeyedClient:
    app = ApiClient(name=name)
    key = app.new_key()
    app.save()
    return KeyedClient(app, key)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def fms(db):
    """The key of a FixMyStreet instance."""
    return make_api_client("FixMyStreet Alba")


@pytest.fixture
def other_app(db):
    return make_api_client("Another app")


@pytest.fixture
def lamp(catalog):
    """A category with a question of each datatype, required or not."""
    from cetatea.catalog.models import Category, CategoryQuestion

    category = Category.objects.create(
        code="LAMP",
        name_ro="Iluminat public",
        name_en="Street lights",
        department=catalog["roads"],
        target_hours=72,
        notice_ro="Becurile se schimbă în 3 zile.",
    )
    Q = CategoryQuestion.Datatype
    CategoryQuestion.objects.create(
        category=category,
        code="pole",
        label_ro="Numărul stâlpului",
        datatype=Q.STRING,
        required=True,
        sort_order=1,
    )
    CategoryQuestion.objects.create(
        category=category, code="details", label_ro="Detalii", datatype=Q.TEXT, sort_order=2
    )
    CategoryQuestion.objects.create(
        category=category,
        code="lamps",
        label_ro="Câte becuri",
        datatype=Q.NUMBER,
        sort_order=3,
    )
    CategoryQuestion.objects.create(
        category=category,
        code="state",
        label_ro="Cum arată",
        datatype=Q.SINGLE,
        required=True,
        sort_order=4,
        choices=[
            {"key": "off", "name_ro": "Stins", "name_en": "Off"},
            {"key": "blink", "name_ro": "Pâlpâie", "name_en": "Blinking"},
        ],
    )
    CategoryQuestion.objects.create(
        category=category,
        code="when",
        label_ro="Când",
        datatype=Q.MULTI,
        sort_order=5,
        choices=[{"key": "day", "name_ro": "Ziua"}, {"key": "night", "name_ro": "Noaptea"}],
    )
    return category
