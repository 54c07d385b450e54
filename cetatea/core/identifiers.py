"""Validation of Romanian identifiers and contact points.

CNP and CUI go through python-stdnum first, then through the checks it lacks
(research/romanian-domain-rules.md §6.4): no future birth date, no sequence 000,
foreign residents (S = 7/8/9) whose century is not encoded, county 70 (all CNPs
issued since May 2024). Every error is a ``ValidationError`` with a translated message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.ro import cnp as stdnum_cnp
from stdnum.ro import cui as stdnum_cui

# County codes: 01-46 counties and Bucharest sectors, 47/48 former sectors 7 and 8,
# 51 Călărași, 52 Giurgiu, 70 every CNP issued by the civil-status system since 2024.
CNP_COUNTIES = {f"{n:02d}" for n in range(1, 49)} | {"51", "52", "70"}


@dataclass(frozen=True)
class NationalId:
    kind: str  # "cnp" or "cui"
    value: str  # normalised digits


def _cnp_birth_date(number: str) -> dt.date | None:
    """Birth date encoded in a CNP; for S 7/8/9 the century is guessed (19xx or 20xx)."""
    s = number[0]
    yy, mm, dd = int(number[1:3]), int(number[3:5]), int(number[5:7])
    centuries = {"1": [1900], "2": [1900], "3": [1800], "4": [1800], "5": [2000], "6": [2000]}
    today = timezone.localdate()
    for century in centuries.get(s, [2000, 1900]):
        try:
            born = dt.date(century + yy, mm, dd)
        except ValueError:
            continue
        if s in "789" and born > today:
            continue  # a resident's birth date can only be in the past: try the other century
        return born
    return None


def validate_cnp(raw: str) -> str:
    """Return the normalised CNP or raise ``ValidationError`` saying what is wrong."""
    number = stdnum_cnp.compact(raw or "")
    if not number.isdigit() or len(number) != 13:
        raise ValidationError(_("A CNP has exactly 13 digits."), code="cnp_length")
    if number[0] == "0":
        raise ValidationError(_("A CNP cannot start with 0."), code="cnp_sex")
    if stdnum_cnp.calc_check_digit(number[:-1]) != number[-1]:
        raise ValidationError(
            _("The CNP check digit is wrong; please read the number again."), code="cnp_checksum"
        )
    born = _cnp_birth_date(number)
    if born is None:
        raise ValidationError(_("The CNP holds an impossible birth date."), code="cnp_date")
    if born > timezone.localdate():
        raise ValidationError(_("The CNP holds a birth date in the future."), code="cnp_future")
    if number[7:9] not in CNP_COUNTIES:
        raise ValidationError(_("The CNP holds an unknown county code."), code="cnp_county")
    if number[9:12] == "000":
        raise ValidationError(_("The CNP holds the sequence 000, never issued."), code="cnp_seq")
    if number[0] in "123456":
        # Cross-check with stdnum for anything we did not cover ourselves.
        try:
            stdnum_cnp.validate(number)
        except (InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength) as exc:
            raise ValidationError(_("The CNP is not valid."), code="cnp_invalid") from exc
    return number


def validate_cui(raw: str) -> str:
    """Return the normalised CUI/CIF (digits, without ``RO``) or raise ``ValidationError``."""
    number = stdnum_cui.compact(raw or "")
    try:
        return stdnum_cui.validate(number)
    except InvalidChecksum as exc:
        raise ValidationError(
            _("The CUI check digit is wrong; please read the number again."), code="cui_checksum"
        ) from exc
    except (InvalidComponent, InvalidFormat, InvalidLength) as exc:
        raise ValidationError(
            _("A CUI has 2 to 10 digits, optionally preceded by RO."), code="cui_format"
        ) from exc


def parse_national_id(raw: str, *, kind: str | None = None) -> NationalId:
    """Validate a CNP (13 digits) or a CUI; ``kind`` forces one of them."""
    compact = "".join(ch for ch in (raw or "") if ch.isalnum()).upper()
    if kind == "cnp" or (kind is None and len(compact) == 13 and compact.isdigit()):
        return NationalId("cnp", validate_cnp(compact))
    return NationalId("cui", validate_cui(compact))


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return a phone number in E.164 (``+40722123456``) or raise ``ValidationError``."""
    region = region or settings.CETATEA_PHONE_REGION
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s” is not a phone number.") % {"value": raw}, code="phone_parse"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number.") % {"value": raw}, code="phone_invalid"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Human form of a stored number: national format at home, international abroad."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(parsed)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.CETATEA_PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def normalize_email_address(raw: str) -> str:
    """Validated, lower-cased e-mail address or ``ValidationError``."""
    value = (raw or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(
            _("“%(value)s” is not an e-mail address.") % {"value": raw}, code="email_invalid"
        ) from exc
    return value


def mask_email(value: str) -> str:
    """``ion.popescu@example.ro`` -> ``i***@example.ro``: the domain (a mail server, a
    provider) without the mailbox, for logs shown to staff who need no more."""
    value = (value or "").strip()
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    if not at:  # not an address (a raw From header that could not be parsed)
        return value[0] + "***"
    return (local[:1] or "") + "***@" + domain
