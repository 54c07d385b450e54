"""Dated configuration of the balance: late-payment charge rates, fiscal years' terms and
early-payment bonuses, loaded from ``data/config.toml`` and edited in the admin.

No rate, percentage or term is written in the code: the balance reads these rows. The
file holds what the law says (1 % a month from 2016, the 31 March / 30 September terms,
the 50 lei limit) and demonstration bonuses for Alba Iulia; a city sets its own bonuses
from its council's yearly decision (HCL) in the admin or in its own copy of the file.

Loading creates the rows that are missing and never changes a row that is already
there: once an administrator has corrected a rate in the admin, running
``load_revenue_config`` again (as ``seed_demo`` and deployments do) must not undo it.
Rows that differ from the file are counted and named so that the difference is seen.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cetatea.revenue.choices import BONUS_TAX_TYPES, TaxpayerKind
from cetatea.revenue.models import BonusRate, FiscalYear, LateChargeRate
from cetatea.revenue.terms import add_months

DEFAULT_CONFIG = Path(__file__).resolve().parent / "data" / "config.toml"
HUNDRED = Decimal(100)


def read_config(path: Path | str = DEFAULT_CONFIG) -> dict:
    """The TOML file as a dict; a ValidationError when it cannot be read or parsed."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ValidationError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(
            _("%(path)s is not valid TOML: %(error)s") % {"path": path, "error": exc}
        ) from exc


# --- validation: every row is checked before anything is written ---------------------------


class _Rows:
    """Collects the validated rows of one section and the errors of all of them."""

    def __init__(self, data: dict, section: str, errors: list[str]):
        self.items = data.get(section, [])
        self.section = section
        self.errors = errors
        if not isinstance(self.items, list):
            self.error(0, _("must be a list of tables ([[%(section)s]])") % {"section": section})
            self.items = []

    def error(self, index: int, message: str) -> None:
        self.errors.append(f"[[{self.section}]] #{index + 1}: {message}")

    def date(self, index: int, row: dict, key: str) -> dt.date | None:
        value = row.get(key)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.error(index, _("%(key)s must be a date (2026-03-31)") % {"key": key})
            return None
        return value

    def decimal(self, index: int, row: dict, key: str, low: Decimal, high: Decimal | None):
        value = row.get(key)
        try:
            if isinstance(value, bool) or value is None:
                raise InvalidOperation
            number = Decimal(str(value))
        except InvalidOperation:
            self.error(index, _("%(key)s must be a number") % {"key": key})
            return None
        if number < low or (high is not None and number > high) or not number.is_finite():
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            self.error(index, _("%(key)s must be %(bounds)s") % {"key": key, "bounds": bounds})
            return None
        if number != number.quantize(Decimal("0.01")):
            self.error(index, _("%(key)s has more than two decimals") % {"key": key})
            return None
        return number.quantize(Decimal("0.01"))

    def text(self, index: int, row: dict, key: str, max_length: int) -> str | None:
        value = row.get(key, "")
        if not isinstance(value, str) or len(value) > max_length:
            self.error(
                index,
                _("%(key)s must be a text of at most %(n)s characters")
                % {
                    "key": key,
                    "n": max_length,
                },
            )
            return None
        return value

    def year(self, index: int, value) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2200:
            self.error(index, _("%(value)r is not a year") % {"value": value})
            return None
        return value


def _late_charge_rates(data: dict, errors: list[str]) -> list[LateChargeRate]:
    rows = _Rows(data, "late_charge_rate", errors)
    found: list[LateChargeRate] = []
    seen: set[dt.date] = set()
    for i, row in enumerate(rows.items):
        valid_from = rows.date(i, row, "valid_from")
        percent = rows.decimal(i, row, "percent_per_month", Decimal(0), HUNDRED)
        basis = rows.text(i, row, "legal_basis", 200)
        if valid_from in seen:
            rows.error(i, _("%(date)s is given twice") % {"date": valid_from})
            continue
        if None in (valid_from, percent, basis):
            continue
        seen.add(valid_from)
        found.append(
            LateChargeRate(valid_from=valid_from, percent_per_month=percent, legal_basis=basis)
        )
    return found


def _fiscal_years(data: dict, errors: list[str]) -> list[FiscalYear]:
    rows = _Rows(data, "fiscal_year", errors)
    found: list[FiscalYear] = []
    seen: set[int] = set()
    for i, row in enumerate(rows.items):
        year = rows.year(i, row.get("year"))
        first = rows.date(i, row, "first_due")
        second = rows.date(i, row, "second_due")
        limit = rows.decimal(i, row, "small_tax_limit", Decimal(0), None)
        decision = rows.text(i, row, "decision", 120)
        if None in (year, first, second, limit, decision):
            continue
        if year in seen:
            rows.error(i, _("the year %(year)s is given twice") % {"year": year})
            continue
        if first.year != year or second.year != year or not first < second:
            rows.error(
                i,
                _("the terms of %(year)s must be two dates of that year, the first one first")
                % {"year": year},
            )
            continue
        seen.add(year)
        found.append(
            FiscalYear(
                year=year,
                first_due=first,
                second_due=second,
                small_tax_limit=limit,
                decision=decision,
            )
        )
    return found


