"""Who must use a second factor, and who counts as staff. One place, tested."""

from __future__ import annotations

from django.conf import settings

# A user holding any of these sees citizens' personal data (DESIGN.md, "Rules that hold
# everywhere"), so their account needs two-factor authentication (OWASP ASVS 2.2, L2).
PERSONAL_DATA_PERMISSIONS = (
    "people.view_person",
    "cases.view_case",
    "registry.view_entry",
    "revenue.view_balance",
    "telephony.view_call",
)


def requires_2fa(user) -> bool:
    """True for a signed-in user whose role sees personal data, and for anyone who can
    open the admin site (staff or superuser). Citizens have no permissions: False."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    # get_all_permissions() is cached on the user object: one query per request at most,
    # and the menu's ``perms`` checks reuse it.
    return not user.get_all_permissions().isdisjoint(PERSONAL_DATA_PERMISSIONS)


def is_staff_account(user) -> bool:
    """A member of the city hall's staff (any permission at all), as opposed to a citizen."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or user.is_superuser or bool(user.get_all_permissions())


def enforced() -> bool:
    """Whether the second factor is required (CETATEA_2FA_REQUIRED)."""
    return bool(getattr(settings, "CETATEA_2FA_REQUIRED", True))


def needs_verification(user) -> bool:
    """A signed-in user who must pass the second factor before using the site."""
    if not enforced() or not requires_2fa(user):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified and is_verified())
