"""Who may use the intranet, and the department a staff member belongs to.

Every intranet view starts with ``access_intranet(request.user)``. Documents and
channels add their own rules (department folders and channels are closed to other
departments); those live in each app's selectors.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied


def access_intranet(user: AbstractBaseUser | AnonymousUser) -> None:
    """PermissionDenied unless ``user`` is an active staff member (any staff role)."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if not user.has_perm("intranet.use_intranet"):
        raise PermissionDenied


def department_id_of(user: AbstractBaseUser) -> int | None:
    """The department of a staff member (their staff profile), cached on the user."""
    cached = getattr(user, "_intranet_department_id", False)
    if cached is not False:
        return cached
    from cetatea.catalog.models import StaffProfile

    value = (
        StaffProfile.objects.filter(user_id=user.pk).values_list("department_id", flat=True).first()
    )
    user._intranet_department_id = value
    return value
