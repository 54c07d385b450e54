"""Who may open the intranet's home, announcements and directory."""

from __future__ import annotations

import pytest
from django.urls import reverse

PAGES = ["intranet:home", "intranet:announcements", "intranet:directory"]
STAFF = ["operator", "clerk", "staff", "crew", "manager", "revenue", "admin"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_goes_to_the_login_page(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES + ["intranet:announcement_new"])
def test_a_citizen_account_is_refused(client, personas, name):
    client.force_login(personas["citizen"])
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("persona", STAFF)
def test_every_staff_role_opens_the_intranet(client, staffed, persona):
    client.force_login(staffed[persona])
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert b'aria-current="page"' in response.content


def test_an_inactive_staff_account_is_refused(client, staffed):
    staff = staffed["staff"]
    client.force_login(staff)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    response = client.get(reverse("intranet:home"))
    assert response.status_code in (302, 403)
