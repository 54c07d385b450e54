"""A full disk when a file arrives: a clear error in the visitor's language (507), the
report, update or attachment refused as a whole, no row without its file, no file left.

The disk is real: a 1 MB tmpfs mounted over MEDIA_ROOT and the private root, filled up
(needs root; skipped where mounting is not allowed). One test without root makes the
storage itself fail mid-write.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cetatea.cases.models import Attachment, Case, CaseEvent, Photo
from cetatea.cases.services import case_assign
from cetatea.catalog.models import StaffProfile
from cetatea.console.selectors import case_version
from cetatea.core.storage import FileSystemStorage
from conftest import INSIDE, make_case

pytestmark = pytest.mark.django_db

FILLER = "filler.bin"


def small_jpeg(name="mic.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


def big_jpeg(name="mare.jpg") -> SimpleUploadedFile:
    """About 150 kB of noise: more than the room left on the full disk."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(buffer, "JPEG", quality=95)
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


def files_under(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != FILLER
    )


@pytest.fixture
def full_disk(tmp_path, settings):
    """MEDIA_ROOT and the private root on a 1 MB tmpfs with only ``room`` bytes free."""
    mount = shutil.which("mount")
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(  # noqa: S603 - fixed arguments, a test's own directory
        [mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"mount is not permitted here: {done.stderr.decode().strip()}")
    try:
        (disk / "media").mkdir()
        (disk / "private").mkdir()
        settings.MEDIA_ROOT = disk / "media"
        settings.CETATEA_PRIVATE_MEDIA_ROOT = disk / "private"
        private = settings.STORAGES["private"]
        settings.STORAGES = {
            **settings.STORAGES,
            "private": {**private, "OPTIONS": {**private["OPTIONS"], "location": disk / "private"}},
        }

        def fill(room: int) -> None:
            """Leave about ``room`` bytes free (tmpfs counts whole 4 kB pages)."""
            free = shutil.disk_usage(disk).free
            with open(disk / FILLER, "ab") as fh:
                fh.write(b"\0" * max(free - room, 0))

        fill(8 * 1024)
        yield type("FullDisk", (), {"root": disk, "fill": staticmethod(fill)})
    finally:
        subprocess.run([shutil.which("umount") or "umount", "-l", str(disk)], check=False)  # noqa: S603


def assert_no_files(disk) -> None:
    assert files_under(disk.root) == []


# --- the citizen's report ----------------------------------------------------------------


@pytest.fixture
def citizen(client, settings):
    from django.core import signing
    from django.core.cache import cache
    from django.utils import timezone

    from cetatea.portal.forms import SUBMIT_SALT

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    cache.clear()  # rate-limit counters
    client.cookies["django_language"] = "en"

    def submit(photos, key="k-1", **extra):
        data = {
            "category": "POTHOLE",
            "latitude": str(INSIDE[0]),
            "longitude": str(INSIDE[1]),
            "title": "Groapă adâncă",
            "description": "În fața blocului 5.",
            "stamp": signing.dumps(timezone.now().timestamp() - 30, salt=SUBMIT_SALT),
            "submission_key": key,
            "photos": photos,
            **extra,
        }
        return client.post(reverse("portal:report"), data)

    return submit


def test_report_with_a_photo_on_a_full_disk_is_refused_as_a_whole(citizen, catalog, full_disk):
    response = citizen([big_jpeg()])
    assert response.status_code == 507
    html = response.content.decode()
    assert "cannot store the photo right now; your report was not saved" in html
    assert "Groapă adâncă" in html  # the form keeps what the citizen wrote
    assert Case.objects.count() == 0 and Photo.objects.count() == 0
    assert_no_files(full_disk)


def test_the_first_photo_stored_is_removed_when_the_second_does_not_fit(
    citizen, catalog, full_disk
):
    full_disk.fill(64 * 1024)  # room for the small photo, not for the big one
    response = citizen([small_jpeg(), big_jpeg()])
    assert response.status_code == 507
    assert Case.objects.count() == 0 and Photo.objects.count() == 0
    assert_no_files(full_disk)


def test_once_there_is_room_the_same_report_is_filed_once(
    citizen, catalog, full_disk, django_capture_on_commit_callbacks
):
    assert citizen([big_jpeg()]).status_code == 507
    (full_disk.root / FILLER).unlink()
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen([big_jpeg()])
    assert response.status_code == 302
    case = Case.objects.get()
    photo = Photo.objects.get()
    assert photo.case == case and photo.status == "ready"
    assert files_under(full_disk.root)  # the original and its two copies


# --- staff ---------------------------------------------------------------------------------


def test_a_staff_attachment_on_a_full_disk_is_a_507_and_nothing_is_kept(
    client, personas, catalog, full_disk
):
    from django.test import Client

    staff = personas["staff"]
    StaffProfile.objects.create(user=staff, department=catalog["roads"])
    case = make_case()
    browser = Client(raise_request_exception=False)
    browser.cookies["django_language"] = "en"
    browser.force_login(staff)
    upload = SimpleUploadedFile("aviz.pdf", b"%PDF-1.4 " + os.urandom(200_000), "application/pdf")
    response = browser.post(
        f"/staff/cases/{case.pk}/attach/",
        {"attach-version": case_version(case), "attach-file": upload},
    )
    assert response.status_code == 507
    assert "its disk is full" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not CaseEvent.objects.filter(case=case, data__has_key="attachment").exists()
    assert_no_files(full_disk)


def test_a_field_update_with_photos_on_a_full_disk_changes_nothing(personas, catalog, full_disk):
    from django.test import Client

    crew = personas["crew"]
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1])
    case_assign(case_id=case.pk, assignee=crew, actor=personas["manager"])
    full_disk.fill(64 * 1024)
    browser = Client(raise_request_exception=False)
    browser.cookies["django_language"] = "en"
    browser.force_login(crew)
    response = browser.post(
        f"/staff/field/{case.pk}/",
        {"status": "fixed", "note": "Astupată.", "photos": [small_jpeg(), big_jpeg()]},
    )
    assert response.status_code == 507
    case.refresh_from_db()
    assert case.status != "fixed" and not Photo.objects.exists()
    assert not case.events.filter(kind="status", text="Astupată.").exists()
    assert_no_files(full_disk)


