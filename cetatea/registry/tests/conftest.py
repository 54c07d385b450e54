"""Registry fixtures: the real setup file (points, types, nomenclator) on the test catalogue."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.fixture
def registry(catalog):
    """``load_registry`` with the shipped data, on the test catalogue plus the "OTHER"
    category petitions open their cases in; the points' departments are the catalogue's."""
    from cetatea.catalog.models import Category
    from cetatea.registry.models import DocumentType, RegistryPoint

    other = Category.objects.create(
        code="OTHER",
        name_ro="Altele",
        name_en="Other",
        department=catalog["public"],
        target_hours=720,
        regime="petition",
    )
    call_command("load_registry", stdout=io.StringIO())
    RegistryPoint.objects.filter(code="rg").update(department=catalog["public"])
    RegistryPoint.objects.filter(code__in=["dv", "das"]).update(department=catalog["roads"])
    DocumentType.objects.filter(code="info-544").update(case_category=catalog["info"])
    DocumentType.objects.filter(code="petitie").update(case_category=other)
    points = {p.code: p for p in RegistryPoint.objects.all()}
    types = {t.code: t for t in DocumentType.objects.all()}
    return {"points": points, "types": types, "other": other, **catalog}
