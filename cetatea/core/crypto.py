"""Encryption and keyed hashing of national ids (CNP, CUI).

The clear value is never stored: the database holds a Fernet token (AES-128-CBC with
HMAC) and an HMAC-SHA256 of the normalised value, so an exact lookup needs no
decryption and a stolen database does not reveal ids. Keys come from the environment
(see docs/configuration.md); several encryption keys allow rotation.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in settings.NATIONAL_ID_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered value
        raise ValueError("national id cannot be decrypted with the configured keys") from exc


def lookup_hash(value: str) -> str:
    """Keyed hash used as the index for exact national-id lookup."""
    key = settings.NATIONAL_ID_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    """``1850312010046`` -> ``1**********46``: enough to confirm on the phone, not to copy."""
    if len(value) <= 3:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 3) + value[-2:]


def rotate(token: str) -> str:
    """Re-encrypt a token with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode()


@receiver(setting_changed)
def _keys_changed(*, setting: str, **kwargs) -> None:
    if setting == "NATIONAL_ID_KEYS":
        _fernet.cache_clear()


def token_matches(given: str, expected: str) -> bool:
    """A token from a URL against the configured one, in constant time (compare_digest
    takes the same time whatever the first differing character); an empty configured
    token matches nothing, so an unset setting turns the endpoint off."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
