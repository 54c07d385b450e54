"""Text normalisation shared by every search.

Romanian is written with comma-below ``ș ț`` and, in older data, with cedilla ``ş ţ``;
operators type without diacritics at all. Every searchable name is stored as a *key*:
lower case ASCII letters and digits, words separated by one space. The same function
turns the query into a key, so "Stefanescu", "Ştefănescu" and "Ștefănescu" meet.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into base + mark.
_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
_NON_KEY = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII form of ``text`` with diacritics removed and punctuation as spaces."""
    text = unicodedata.normalize("NFKD", text.casefold()).translate(_EXTRA)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_KEY.sub(" ", text).split())


def name_key(*parts: str) -> str:
    """The search key of a name given in parts (last name first)."""
    return fold(" ".join(p for p in parts if p))


def prefix_upper_bound(prefix: str) -> str:
    """Smallest string greater than every string starting with ``prefix``.

    Keys contain only ``[a-z0-9 ]``, so bumping the last character gives an exclusive
    upper bound and a prefix search becomes an index range scan on any database.
    """
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def normalize_email(value: str) -> str:
    """E-mail addresses compare case-insensitively in practice; store them lower-cased."""
    return value.strip().lower()
