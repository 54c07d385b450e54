"""The messages' demo data: department channels and a few messages, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.http import Http404

from cetatea.intranet.chat import selectors
from cetatea.intranet.chat.demo import seed_chat_demo
from cetatea.intranet.chat.models import Channel, Message
from cetatea.intranet.chat.selectors import ChannelClosed


@pytest.fixture
def demo_users(db):
    from cetatea.core import roles
    from cetatea.people.management.commands.seed_demo import Command

    call_command("load_catalog", stdout=io.StringIO())
    roles.sync_roles()
    return Command()._create_users()


def test_demo_messages_are_posted_once_and_read_by_the_right_people(demo_users):
    seed_chat_demo(demo_users)
    counts = (Channel.objects.count(), Message.objects.count())
    assert counts[1] == 4
    seed_chat_demo(demo_users)
    assert (Channel.objects.count(), Message.objects.count()) == counts
    roads = Message.objects.filter(body__startswith="@crew").get().channel
    selectors.access_channel(demo_users["crew"], roads.pk)  # the crew's department reads it
    with pytest.raises((ChannelClosed, Http404)):  # closed to another department
        selectors.access_channel(demo_users["revenue"], roads.pk)
