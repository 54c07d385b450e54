"""Uploads and versions: every version kept with author, time, size and checksum;
download any version as an attachment; restore; locks and conflicting saves; refused
files leave nothing behind."""

from __future__ import annotations

import hashlib

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages

from cetatea.intranet.documents import services
from cetatea.intranet.documents.models import Document, DocumentVersion
from cetatea.intranet.documents.services import DocumentLocked, VersionConflict

from .conftest import upload

pytestmark = pytest.mark.django_db


def stored_files() -> list[str]:
    storage = storages["private"]
    try:
        _dirs, names = storage.listdir("intranet/documents")
    except FileNotFoundError:
        return []
    found = []
    for folder in _dirs:
        found += storage.listdir(f"intranet/documents/{folder}")[1]
    return found + names


def test_every_upload_is_a_version_with_author_time_size_and_checksum(staff, roads_folder):
    with time_machine.travel("2026-03-02 09:00 +02:00", tick=False):
        document = services.document_upload(
            actor=staff["staff"], folder_id=roads_folder.pk, file=upload("deviz.txt", b"v1 text")
        )
    with time_machine.travel("2026-03-03 10:00 +02:00", tick=False):
        services.document_upload_version(
            actor=staff["manager"],
            document_id=document.pk,
            file=upload("deviz-final.txt", b"v2 longer text"),
            base_version=1,
        )
    document.refresh_from_db()
    assert document.version == 2
    first, second = DocumentVersion.objects.filter(document=document).order_by("number")
    assert (first.author, first.size, first.sha256) == (
        staff["staff"],
        7,
        hashlib.sha256(b"v1 text").hexdigest(),
    )
    assert (second.author, second.original_name, second.size) == (
        staff["manager"],
        "deviz-final.txt",
        14,
    )
    assert first.created_at.isoformat() == "2026-03-02T07:00:00+00:00"
    assert document.updated_by == staff["manager"]
    assert len(stored_files()) == 2


def test_history_page_and_download_of_any_version(client, staff, roads_folder):
    document = services.document_upload(
        actor=staff["staff"], folder_id=roads_folder.pk, file=upload("raport.pdf", b"%PDF-1.4 one")
    )
    services.document_upload_version(
        actor=staff["staff"],
        document_id=document.pk,
        file=upload("raport.pdf", b"%PDF-1.4 two"),
        base_version=1,
    )
    client.force_login(staff["manager"])
    page = client.get(f"/staff/intranet/documents/{document.pk}/versions/").content.decode()
    assert "(current)" in page and "staff" in page
    response = client.get(f"/staff/intranet/documents/{document.pk}/versions/1/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 one"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="raport.pdf"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        client.get(f"/staff/intranet/documents/{document.pk}/versions/9/download/").status_code
        == 404
    )


def test_unknown_types_download_as_octet_stream(client, staff, roads_folder):
    document = services.document_upload(
        actor=staff["staff"], folder_id=roads_folder.pk, file=upload("plan.dwg", b"AC1027 drawing")
    )
    client.force_login(staff["staff"])
    response = client.get(f"/staff/intranet/documents/{document.pk}/versions/1/download/")
    assert response["Content-Type"] == "application/octet-stream"


