"""Real concurrent writers (PostgreSQL): saves from the same version, uploads of new
versions and lock requests at the same moment — one wins, the others are told, no
version is lost or duplicated."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cetatea.intranet.documents import services
from cetatea.intranet.documents.models import Document, DocumentVersion
from cetatea.intranet.documents.services import DocumentLocked, VersionConflict

from .conftest import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _together(n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(work(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.fixture
def only_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the SQLite test database is in memory)")


def test_four_saves_from_the_same_version_one_wins(only_postgres, staff, roads_folder):
    document = services.document_markdown_create(
        actor=staff["staff"], folder_id=roads_folder.pk, title="Notă", text="base"
    )
    authors = [staff["staff"], staff["manager"], staff["staff"], staff["manager"]]
    results, errors = _together(
        4,
        lambda i: (
            services.document_markdown_save(
                actor=authors[i], document_id=document.pk, text=f"text {i}", base_version=1
            ).number
        ),
    )
    assert results == [2]
    assert len(errors) == 3 and all(isinstance(e, VersionConflict) for e in errors)
    assert list(
        DocumentVersion.objects.filter(document=document).values_list("number", flat=True)
    ) == [2, 1]


def test_simultaneous_uploads_without_a_base_get_consecutive_numbers(
    only_postgres, staff, roads_folder
):
    document = services.document_upload(
        actor=staff["staff"], folder_id=roads_folder.pk, file=upload("a.txt", b"v1")
    )
    results, errors = _together(
        4,
        lambda i: (
            services.document_upload_version(
                actor=staff["staff"],
                document_id=document.pk,
                file=upload("a.txt", f"v{i}".encode()),
                base_version=None,
            ).number
        ),
    )
    assert errors == []
    assert sorted(results) == [2, 3, 4, 5]
    assert Document.objects.get(pk=document.pk).version == 5


def test_simultaneous_locks_one_holder(only_postgres, staff, roads_folder):
    document = services.document_markdown_create(
        actor=staff["staff"], folder_id=roads_folder.pk, title="Notă", text="base"
    )
    people = [staff["staff"], staff["manager"]]
    results, errors = _together(
        2, lambda i: services.document_lock(actor=people[i], document_id=document.pk).locked_by_id
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], DocumentLocked)
    assert Document.objects.get(pk=document.pk).locked_by_id == results[0]