def _listed(row: dict, plural: str, singular: str) -> list:
    if plural in row:
        value = row[plural]
        return value if isinstance(value, list) else [value]
    return [row.get(singular)]


def _bonus_rates(data: dict, errors: list[str]) -> list[BonusRate]:
    """``[[bonus_rate]]`` tables; ``years`` and ``tax_types`` may list several values."""
    rows = _Rows(data, "bonus_rate", errors)
    found: dict[tuple, BonusRate] = {}
    for i, row in enumerate(rows.items):
        years = [rows.year(i, y) for y in _listed(row, "years", "year")]
        tax_types = _listed(row, "tax_types", "tax_type")
        kind = row.get("taxpayer_kind")
        percent = rows.decimal(i, row, "percent", Decimal(0), HUNDRED)
        decision = rows.text(i, row, "decision", 120)
        bad_types = [t for t in tax_types if t not in BONUS_TAX_TYPES]
        if bad_types:
            rows.error(
                i,
                _("the bonus is for building, land and vehicle taxes only, not %(types)s")
                % {"types": ", ".join(map(str, bad_types))},
            )
        if kind not in TaxpayerKind.values:
            rows.error(
                i,
                _("taxpayer_kind must be one of %(kinds)s")
                % {"kinds": ", ".join(TaxpayerKind.values)},
            )
        if None in years or bad_types or kind not in TaxpayerKind.values:
            continue
        if percent is None or decision is None:
            continue
        for year in years:
            for tax_type in tax_types:
                key = (year, tax_type, kind)
                if key in found:
                    rows.error(
                        i,
                        _("the bonus of %(year)s, %(tax)s, %(kind)s is given twice")
                        % {"year": year, "tax": tax_type, "kind": kind},
                    )
                    continue
                found[key] = BonusRate(
                    year=year,
                    tax_type=tax_type,
                    taxpayer_kind=kind,
                    percent=percent,
                    decision=decision,
                )
    return list(found.values())


@dataclass
class LoadReport:
    """What ``revenue_config_load`` did, per kind of row (keyed by the model's plural name)."""

    created: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    # Rows already in the database whose values are not the file's: kept as they are.
    kept: dict[str, list[str]] = field(default_factory=dict)


def revenue_config_load(*, data: dict) -> LoadReport:
    """Create the configuration rows of ``data`` that are missing, in one transaction.

    Every row is validated first; a ValidationError listing every problem is raised
    before anything is written. Rows already there are never changed (an administrator
    may have corrected them); those whose values differ from the file are reported.
    """
    errors: list[str] = []
    unknown = sorted(set(data) - {"late_charge_rate", "fiscal_year", "bonus_rate"})
    if unknown:
        errors.append(_("unknown sections: %(names)s") % {"names": ", ".join(unknown)})
    plan = [
        (LateChargeRate, ("valid_from",), _late_charge_rates(data, errors)),
        (FiscalYear, ("year",), _fiscal_years(data, errors)),
        (BonusRate, ("year", "tax_type", "taxpayer_kind"), _bonus_rates(data, errors)),
    ]
    if errors:
        raise ValidationError(errors)
    report = LoadReport()
    with transaction.atomic():
        for model, keys, wanted in plan:
            name = str(model._meta.verbose_name_plural)
            values = [f.name for f in model._meta.concrete_fields if f.name not in ("id", *keys)]
            existing = {tuple(getattr(o, k) for k in keys): o for o in model.objects.all()}
            missing = []
            unchanged = 0
            kept = []
            for row in wanted:
                have = existing.get(tuple(getattr(row, k) for k in keys))
                if have is None:
                    missing.append(row)
                elif all(getattr(have, v) == getattr(row, v) for v in values):
                    unchanged += 1
                else:
                    kept.append(str(have))
            model.objects.bulk_create(missing)
            report.created[name] = len(missing)
            report.unchanged[name] = unchanged
            report.kept[name] = kept
    return report


# --- reading the rates -------------------------------------------------------------------------


class LateChargeSchedule:
    """The late-payment charge rates in force over time (``LateChargeRate`` rows)."""

    def __init__(self, rates: list[tuple[dt.date, Decimal]]):
        rates = sorted(rates)
        self.dates = [d for d, _p in rates]
        self.percents = [p for _d, p in rates]
        # Set when a month before the first configured rate was charged nothing.
        self.uncovered = False

    @classmethod
    def load(cls) -> LateChargeSchedule:
        return cls(list(LateChargeRate.objects.values_list("valid_from", "percent_per_month")))

    @property
    def first_date(self) -> dt.date | None:
        return self.dates[0] if self.dates else None

    def percent(self, start: dt.date, months: int) -> Decimal:
        """Sum of the monthly rates over ``months`` months of delay from ``start`` (the day
        after the term): each month is charged the rate in force on the day it begins."""
        total = Decimal(0)
        k = 0
        while k < months:
            begins = add_months(start, k)
            i = bisect_right(self.dates, begins) - 1
            after = self.dates[i + 1] if i + 1 < len(self.dates) else None
            rate = self.percents[i] if i >= 0 else Decimal(0)
            if i < 0:
                self.uncovered = True
            if after is None:
                return total + rate * (months - k)
            j = k
            while j < months and add_months(start, j) < after:
                j += 1
            total += rate * (j - k)
            k = j
        return total
