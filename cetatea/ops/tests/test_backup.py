"""Backup and restore: an installation is backed up, restored into an empty second one
(another database and other file directories, in a subprocess), and every case, photo
file and registry entry is found there, byte for byte."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from cetatea.cases.models import Case, Photo
from cetatea.ops.backup import ARCHIVE_RE, BackupError, read_manifest, rotate
from cetatea.ops.models import BackupRun
from cetatea.registry.models import Entry, EntryFile
from conftest import make_case, make_cnp, make_person

ROOT = Path(settings.BASE_DIR)
RESTORE_DB = "h_ops_restore"


def image(colour: str, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def installation(registry, settings):
    """A person, three cases with processed photos, two registry entries with scans."""
    from cetatea.cases.photos import photo_accept
    from cetatea.registry.services import registry_entry_add_file, registry_entry_register

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    person = make_person(national_id=make_cnp(), emails=["ion@example.ro"])
    cases = [make_case(title=f"Groapă {i}") for i in range(3)]
    for case, colour in zip(cases, ["red", "green", "blue"], strict=True):
        photo_accept(case=case, upload=SimpleUploadedFile("p.jpg", image(colour)))
    entries = []
    for i in range(2):
        entry = registry_entry_register(
            point=registry["points"]["rg"],
            doc_type=registry["types"]["cerere"],
            summary=f"Cerere {i}",
            sender_name="Ion Popescu",
            person=person,
        )
        registry_entry_add_file(
            entry_id=entry.pk,
            file=SimpleUploadedFile(f"scan{i}.png", image("white", "PNG")),
            actor=None,
        )
        entries.append(entry)
    assert Photo.objects.filter(status="ready").count() == 3
    return {"person": person, "cases": cases, "entries": entries}


def run_restore(archive: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (the test's own interpreter and manage.py)
        [sys.executable, str(ROOT / "manage.py"), "restore", str(archive), *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def second_installation(tmp_path: Path, database: dict) -> tuple[dict, Path, Path]:
    """Environment of an empty installation: its own database and file directories."""
    media, private = tmp_path / "second" / "media", tmp_path / "second" / "private"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CETATEA_MEDIA_ROOT=str(media), CETATEA_PRIVATE_MEDIA_ROOT=str(private), **database)
    return env, media, private


def expected_rows():
    return {
        "cases": sorted(Case.objects.values_list("reference", "title")),
        "photos": sorted(Photo.objects.values_list("original", "full", "thumbnail")),
        "entries": sorted(Entry.objects.values_list("number", "summary", "status_code")),
        "entry_files": sorted(EntryFile.objects.values_list("file", "sha256")),
    }


def rows_from(cursor) -> dict:
    """The same rows, read with plain SQL from the restored database."""
    queries = {
        "cases": (Case, "reference, title"),
        "photos": (Photo, 'original, "full", thumbnail'),
        "entries": (Entry, "number, summary, status_code"),
        "entry_files": (EntryFile, "file, sha256"),
    }
    out = {}
    for key, (model, columns) in queries.items():
        cursor.execute(f"SELECT {columns} FROM {model._meta.db_table}")  # noqa: S608 (constants)
        out[key] = sorted(tuple(r) for r in cursor.fetchall())
    return out


def assert_same_files(rows: dict, media: Path, private: Path) -> int:
    """Every photo file (processed copies in the media, originals in the private storage)
    and every registry scan is there with the same bytes; returns how many were compared."""
    old_media, old_private = Path(settings.MEDIA_ROOT), Path(settings.CETATEA_PRIVATE_MEDIA_ROOT)
    compared = 0
    for original, full, thumbnail in rows["photos"]:
        assert (private / original).read_bytes() == (old_private / original).read_bytes()
        for name in (full, thumbnail):
            assert name
            assert (media / name).read_bytes() == (old_media / name).read_bytes()
        compared += 3
    for name, _sha in rows["entry_files"]:
        assert (private / name).read_bytes() == (old_private / name).read_bytes()
        compared += 1
    return compared


def backup(tmp_path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", output=str(tmp_path / "backups"), keep=3, stdout=out)
    return Path(out.getvalue().strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_sqlite_installation_has_every_case_photo_and_entry(
    installation, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant (the PostgreSQL one follows)")
    archive = backup(tmp_path)
    assert ARCHIVE_RE.match(archive.name) and archive.stat().st_mode & 0o777 == 0o600
    manifest = read_manifest(archive)
    assert manifest["counts"]["cases.Case"] == 3 and manifest["counts"]["registry.Entry"] == 2
    assert manifest["storages"]["private"]["files"] == 5  # 3 originals, 2 scans
    assert "cases" in manifest["migrations"] and manifest["versions"]["django"]
    expected = expected_rows()

    target = tmp_path / "second" / "cetatea.sqlite3"
    env, media, private = second_installation(tmp_path, {"CETATEA_SQLITE_PATH": str(target)})
    done = run_restore(archive, env)
    assert done.returncode == 0, done.stderr
    assert "every count matches" in done.stdout and "cases.Case: 3 of 3 ok" in done.stdout

    with sqlite3.connect(target) as restored:
        rows = rows_from(restored.cursor())
    assert rows == expected
    assert len(rows["cases"]) == 3 and len(rows["entries"]) == 2
    assert assert_same_files(rows, media, private) == 3 * 3 + 2

    # Restoring again over what is now a full installation is refused, and changes nothing.
    before = target.read_bytes()
    again = run_restore(archive, env)
    assert again.returncode != 0 and "not empty" in again.stderr and "--force" in again.stderr
    assert target.read_bytes() == before
    forced = run_restore(archive, env, "--force")
    assert forced.returncode == 0, forced.stderr


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_postgresql_database_has_every_case_photo_and_entry(
    installation, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    import psycopg

    archive = backup(tmp_path)
    assert read_manifest(archive)["database"]["vendor"] == "postgresql"
    expected = expected_rows()

    params = connection.settings_dict
    conninfo = {
        "host": params.get("HOST") or "127.0.0.1",
        "port": params.get("PORT") or 5432,
        "user": params.get("USER") or "postgres",
        "password": params.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {RESTORE_DB}")
    try:
        auth = conninfo["user"] + (f":{conninfo['password']}" if conninfo["password"] else "")
        url = f"postgres://{auth}@{conninfo['host']}:{conninfo['port']}/{RESTORE_DB}"
        env, media, private = second_installation(tmp_path, {"DATABASE_URL": url})
        done = run_restore(archive, env)
        assert done.returncode == 0, done.stderr
        assert "cases.Case: 3 of 3 ok" in done.stdout
        with psycopg.connect(dbname=RESTORE_DB, **conninfo) as restored:
            rows = rows_from(restored.cursor())
        assert rows == expected
        assert assert_same_files(rows, media, private) == 3 * 3 + 2
        again = run_restore(archive, env)
        assert again.returncode != 0 and "not empty" in again.stderr
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)")


# --- the archive ---------------------------------------------------------------------------


@pytest.fixture
def small(db, settings, tmp_path):
    """A database with a case-less install and two files."""
    media = Path(settings.MEDIA_ROOT)
    (media / "open-data").mkdir(parents=True)
    (media / "open-data" / "cases.csv").write_bytes(b"id,title\n")
    private = Path(settings.CETATEA_PRIVATE_MEDIA_ROOT)
    (private / "registry").mkdir(parents=True)
    (private / "registry" / "scan.pdf").write_bytes(b"%PDF-1.4 scan")
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_backups_rotate_and_are_written_whole_with_mode_0600(small, tmp_path, monkeypatch):
    from cetatea.ops import backup as module

    out = tmp_path / "backups"
    names = [f"cetatea-backup-2026010{i}T000000Z.tar" for i in range(1, 5)]
    out.mkdir()
    for name in names:
        (out / name).write_bytes(b"old")
    (out / "notes.txt").write_text("kept")
    archive = backup(tmp_path)
    assert archive.stat().st_mode & 0o777 == 0o600
    kept = sorted(p.name for p in out.iterdir())
    assert kept == [names[2], names[3], archive.name, "notes.txt"]  # --keep 3
    assert BackupRun.objects.get().archive == archive.name
    with tarfile.open(archive) as tar:
        assert tar.getnames()[-1] == "manifest.json"
        assert "files/default/open-data/cases.csv" in tar.getnames()
        assert "files/private/registry/scan.pdf" in tar.getnames()

    # A failure half way leaves neither a partial archive nor a new record.
    def broken(*args, **kwargs):
        raise BackupError("disk full")

    monkeypatch.setattr(module, "_add", broken)
    monkeypatch.setattr(module, "_archive_name", lambda now: "cetatea-backup-20990101T000000Z.tar")
    with pytest.raises(CommandError, match="disk full"):
        call_command("backup", output=str(out), keep=0, stdout=io.StringIO())
    assert sorted(p.name for p in out.iterdir()) == kept
    assert BackupRun.objects.count() == 1
    assert rotate(out, 1) == [out / names[2], out / names[3]]


@pytest.mark.django_db(transaction=True)
def test_a_corrupt_or_truncated_archive_is_refused_and_nothing_changes(small, tmp_path):
    archive = backup(tmp_path)
    data = archive.read_bytes()
    media_file = Path(settings.MEDIA_ROOT) / "open-data" / "cases.csv"
    media_file.unlink()  # what a restore would bring back

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.tar"
    with tarfile.open(archive) as tar:
        member = tar.getmember("files/private/registry/scan.pdf")
    offset = member.offset_data
    corrupt.write_bytes(data[:offset] + b"X" + data[offset + 1 :])
    not_tar = tmp_path / "notes.tar"
    not_tar.write_bytes(b"this is not an archive" * 100)

    for path, message in [
        (truncated, "truncated"),
        (corrupt, "scan.pdf is corrupt"),
        (not_tar, "corrupt or truncated"),
        (tmp_path / "missing.tar", "no such file"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("restore", str(path), "--force", stdout=io.StringIO())
    assert not media_file.exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_with_data_unless_forced(small, tmp_path, catalog):
    archive = backup(tmp_path)
    make_case(title="After the backup")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert Case.objects.filter(title="After the backup").exists()


def test_a_manifest_lists_every_member_with_its_hash(tmp_path):
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tar:
        body = json.dumps({"format": 1, "members": {"../etc/passwd": {"sha256": "", "size": 0}}})
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body.encode()))
    with pytest.raises(BackupError, match="missing"):
        read_manifest(bad)


def test_a_pg_dump_older_than_the_server_is_refused_with_the_package_to_install(
    tmp_path, monkeypatch
):
    from cetatea.ops import backup as module

    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.16'\n")
    fake.chmod(0o700)
    monkeypatch.setattr(module.shutil, "which", lambda name: str(fake))
    with pytest.raises(BackupError, match="version 13 but the database server is version 99"):
        module._pg_program("pg_dump", 99)
    assert module._pg_program("pg_dump", 12) == (str(fake), 13)
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    with pytest.raises(BackupError, match="postgresql-client-99"):
        module._pg_program("pg_dump", 99)


@pytest.mark.django_db(transaction=True)
def test_an_archive_from_a_newer_version_is_refused(small, tmp_path):
    archive = backup(tmp_path)
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as src, tarfile.open(newer, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["migrations"]["cases"].append("9999_from_the_future")
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match="newer version of Cetatea"):
        call_command("restore", str(newer), "--force", stdout=io.StringIO())
