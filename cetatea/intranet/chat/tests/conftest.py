"""Messages fixtures: two departments with their staff and channels."""

from __future__ import annotations

import pytest

from cetatea.catalog.models import StaffProfile
from cetatea.intranet.chat.choices import ChannelKind
from cetatea.intranet.chat.models import Channel


@pytest.fixture
def people(personas, catalog):
    """staff and crew work in Roads, clerk and operator in Public relations; the manager
    has no department; the citizen is no staff."""
    roads, public = catalog["roads"], catalog["public"]
    for key, department in (
        ("staff", roads),
        ("crew", roads),
        ("clerk", public),
        ("operator", public),
    ):
        StaffProfile.objects.create(user=personas[key], department=department)
        personas[key].first_name = key.title()
        personas[key].last_name = "Test"
        personas[key].save(update_fields=["first_name", "last_name"])
    return personas


@pytest.fixture
def channels(people, catalog):
    return {
        "roads": Channel.objects.create(
            kind=ChannelKind.DEPARTMENT, name="Drumuri", department=catalog["roads"]
        ),
        "public": Channel.objects.create(
            kind=ChannelKind.DEPARTMENT, name="Relații", department=catalog["public"]
        ),
        "lunch": Channel.objects.create(kind=ChannelKind.PUBLIC, name="Lunch"),
    }


def login(client, user):
    client.force_login(user)
    client.cookies.load({"django_language": "en"})
    return client
