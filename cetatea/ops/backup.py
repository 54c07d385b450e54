"""Backup and restore of an installation: the database and every stored file, in one
tar archive with a manifest (docs/operations.md).

Archive layout::

    database.sqlite3 | database.pgdump    the database (SQLite online backup / pg_dump -Fc)
    files/<alias>/<name>                   every file of every storage but static files
    manifest.json                          written last: versions, migrations, counts,
                                           sha256 and size of every other member

The archive is written to a hidden temporary file in the output directory (mode 0600)
and renamed into place only when complete, so a crash leaves no half archive under the
real name. A restore reads and checks the whole archive before it changes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess  # noqa: S404 (pg_dump / pg_restore, fixed argument lists, no shell)
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import django
from django.apps import apps
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
FILES_PREFIX = "files/"
ARCHIVE_RE = re.compile(r"^cetatea-backup-\d{8}T\d{6}Z\.tar$")
CHUNK = 1024 * 1024

# The tables counted into the manifest and checked after a restore.
MAIN_MODELS = [
    "auth.User",
    "people.Person",
    "cases.Case",
    "cases.CaseEvent",
    "cases.Photo",
    "cases.Interaction",
    "registry.Entry",
    "registry.EntryFile",
    "telephony.Call",
    "telephony.RobotCall",
]
# A database holding rows in any of these is not "empty": restore needs --force.
DATA_MODELS = ["auth.User", "people.Person", "cases.Case", "registry.Entry"]

Report = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


# ------------------------------------------------------------------ helpers


def _models(labels: list[str]):
    for label in labels:
        try:
            yield label, apps.get_model(label)
        except LookupError:
            continue


def _counts(cursor, labels: list[str]) -> dict[str, int]:
    """Rows per table, read through ``cursor`` (the backup's own snapshot)."""
    out = {}
    for label, model in _models(labels):
        table = connection.ops.quote_name(model._meta.db_table)
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (a model's table name)
        out[label] = cursor.fetchone()[0]
    return out


def _applied_migrations(cursor) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    out: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        out.setdefault(app, []).append(name)
    return out


class _HashingReader:
    """Reads a file through, keeping its sha256 and length."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.fileobj.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _walk(storage, path: str = "") -> Iterator[str]:
    """Every file name of a storage, through the storage API (local disk or S3)."""
    try:
        directories, files = storage.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for directory in sorted(directories):
        yield from _walk(storage, f"{path}/{directory}" if path else directory)


def _same_location(a, b) -> bool:
    if not (isinstance(a, FileSystemStorage) and isinstance(b, FileSystemStorage)):
        return False
    return Path(a.location).resolve() == Path(b.location).resolve()


def file_aliases() -> list[str]:
    """The storages backed up: every alias but the static files' (rebuilt by
    collectstatic), and none twice when two aliases share a directory."""
    chosen: list[str] = []
    for alias in settings.STORAGES:
        if alias == "staticfiles":
            continue
        if any(_same_location(storages[alias], storages[c]) for c in chosen):
            continue
        chosen.append(alias)
    return chosen


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------ PostgreSQL


def _pg_env_and_args(settings_dict: dict) -> tuple[dict, list[str]]:
    """Connection arguments for pg_dump/pg_restore from Django's database settings (the
    password and SSL options through the environment, never on the command line)."""
    env = dict(os.environ)
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            env[variable] = str(options[option])
    args += ["--no-password"]
    return env, args


def _pg_program(name: str, server_major: int) -> tuple[str, int]:
    """The pg_dump/pg_restore to use and its major version: the one on PATH, or
    Debian's for the server's major version when the PATH one is older."""
    candidates = [shutil.which(name), f"/usr/lib/postgresql/{server_major}/bin/{name}"]
    found = []
    for program in candidates:
        if not program or not os.path.exists(program):
            continue
        out = subprocess.run(  # noqa: S603 (a fixed argument list)
            [program, "--version"], capture_output=True, text=True, check=False
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if match:
            found.append((program, int(match.group(1))))
    for program, major in found:
        if major >= server_major:
            return program, major
    if not found:
        raise BackupError(
            f"{name} was not found. Install the PostgreSQL client programs of version "
            f"{server_major} (Debian: postgresql-client-{server_major})."
        )
    program, major = found[0]
    raise BackupError(
        f"{name} is version {major} but the database server is version {server_major}: "
        f"a dump needs a client of the server's version or newer. Install "
        f"postgresql-client-{server_major}."
    )


def _server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def _dump_postgresql(target: Path, report: Report) -> dict:
    """pg_dump -Fc of the database in one snapshot, and the counts and migrations read
    in that same snapshot (so the manifest describes exactly what was dumped)."""
    server_major = _server_major()
    program, client_major = _pg_program("pg_dump", server_major)
    env, args = _pg_env_and_args(connection.settings_dict)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            report(f"pg_dump {client_major} of {connection.settings_dict['NAME']}…")
            result = subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
                [
                    program,
                    *args,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    "--dbname",
                    str(connection.settings_dict["NAME"]),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()[:2000]}")
            counts = _counts(cursor, MAIN_MODELS)
            migrations = _applied_migrations(cursor)
    return {
        "vendor": "postgresql",
        "member": PG_MEMBER,
        "server_version": connection.pg_version,
        "client_major": client_major,
        "counts": counts,
        "migrations": migrations,
    }


# ------------------------------------------------------------------ SQLite


def _dump_sqlite(target: Path, report: Report) -> dict:
    """The SQLite online backup API: a consistent copy while the server runs (WAL)."""
    connection.ensure_connection()
    source = connection.connection
    report(f"SQLite online backup of {connection.settings_dict['NAME']}…")
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        cursor = copy.cursor()
        counts = _counts(cursor, MAIN_MODELS)
        migrations = _applied_migrations(cursor)
    finally:
        copy.close()
    return {
        "vendor": "sqlite",
        "member": SQLITE_MEMBER,
        "sqlite_version": sqlite3.sqlite_version,
        "counts": counts,
        "migrations": migrations,
    }


# ------------------------------------------------------------------ backup


def _archive_name(now: dt.datetime) -> str:
    return f"cetatea-backup-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.tar"


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete the oldest archives beyond the newest ``keep``; return those deleted."""
    archives = sorted(p for p in directory.iterdir() if ARCHIVE_RE.match(p.name))
    doomed = archives[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("cetatea")
    except Exception:
        return "unknown"


def create_backup(
    *, output_dir: Path, keep: int = 0, report: Report = lambda _: None
) -> tuple[Path, dict]:
    """Write one archive of the database and every stored file into ``output_dir``.

    Returns its path and manifest. ``keep`` > 0 then deletes all but the newest
    ``keep`` archives there. Raises ``BackupError`` and leaves nothing behind when any
    step fails."""
    started = time.monotonic()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = timezone.now()
    final = output_dir / _archive_name(now)
    if final.exists():
        raise BackupError(f"{final} already exists; wait a second and try again.")
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=output_dir))
    partial = output_dir / f".{final.name}.partial"
    try:
        database_file = work / "database"
        if connection.vendor == "postgresql":
            database = _dump_postgresql(database_file, report)
        elif connection.vendor == "sqlite":
            database = _dump_sqlite(database_file, report)
        else:
            raise BackupError(f"Unsupported database: {connection.vendor}.")
        members: dict[str, dict] = {}
        file_counts: dict[str, dict] = {}
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            with open(database_file, "rb") as handle:
                members[database["member"]] = _add(tar, database["member"], handle)
            database_file.unlink()
            for alias in file_aliases():
                storage = storages[alias]
                n = size = 0
                for name in _walk(storage):
                    member = f"{FILES_PREFIX}{alias}/{name}"
                    with storage.open(name, "rb") as handle:
                        members[member] = _add(tar, member, handle, storage.size(name))
                    n += 1
                    size += members[member]["size"]
                file_counts[alias] = {"files": n, "bytes": size}
                report(f"{alias}: {n} files, {size} bytes")
            manifest = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "versions": {
                    "cetatea": _version(),
                    "django": django.get_version(),
                    "python": platform.python_version(),
                },
                "database": {
                    k: v for k, v in database.items() if k not in ("counts", "migrations")
                },
                "migrations": database["migrations"],
                "counts": database["counts"],
                "storages": file_counts,
                "members": members,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            _add(tar, MANIFEST, io.BytesIO(data), len(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
        _fsync_dir(output_dir)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = final.stat().st_size
    _record(final, size, time.monotonic() - started)
    if keep > 0:
        for path in rotate(output_dir, keep):
            report(f"rotated out {path.name}")
    return final, manifest


def _add(tar: tarfile.TarFile, name: str, handle, size: int | None = None) -> dict:
    if size is None:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(0)
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    reader = _HashingReader(handle)
    try:
        tar.addfile(info, reader)
    except OSError as exc:  # the file shrank while it was read
        raise BackupError(f"{name} changed while it was copied: {exc}") from exc
    return {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _record(archive: Path, size: int, seconds: float) -> None:
    from cetatea.ops.models import BackupRun

    BackupRun.objects.create(
        finished_at=timezone.now(), archive=archive.name, size_bytes=size, seconds=seconds
    )
    # Keep the record short: the last hundred runs.
    old = BackupRun.objects.order_by("-finished_at").values_list("pk", flat=True)[100:200]
    BackupRun.objects.filter(pk__in=list(old)).delete()


# ------------------------------------------------------------------ restore


@dataclass
class RestoreResult:
    manifest: dict
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # expected, found
    files: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(expected == found for expected, found in self.counts.values())


def read_manifest(archive: Path) -> dict:
    """Open the archive, check every member against the manifest; return it.

    Raises ``BackupError`` for a missing, truncated or corrupt archive."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file.")
    try:
        with tarfile.open(archive, mode="r:") as tar:
            try:
                manifest = json.load(tar.extractfile(MANIFEST))
            except KeyError:
                raise BackupError(
                    f"{archive.name}: no manifest.json — not a Cetatea backup, or truncated."
                ) from None
            if manifest.get("format") != FORMAT:
                raise BackupError(
                    f"{archive.name}: unknown backup format {manifest.get('format')}."
                )
            names = set(tar.getnames())
            expected = manifest.get("members") or {}
            missing = sorted(set(expected) - names)
            if missing:
                raise BackupError(f"{archive.name}: members missing: {', '.join(missing[:5])}.")
            for name, meta in expected.items():
                if not _safe_name(name):
                    raise BackupError(f"{archive.name}: unsafe member name {name!r}.")
                reader = _HashingReader(tar.extractfile(name))
                while reader.read(CHUNK):
                    pass
                if reader.size != meta["size"] or reader.digest.hexdigest() != meta["sha256"]:
                    raise BackupError(
                        f"{archive.name}: {name} is corrupt (its SHA-256 or size differs "
                        "from the manifest)."
                    )
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{archive.name}: corrupt or truncated archive ({exc}).") from exc
    return manifest


def _database_has_data() -> list[str]:
    """The main tables that hold rows (empty list: nothing to lose)."""
    tables = set(connection.introspection.table_names())
    busy = []
    with connection.cursor() as cursor:
        for label, model in _models(DATA_MODELS):
            if model._meta.db_table not in tables:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 (a model's table)
            if cursor.fetchone():
                busy.append(label)
    return busy


def _check_migrations(manifest: dict, result: RestoreResult) -> None:
    """Refuse an archive from a newer version of the code; note pending migrations."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {(app, name) for app, name in loader.disk_migrations}
    archived = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    unknown = sorted(archived - known)
    if unknown:
        shown = ", ".join(f"{a}.{n}" for a, n in unknown[:5])
        raise BackupError(
            f"The archive comes from a newer version of Cetatea (unknown migrations: {shown}). "
            "Install that version (or newer) first."
        )
    if known - archived:
        result.notes.append(
            "The code has migrations the archive does not: run `manage.py migrate` now."
        )


def restore_backup(
    *, archive: Path, force: bool = False, report: Report = lambda _: None
) -> RestoreResult:
    """Restore the database and files of ``archive`` into this installation.

    Checks the archive whole first (members, SHA-256), refuses a database with data in
    it or files in the way unless ``force``; then restores and compares the counts."""
    archive = Path(archive)
    report(f"Checking {archive.name}…")
    manifest = read_manifest(archive)
    result = RestoreResult(manifest=manifest)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"The archive holds a {vendor} database; this installation uses {connection.vendor}."
        )
    _check_migrations(manifest, result)
    if vendor == "sqlite":  # a new installation: its database's folder may not exist yet
        Path(connection.settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    file_members = [n for n in manifest["members"] if n.startswith(FILES_PREFIX)]
    unknown = sorted({n.split("/")[1] for n in file_members} - set(settings.STORAGES))
    if unknown:
        raise BackupError(f"The archive has files of storages not configured here: {unknown}.")
    if not force:
        busy = _database_has_data()
        if busy:
            raise BackupError(
                "The database is not empty (it has rows in "
                + ", ".join(busy)
                + "). Restore into an empty installation, or add --force to replace it."
            )
        in_the_way = [n for n in file_members if _storage_of(n)[0].exists(_storage_of(n)[1])]
        if in_the_way:
            raise BackupError(
                f"{len(in_the_way)} files of the archive already exist (e.g. "
                f"{in_the_way[0]}). Restore into empty storages, or add --force."
            )
    with tarfile.open(archive, mode="r:") as tar, tempfile.TemporaryDirectory() as work:
        database_file = Path(work) / "database"
        with (
            tar.extractfile(manifest["database"]["member"]) as src,
            open(database_file, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst, CHUNK)
        report("Restoring the database…")
        if vendor == "postgresql":
            _restore_postgresql(database_file)
        else:
            _restore_sqlite(database_file)
        database_file.unlink()
        report("Restoring the files…")
        for name in file_members:
            storage, stored_name = _storage_of(name)
            if storage.exists(stored_name):
                storage.delete(stored_name)
            with tar.extractfile(name) as handle:
                saved = storage.save(stored_name, File(handle, name=stored_name))
            if saved != stored_name:
                raise BackupError(f"{name} was stored as {saved}; the storage renamed it.")
            alias = name.split("/")[1]
            result.files[alias] = result.files.get(alias, 0) + 1
    connections.close_all()
    with connection.cursor() as cursor:
        found = _counts(cursor, list(manifest["counts"]))
    for label, expected in manifest["counts"].items():
        result.counts[label] = (expected, found.get(label, -1))
    for alias, meta in manifest.get("storages", {}).items():
        if result.files.get(alias, 0) != meta["files"]:
            result.counts[f"files:{alias}"] = (meta["files"], result.files.get(alias, 0))
    return result


def _storage_of(member: str):
    _, alias, name = member.split("/", 2)
    return storages[alias], name


def _restore_sqlite(database_file: Path) -> None:
    """Copy the archived database over this one with the online backup API (so a WAL
    database and its open readers stay consistent)."""
    connections.close_all()
    source = sqlite3.connect(database_file)
    try:
        if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("The archived SQLite database fails its integrity check.")
        connection.ensure_connection()
        source.backup(connection.connection)
    finally:
        source.close()
    connections.close_all()


def _restore_postgresql(database_file: Path) -> None:
    """Empty the schema, then pg_restore into it (no owners or grants: the objects
    belong to this installation's user)."""
    server_major = _server_major()
    program, _ = _pg_program("pg_restore", server_major)
    env, args = _pg_env_and_args(connection.settings_dict)
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    connections.close_all()
    result = subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
        [
            program,
            *args,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(connection.settings_dict["NAME"]),
            str(database_file),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[:2000]}")
