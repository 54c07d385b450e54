"""Fixtures of the operations tests: the English interface, the registry's setup."""

from __future__ import annotations

import pytest

from cetatea.registry.tests.conftest import registry  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def english_interface(request):
    """Pages are asserted in English (Romanian is the default)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies["django_language"] = "en"


@pytest.fixture(autouse=True)
def _fresh_metrics_cache():
    """The collector's 15-second cache must not carry one test's figures into another."""
    from cetatea.ops.metrics import COLLECTOR

    COLLECTOR.forget()
    yield
    COLLECTOR.forget()
