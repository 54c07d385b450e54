"""Reads on cases."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cetatea.cases.models import Case

_REFERENCE = re.compile(r"^\s*([A-Za-z]{1,6})[-\s/]?(\d{4})[-\s/]?(\d{1,9})\s*$")


def normalize_reference(raw: str) -> str:
    """``ab 2026 123`` / ``AB-2026-000123`` -> ``AB-2026-000123``, or ValidationError."""
    match = _REFERENCE.match(raw or "")
    if not match or match.group(1).upper() != settings.CETATEA_CASE_PREFIX:
        raise ValidationError(
            _("“%(ref)s” is not a case reference; it looks like %(example)s.")
            % {"ref": raw, "example": f"{settings.CETATEA_CASE_PREFIX}-2026-000123"},
            code="bad_reference",
        )
    prefix, year, seq = match.groups()
    return f"{prefix.upper()}-{year}-{int(seq):06d}"


def case_get_by_reference(raw: str) -> Case:
    """The case with this public reference, or ValidationError saying it does not exist."""
    reference = normalize_reference(raw)
    case = (
        Case.objects.select_related("category", "department", "area", "requester")
        .filter(reference=reference)
        .first()
    )
    if case is None:
        raise ValidationError(
            _("There is no case with the reference %(ref)s.") % {"ref": reference},
            code="no_such_case",
        )
    return case
