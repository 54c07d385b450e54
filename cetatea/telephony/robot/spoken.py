"""Numbers, money and dates as the phone robot says them, in Romanian and in English.

Written for the robot's prompts, where a synthesiser reads plain words: espeak-ng
reads "123,45 lei" digit group by digit group, and Romanian numerals agree with the
noun that follows in gender ("doi lei", "două zile") and take "de" before the noun from
20 on ("nouăsprezece lei", "douăzeci de lei", "o sută unu lei", "o sută douăzeci de lei").
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

MASCULINE, FEMININE = "m", "f"

_UNITS = ["zero", "unu", "doi", "trei", "patru", "cinci", "șase", "șapte", "opt", "nouă"]
_TEENS = [
    "zece",
    "unsprezece",
    "doisprezece",
    "treisprezece",
    "paisprezece",
    "cincisprezece",
    "șaisprezece",
    "șaptesprezece",
    "optsprezece",
    "nouăsprezece",
]
_TENS = {
    2: "douăzeci",
    3: "treizeci",
    4: "patruzeci",
    5: "cincizeci",
    6: "șaizeci",
    7: "șaptezeci",
    8: "optzeci",
    9: "nouăzeci",
}
# (value, singular, plural); each is a feminine ("o mie", "două mii") or neuter noun
# ("un milion", "două milioane"), which count like a feminine plural.
_SCALES = [
    (10**9, "un miliard", "miliarde"),
    (10**6, "un milion", "milioane"),
    (10**3, "o mie", "mii"),
]
MONTHS_RO = [
    "ianuarie",
    "februarie",
    "martie",
    "aprilie",
    "mai",
    "iunie",
    "iulie",
    "august",
    "septembrie",
    "octombrie",
    "noiembrie",
    "decembrie",
]


def _below_100(n: int, gender: str) -> str:
    if n < 10:
        if n == 1:
            return "una" if gender == FEMININE else "unu"
        if n == 2:
            return "două" if gender == FEMININE else "doi"
        return _UNITS[n]
    if n < 20:
        if n == 12 and gender == FEMININE:
            return "douăsprezece"
        return _TEENS[n - 10]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _TENS[tens]
    return f"{_TENS[tens]} și {_below_100(unit, gender)}"


def _below_1000(n: int, gender: str) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds == 1:
        words.append("o sută")
    elif hundreds == 2:
        words.append("două sute")
    elif hundreds:
        words.append(f"{_UNITS[hundreds]} sute")
    if rest:
        words.append(_below_100(rest, gender))
    return " ".join(words)


def _needs_de(n: int) -> bool:
    """ "de" comes between a numeral and its noun when the last two digits make 0 or 20
    or more (20, 100, 1.000, 121), not for 1-19 and x01-x19 ("o sută unu lei")."""
    last_two = n % 100
    return n >= 20 and (last_two == 0 or last_two >= 20)


def number_words(n: int, gender: str = MASCULINE) -> str:
    """A whole number as it is counted ("douăzeci și unu", "două mii") — the form used
    before a noun is ``count_words``."""
    if n < 0:
        return "minus " + number_words(-n, gender)
    if n == 0:
        return "zero"
    words = []
    rest = n
    for value, singular, plural in _SCALES:
        count, rest = divmod(rest, value)
        if count == 1:
            words.append(singular)
        elif count:
            # "două mii", "douăzeci și două de mii", "o sută unu mii"
            head = _below_1000(count, FEMININE)
            words.append(f"{head} de {plural}" if _needs_de(count) else f"{head} {plural}")
    if rest:
        words.append(_below_1000(rest, gender))
    return " ".join(words)


def count_words(n: int, singular: str, plural: str, gender: str = MASCULINE) -> str:
    """A number with its noun: "un leu", "o zi", "doi lei", "nouăsprezece lei",
    "douăzeci de lei", "o sută unu lei", "douăzeci și unu de lei"."""
    if n == 1:
        return f"{'o' if gender == FEMININE else 'un'} {singular}"
    words = number_words(n, gender)
    return f"{words} de {plural}" if _needs_de(n) else f"{words} {plural}"


def amount_ro(amount: Decimal | int | str) -> str:
    """Lei and bani: "o sută douăzeci și trei de lei și patruzeci și cinci de bani"."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    negative = value < 0
    lei, bani = divmod(int(abs(value) * 100), 100)
    if lei == 0 and bani:
        text = count_words(bani, "ban", "bani")
    else:
        text = count_words(lei, "leu", "lei")
        if bani:
            text += " și " + count_words(bani, "ban", "bani")
    return ("minus " if negative else "") + text


def date_ro(day: dt.date, *, year: bool = True) -> str:
    """ "întâi martie două mii douăzeci și șase", "treizeci septembrie"."""
    day_words = "întâi" if day.day == 1 else number_words(day.day)
    text = f"{day_words} {MONTHS_RO[day.month - 1]}"
    return f"{text} {number_words(day.year)}" if year else text


def digits_ro(text: str) -> str:
    """Digits one by one (a number the caller typed, read back): "unu doi trei"."""
    return " ".join(_UNITS[int(c)] for c in text if c.isdigit())


# --- English -------------------------------------------------------------------------------

_EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = [(10**9, "billion"), (10**6, "million"), (10**3, "thousand")]
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _en_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_EN_UNITS[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_UNITS[unit]}" if unit else ""))
    elif rest:
        words.append(_EN_UNITS[rest])
    return " ".join(words)


def number_words_en(n: int) -> str:
    if n < 0:
        return "minus " + number_words_en(-n)
    if n == 0:
        return "zero"
    words, rest = [], n
    for value, name in _EN_SCALES:
        count, rest = divmod(rest, value)
        if count:
            words.append(f"{_en_below_1000(count)} {name}")
    if rest:
        words.append(_en_below_1000(rest))
    return " ".join(words)


def amount_en(amount: Decimal | int | str) -> str:
    """ "one hundred twenty-three lei and forty-five bani", "one leu"."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    negative = value < 0
    lei, bani = divmod(int(abs(value) * 100), 100)
    parts = []
    if lei or not bani:
        parts.append(f"{number_words_en(lei)} {'leu' if lei == 1 else 'lei'}")
    if bani:
        parts.append(f"{number_words_en(bani)} {'ban' if bani == 1 else 'bani'}")
    return ("minus " if negative else "") + " and ".join(parts)


def date_en(day: dt.date, *, year: bool = True) -> str:
    text = f"{MONTHS_EN[day.month - 1]} {number_words_en(day.day)}"
    return f"{text}, {number_words_en(day.year)}" if year else text


def amount(value: Decimal | int | str, language: str) -> str:
    return amount_en(value) if language == "en" else amount_ro(value)


def date(value: dt.date, language: str, *, year: bool = True) -> str:
    return date_en(value, year=year) if language == "en" else date_ro(value, year=year)


def digits(text: str, language: str) -> str:
    """A phone number read digit by digit, in ``language``."""
    if language == "en":
        return " ".join(_EN_UNITS[int(c)] for c in text if c.isdigit())
    return digits_ro(text)
