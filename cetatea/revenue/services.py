"""Writes of the revenue screens: the audit of each balance seen by staff, and a
citizen's link to their tax record from the portal.

(The data itself is written only by ``import_revenue``: the revenue system is the source
of truth.)
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from cetatea.core import crypto
from cetatea.core.identifiers import parse_national_id
from cetatea.core.models import AuditLog
from cetatea.people.models import Person
from cetatea.portal.models import CitizenAccount
from cetatea.revenue import selectors
from cetatea.revenue.models import PortalTaxAttempt, PortalTaxLink, TaxpayerAccount


def balance_view_record(
    *,
    actor,
    person: Person,
    accounts: list[TaxpayerAccount],
    what: str,
    ip_address: str | None = None,
) -> AuditLog:
    """Write that ``actor`` saw what ``person`` owes (``what``: "panel" or "statement")."""
    return AuditLog.objects.create(
        actor=actor,
        action=AuditLog.Action.VIEW_BALANCE,
        person_id=person.pk,
        object_repr=str(person)[:200],
        ip_address=ip_address,
        details={"what": what, "accounts": [a.external_id for a in accounts]},
    )


def locked_message(until: dt.datetime) -> str:
    return _(
        "Too many attempts did not match a tax record. For your safety, linking is "
        "locked until %(time)s; try again then, or ask at the revenue office."
    ) % {"time": time_format(timezone.localtime(until), "H:i")}


def _locked_error(until: dt.datetime) -> ValidationError:
    return ValidationError(locked_message(until), code="locked")


def portal_tax_link(
    *, citizen: CitizenAccount, national_id: str, account_number: str
) -> TaxpayerAccount:
    """Link the taxpayer account whose CNP/CUI and account number are both given.

    A pair that does not match is a failed attempt, counted in the database; after
    ``selectors.LINK_MAX_FAILURES`` of them within ``selectors.LINK_WINDOW`` every
    attempt, right or wrong, is refused for that window. The error never says which
    half of the pair was wrong. A malformed CNP/CUI is a typing error, not an attempt.
    """
    try:
        nid = parse_national_id(national_id)
    except ValidationError as exc:
        raise ValidationError({"national_id": exc.messages}) from exc
    number = "".join(account_number.split()).casefold()
    account = None
    with transaction.atomic():
        # One attempt at a time per citizen, so two tabs cannot both slip under the limit.
        CitizenAccount.objects.select_for_update().filter(pk=citizen.pk).first()
        locked = selectors.link_locked_until(citizen)
        if locked is None:
            candidates = TaxpayerAccount.objects.filter(
                national_id_hash=crypto.lookup_hash(nid.value)
            )
            account = next((a for a in candidates[:50] if a.external_id.casefold() == number), None)
            if account is None:
                PortalTaxAttempt.objects.create(citizen=citizen)
            else:
                PortalTaxLink.objects.get_or_create(citizen=citizen, account=account)
    if locked is not None:
        raise _locked_error(locked)
    if account is None:
        now_locked = selectors.link_locked_until(citizen)
        if now_locked is not None:
            raise _locked_error(now_locked)
        raise ValidationError(
            _(
                "We found no tax record with this CNP/CUI and this taxpayer account "
                "number. Check both against your payment notice."
            ),
            code="no_match",
        )
    return account
