"""Two submits of the same form at the same moment write one message (PostgreSQL: real
concurrent transactions; SQLite serialises writers anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cetatea.intranet.chat import services
from cetatea.intranet.chat.models import Channel, Message


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_writes_one_message(people, channels):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are measured on PostgreSQL")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            results.append(
                services.chat_post(
                    actor=people["staff"],
                    channel_id=channels["roads"].pk,
                    body="o singură dată",
                    client_key="same-form",
                ).pk
            )
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Message.objects.filter(body="o singură dată").count() == 1
    assert len(set(results)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_keep_ids_in_commit_order(people, channels):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are measured on PostgreSQL")
    barrier = threading.Barrier(6)
    errors = []

    def submit(n):
        try:
            barrier.wait()
            for i in range(5):
                services.chat_post(
                    actor=people["staff"], channel_id=channels["roads"].pk, body=f"{n}-{i}"
                )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    channel = Channel.objects.get(pk=channels["roads"].pk)
    assert Message.objects.filter(channel=channel).count() == 30
    assert channel.last_message_id == Message.objects.filter(channel=channel).latest("id").pk
