"""Who must use a second factor, and the password rules."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from cetatea.accounts import policy


@pytest.mark.parametrize(
    "persona", ["operator", "clerk", "staff", "crew", "manager", "revenue", "admin"]
)
def test_every_staff_role_that_sees_personal_data_requires_2fa(personas, persona):
    assert policy.requires_2fa(personas[persona])


def test_a_citizen_and_an_anonymous_visitor_do_not_require_2fa(personas):
    assert not policy.requires_2fa(personas["citizen"])
    assert not policy.requires_2fa(AnonymousUser())


def test_staff_flag_or_superuser_alone_requires_2fa(db):
    assert policy.requires_2fa(User.objects.create_user("boss", is_staff=True))
    assert policy.requires_2fa(User.objects.create_user("root", is_superuser=True))


def test_a_role_without_personal_data_does_not_require_2fa(db):
    group = Group.objects.create(name="intranet only")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="intranet", codename="use_intranet")
    )
    user = User.objects.create_user("reader")
    user.groups.add(group)
    assert not policy.requires_2fa(user)
    assert policy.is_staff_account(user)  # still staff: the idle timeout applies


@pytest.mark.parametrize("perm", policy.PERSONAL_DATA_PERMISSIONS)
def test_each_personal_data_permission_alone_requires_2fa(db, perm):
    app_label, codename = perm.split(".")
    user = User.objects.create_user(f"u-{codename}")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    assert policy.requires_2fa(user)


def test_an_inactive_account_requires_nothing(db):
    assert not policy.requires_2fa(User.objects.create_user("gone", is_staff=True, is_active=False))


def test_passwords_need_twelve_characters(db):
    user = User(username="ana")
    with pytest.raises(ValidationError) as err:
        validate_password("Xq7!vR2#pL", user)  # 10 characters: no longer enough
    assert any(e.code == "password_too_short" for e in err.value.error_list)
    validate_password("Xq7!vR2#pL9$", user)  # 12


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("password1234", "password_too_common"),
        ("839201748392", "password_entirely_numeric"),
        ("ana.popescu-1", "password_too_similar"),
    ],
)
def test_common_numeric_and_similar_passwords_are_still_refused(db, password, code):
    user = User(username="ana.popescu", first_name="Ana", last_name="Popescu")
    with pytest.raises(ValidationError) as err:
        validate_password(password, user)
    assert code in {e.code for e in err.value.error_list}


def test_the_demo_password_passes_the_rules(db):
    from cetatea.people.management.commands.seed_demo import DEFAULT_PASSWORD

    validate_password(DEFAULT_PASSWORD, User(username="dispecer"))
