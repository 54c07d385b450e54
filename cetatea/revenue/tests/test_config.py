"""The dated configuration: loading ``data/config.toml`` and the admin pages."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cetatea.revenue.config import DEFAULT_CONFIG, LateChargeSchedule, read_config
from cetatea.revenue.models import BonusRate, FiscalYear, LateChargeRate
from conftest import make_user

D = Decimal


def load(path=None) -> str:
    out = io.StringIO()
    options = {"file": str(path)} if path else {}
    call_command("load_revenue_config", stdout=out, **options)
    return out.getvalue()


def test_the_default_configuration_loads_the_law_and_the_demo_bonuses(db):
    output = load()
    rate = LateChargeRate.objects.get()
    assert (rate.valid_from, rate.percent_per_month) == (date(2016, 1, 1), D("1.00"))
    assert "183" in rate.legal_basis
    years = list(FiscalYear.objects.order_by("year"))
    assert [y.year for y in years] == list(range(2016, 2028))
    assert all(
        (y.first_due, y.second_due, y.small_tax_limit)
        == (date(y.year, 3, 31), date(y.year, 9, 30), D("50.00"))
        for y in years
    )
    individual = BonusRate.objects.get(year=2026, tax_type="building", taxpayer_kind="individual")
    company = BonusRate.objects.get(year=2026, tax_type="vehicle", taxpayer_kind="company")
    assert (individual.percent, company.percent) == (D("10.00"), D("5.00"))
    assert individual.decision.startswith("demo")
    # 5 years x 3 taxes x 2 kinds of taxpayer.
    assert BonusRate.objects.count() == 30
    assert "fiscal years: 12 created, 0 already there" in output


def test_loading_again_changes_nothing_and_keeps_an_administrators_correction(db):
    load()
    corrected = BonusRate.objects.get(year=2026, tax_type="land", taxpayer_kind="individual")
    corrected.percent = D("7.50")
    corrected.decision = "HCL 123/2025"
    corrected.save(update_fields=["percent", "decision"])
    BonusRate.objects.filter(year=2027).delete()

    output = load()
    corrected.refresh_from_db()
    assert corrected.percent == D("7.50")
    assert "late-payment charge rates: 0 created, 1 already there" in output
    # The deleted 2027 rows come back; the corrected one is kept and named.
    assert (
        "early-payment bonuses: 6 created, 23 already there, 1 differ from the file and were kept"
        in (output)
    )
    assert "kept: 2026 land individual 7.50%" in output
    assert BonusRate.objects.count() == 30


def test_a_bad_file_is_refused_whole_with_every_problem_listed(db, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        """
[[late_charge_rate]]
valid_from = 2016-01-01
percent_per_month = 1

[[fiscal_year]]
year = 2030
first_due = 2030-09-30
second_due = 2030-03-31
small_tax_limit = 50

[[bonus_rate]]
years = [2030]
tax_types = ["building", "advertising"]
taxpayer_kind = "individual"
percent = 110

[[bonus_rate]]
year = 2031
tax_type = "land"
taxpayer_kind = "person"
percent = 10

[[late_charge_rate]]
valid_from = "yesterday"
percent_per_month = 1.005
""",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as error:
        load(path)
    message = str(error.value)
    assert "[[late_charge_rate]] #2: valid_from must be a date" in message
    assert "#2: percent_per_month has more than two decimals" in message
    assert "[[fiscal_year]] #1: the terms of 2030 must be two dates of that year" in message
    assert "not advertising" in message
    assert "percent must be 0..100" in message
    assert "[[bonus_rate]] #2: taxpayer_kind must be one of individual, company" in message
    # Nothing written, not even the good late-charge row.
    assert not LateChargeRate.objects.exists()
    assert not FiscalYear.objects.exists()


def test_a_file_that_is_not_toml_or_is_missing_is_a_clear_error(db, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[[fiscal_year]\nyear = ", encoding="utf-8")
    with pytest.raises(CommandError, match="is not valid TOML"):
        load(path)
    with pytest.raises(CommandError, match="Cannot read"):
        load(tmp_path / "missing.toml")
    path.write_text("[[tax_rate]]\nyear = 2026\n", encoding="utf-8")
    with pytest.raises(CommandError, match="unknown sections: tax_rate"):
        load(path)


def test_the_shipped_file_parses_with_dates_and_numbers():
    data = read_config(DEFAULT_CONFIG)
    assert data["late_charge_rate"][0]["valid_from"] == date(2016, 1, 1)
    assert {row["taxpayer_kind"] for row in data["bonus_rate"]} == {"individual", "company"}


def test_the_schedule_charges_each_month_the_rate_in_force_when_it_begins():
    schedule = LateChargeSchedule([(date(2016, 1, 1), D("1.00")), (date(2025, 6, 1), D("2.00"))])
    # Months beginning 01.04, 01.05 (1 %), 01.06, 01.07 (2 %), 01.08 (2 %).
    assert schedule.percent(date(2025, 4, 1), 5) == D("8.00")
    # Entirely before the change, entirely after it.
    assert schedule.percent(date(2024, 4, 1), 12) == D("12.00")
    assert schedule.percent(date(2025, 6, 1), 3) == D("6.00")
    assert schedule.uncovered is False
    # Months before the first rate are charged nothing, and that is remembered.
    assert schedule.percent(date(2015, 11, 1), 3) == D("1.00")
    assert schedule.uncovered is True


# --- the admin ---------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return make_user("root", is_staff=True, is_superuser=True)


def test_the_configuration_is_edited_in_the_admin(client, superuser):
    client.force_login(superuser)
    for name in ("latechargerate", "fiscalyear", "bonusrate"):
        assert client.get(reverse(f"admin:revenue_{name}_add")).status_code == 200
    response = client.post(
        reverse("admin:revenue_bonusrate_add"),
        {"year": 2028, "tax_type": "advertising", "taxpayer_kind": "individual", "percent": "10"},
    )
    # The bonus is for building, land and vehicle taxes only.
    assert response.status_code == 200
    assert not BonusRate.objects.exists()
    client.post(
        reverse("admin:revenue_bonusrate_add"),
        {"year": 2028, "tax_type": "land", "taxpayer_kind": "individual", "percent": "10"},
    )
    assert BonusRate.objects.get().tax_type == "land"


def test_the_imported_data_is_read_only_in_the_admin(client, superuser):
    client.force_login(superuser)
    for name in ("taxpayeraccount", "obligation", "fine", "payment", "importrun"):
        assert client.get(reverse(f"admin:revenue_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:revenue_{name}_add")).status_code == 403
