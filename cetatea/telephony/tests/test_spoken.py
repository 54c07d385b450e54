"""The robot's spoken numbers, amounts and dates (written out by hand)."""

import datetime as dt
from decimal import Decimal

import pytest

from cetatea.telephony.robot import spoken


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("123.45", "o sută douăzeci și trei de lei și patruzeci și cinci de bani"),
        ("1", "un leu"),
        ("2", "doi lei"),
        ("19", "nouăsprezece lei"),
        ("20", "douăzeci de lei"),
        ("21", "douăzeci și unu de lei"),
        ("12", "doisprezece lei"),
        ("100", "o sută de lei"),
        ("101", "o sută unu lei"),
        ("119", "o sută nouăsprezece lei"),
        ("200", "două sute de lei"),
        ("1000", "o mie de lei"),
        ("1002", "o mie doi lei"),
        ("2010.50", "două mii zece lei și cincizeci de bani"),
        ("22000", "douăzeci și două de mii de lei"),
        ("1000000", "un milion de lei"),
        ("2500000", "două milioane cinci sute de mii de lei"),
        ("0.01", "un ban"),
        ("0.02", "doi bani"),
        ("0.20", "douăzeci de bani"),
        ("0", "zero lei"),
        ("7.005", "șapte lei și un ban"),  # rounded half up to the ban
        ("-15", "minus cincisprezece lei"),
    ],
)
def test_amounts_in_romanian(value, words):
    assert spoken.amount_ro(Decimal(value)) == words


def test_numbers_agree_with_feminine_nouns():
    assert spoken.count_words(1, "zi", "zile", spoken.FEMININE) == "o zi"
    assert spoken.count_words(2, "zi", "zile", spoken.FEMININE) == "două zile"
    assert spoken.count_words(12, "zi", "zile", spoken.FEMININE) == "douăsprezece zile"
    assert spoken.count_words(22, "zi", "zile", spoken.FEMININE) == "douăzeci și două de zile"
    assert spoken.count_words(3, "amendă", "amenzi", spoken.FEMININE) == "trei amenzi"
    assert spoken.count_words(21, "amendă", "amenzi", spoken.FEMININE) == (
        "douăzeci și una de amenzi"
    )


def test_dates_in_romanian():
    assert (
        spoken.date_ro(dt.date(2026, 3, 31)) == "treizeci și unu martie două mii douăzeci și șase"
    )
    assert spoken.date_ro(dt.date(2026, 9, 1)) == "întâi septembrie două mii douăzeci și șase"
    assert spoken.date_ro(dt.date(2001, 12, 2)) == "doi decembrie două mii unu"
    assert spoken.date_ro(dt.date(2026, 3, 12), year=False) == "doisprezece martie"


def test_digits_are_read_one_by_one():
    assert spoken.digits_ro("1850312") == "unu opt cinci zero trei unu doi"
    assert spoken.digits_ro("RG-12/2026") == "unu doi doi zero doi șase"


def test_english():
    assert spoken.amount_en(Decimal("123.45")) == (
        "one hundred twenty-three lei and forty-five bani"
    )
    assert spoken.amount_en(Decimal("1")) == "one leu"
    assert spoken.amount_en(Decimal("0.01")) == "one ban"
    assert spoken.amount_en(Decimal("2000000")) == "two million lei"
    assert spoken.date_en(dt.date(2026, 3, 31)) == "March thirty-one, two thousand twenty-six"
    assert spoken.amount(Decimal("2"), "en") == "two lei"
    assert spoken.amount(Decimal("2"), "ro") == "doi lei"
    assert spoken.date(dt.date(2026, 9, 30), "ro", year=False) == "treizeci septembrie"