# --- Open311 -------------------------------------------------------------------------------


def test_open311_answers_507_in_the_specs_shape(client, catalog, monkeypatch):
    """Open311 takes media as ``media_url`` (nothing is stored on disk); should storing
    ever fail under it, the client gets a 507 error document, not a page."""
    from xml.etree import ElementTree as ET

    from cetatea.open311 import services
    from cetatea.open311.models import ApiClient

    app = ApiClient(name="FixMyStreet")
    key = app.new_key()
    app.save()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services, "submit_request", disk_full)
    response = client.post(
        "/open311/v2/requests.xml",
        {"api_key": key, "service_code": "POTHOLE", "media_url": "https://example.org/a.jpg"},
    )
    assert response.status_code == 507 and response["Retry-After"]
    assert ET.fromstring(response.content).find("error/code").text == "507"  # noqa: S314 - our own answer
    assert Case.objects.count() == 0


# --- the storage itself (no root needed) ---------------------------------------------------


class _FailsMidWrite(ContentFile):
    """Content whose second chunk hits a full disk."""

    def chunks(self, chunk_size=None):
        yield b"x" * 4096
        raise OSError(errno.ENOSPC, "No space left on device")


def test_the_storage_removes_the_partly_written_file(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    (tmp_path / "other.jpg").write_bytes(b"someone else's")
    with pytest.raises(OSError) as caught:
        storage.save("other.jpg", _FailsMidWrite(b""))  # retried under another name
    assert caught.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.jpg"]
    assert (tmp_path / "other.jpg").read_bytes() == b"someone else's"
    assert storage.save("new.jpg", ContentFile(b"fine")) == "new.jpg"