def test_restore_makes_a_new_version_copying_the_old_one(client, staff, roads_folder):
    document = services.document_upload(
        actor=staff["staff"], folder_id=roads_folder.pk, file=upload("a.txt", b"first")
    )
    services.document_upload_version(
        actor=staff["staff"],
        document_id=document.pk,
        file=upload("a.txt", b"second"),
        base_version=1,
    )
    client.force_login(staff["staff"])
    response = client.post(
        f"/staff/intranet/documents/{document.pk}/versions/1/restore/", {"base_version": "2"}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.version == 3
    third = DocumentVersion.objects.get(document=document, number=3)
    assert third.restored_from == 1
    assert third.sha256 == hashlib.sha256(b"first").hexdigest()
    with storages["private"].open(third.file.name) as handle:
        assert handle.read() == b"first"
    assert DocumentVersion.objects.filter(document=document).count() == 3


def test_second_upload_from_the_same_version_is_refused_and_saves_nothing(
    client, staff, roads_folder
):
    document = services.document_upload(
        actor=staff["staff"], folder_id=roads_folder.pk, file=upload("a.txt", b"base")
    )
    services.document_upload_version(
        actor=staff["staff"], document_id=document.pk, file=upload("a.txt", b"mine"), base_version=1
    )
    with pytest.raises(VersionConflict, match="staff saved version 2"):
        services.document_upload_version(
            actor=staff["manager"],
            document_id=document.pk,
            file=upload("a.txt", b"theirs"),
            base_version=1,
        )
    client.force_login(staff["manager"])
    response = client.post(
        f"/staff/intranet/documents/{document.pk}/upload/",
        {"file": upload("a.txt", b"theirs"), "base_version": "1"},
    )
    assert response.status_code == 409
    assert "your changes were not saved" in response.content.decode()
    assert DocumentVersion.objects.filter(document=document).count() == 2
    assert len(stored_files()) == 2


def test_a_lock_stops_others_until_saved_released_broken_or_expired(client, staff, roads_folder):
    document = services.document_markdown_create(
        actor=staff["staff"], folder_id=roads_folder.pk, title="Notă", text="a"
    )
    services.folder_grant(
        actor=staff["manager"], folder_id=roads_folder.pk, level=2, user_id=staff["crew"].pk
    )
    with time_machine.travel("2026-03-02 09:00 +02:00", tick=False):
        services.document_lock(actor=staff["staff"], document_id=document.pk)
    with time_machine.travel("2026-03-02 09:30 +02:00", tick=False):
        with pytest.raises(DocumentLocked, match="locked by staff since"):
            services.document_markdown_save(
                actor=staff["crew"], document_id=document.pk, text="b", base_version=1
            )
        with pytest.raises(DocumentLocked):
            services.document_lock(actor=staff["crew"], document_id=document.pk)
        client.force_login(staff["crew"])
        page = client.get(f"/staff/intranet/documents/{document.pk}/").content.decode()
        assert "Locked by staff since" in page
        response = client.post(
            f"/staff/intranet/documents/{document.pk}/edit/", {"text": "b", "base_version": "1"}
        )
        assert response.status_code == 409
        html = response.content.decode()
        assert "This document is locked by staff since" in html
        assert ">\nb</textarea>" in html  # the text typed is shown back, not lost
        # Not the holder, not a manager: cannot break it.
        with pytest.raises(PermissionDenied):
            services.document_unlock(actor=staff["crew"], document_id=document.pk)
        # The holder saves: the lock is released.
        services.document_markdown_save(
            actor=staff["staff"], document_id=document.pk, text="a2", base_version=1
        )
        document.refresh_from_db()
        assert document.locked_by is None
        services.document_lock(actor=staff["crew"], document_id=document.pk)
        # A manager of the folder breaks it.
        assert services.document_unlock(actor=staff["manager"], document_id=document.pk)
        services.document_lock(actor=staff["staff"], document_id=document.pk)
    # Two hours later the lock has expired by itself.
    with time_machine.travel("2026-03-02 11:31 +02:00", tick=False):
        services.document_markdown_save(
            actor=staff["crew"], document_id=document.pk, text="c", base_version=2
        )
    document.refresh_from_db()
    assert document.version == 3


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "forbidden_type"),
        ("run.bat", b"@echo off", "forbidden_type"),
        ("script.js", b"alert(1)", "forbidden_type"),
        ("page.html", b"<p>hi</p>", "forbidden_type"),
        ("macro.docm", b"PK\x03\x04", "forbidden_type"),
        ("invoice.pdf", b"MZ\x90\x00 really a program", "forbidden_content"),
        ("notes.txt", b"#!/bin/sh\nrm -rf /", "forbidden_content"),
        ("photo.jpg", b"\x7fELF\x02\x01", "forbidden_content"),
        ("readme.txt", b"  <!DOCTYPE html><script>x</script>", "forbidden_content"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_forbidden_files_are_refused_and_nothing_is_saved(staff, roads_folder, name, data, code):
    with pytest.raises(ValidationError) as caught:
        services.document_upload(
            actor=staff["staff"], folder_id=roads_folder.pk, file=upload(name, data)
        )
    assert caught.value.code == code
    assert Document.objects.count() == 0
    assert stored_files() == []


def test_size_limit_with_a_clear_message(client, staff, roads_folder, settings):
    settings.CETATEA_INTRANET_MAX_UPLOAD_BYTES = 1024
    client.force_login(staff["staff"])
    response = client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/upload/",
        {"file": upload("big.pdf", b"%PDF-" + b"x" * 1100)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "is larger than 1.0 KB, the limit" in html and "Nothing was saved" in html
    assert 'aria-describedby="id_file_error"' in html
    assert Document.objects.count() == 0 and stored_files() == []
    # The same file as a new version of an existing document: refused too.
    document = services.document_upload(
        actor=staff["staff"], folder_id=roads_folder.pk, file=upload("small.pdf", b"%PDF-1")
    )
    with pytest.raises(ValidationError, match="larger than"):
        services.document_upload_version(
            actor=staff["staff"],
            document_id=document.pk,
            file=upload("big.pdf", b"%PDF-" + b"x" * 1100),
            base_version=1,
        )
    assert DocumentVersion.objects.filter(document=document).count() == 1


def test_a_failed_transaction_removes_the_stored_file(staff, roads_folder, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_set_text", broken)
    with pytest.raises(RuntimeError):
        services.document_upload(
            actor=staff["staff"], folder_id=roads_folder.pk, file=upload("a.txt", b"x")
        )
    assert stored_files() == []
    assert Document.objects.count() == 0
