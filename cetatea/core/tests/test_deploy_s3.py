"""Object storage for several web machines (docs/deploy.md), tried against a real S3 API.

moto's S3 emulator runs as a server (``moto_server``, a dev requirement) on loopback; the
settings are built from the same environment variables a deployment sets, and a photo goes
through the real photo service: the processed copies land in the public bucket, the
original (with its EXIF) in the private one.
"""

from __future__ import annotations

import io
import runpy
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cetatea.cases.choices import PhotoStatus
from cetatea.cases.photos import photo_accept, photo_open_original, private_storage
from conftest import make_case

boto3 = pytest.importorskip("boto3")
pytest.importorskip("storages")

MOTO = Path(django_settings.BASE_DIR) / ".venv" / "bin" / "moto_server"
PUBLIC, PRIVATE = "cetatea-media", "cetatea-originals"
KEY, SECRET, REGION = "cetatea-test", "cetatea-test-secret", "eu-central-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    program = str(MOTO) if MOTO.exists() else shutil.which("moto_server")
    if not program:
        pytest.skip("moto_server is not installed (requirements-dev.txt)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own dev tool on loopback
        [program, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto_server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )
    for bucket in (PUBLIC, PRIVATE):
        client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    yield client
    for bucket in (PUBLIC, PRIVATE):
        for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)


def settings_from_environment(monkeypatch, **env) -> dict:
    """Run cetatea/settings.py as a fresh module with these variables set."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(django_settings.BASE_DIR) / "cetatea" / "settings.py"))


@pytest.fixture
def s3_storages(settings, s3, s3_endpoint, monkeypatch):
    built = settings_from_environment(
        monkeypatch,
        CETATEA_S3_BUCKET=PUBLIC,
        CETATEA_S3_PRIVATE_BUCKET=PRIVATE,
        CETATEA_S3_ENDPOINT_URL=s3_endpoint,
        CETATEA_S3_ACCESS_KEY=KEY,
        CETATEA_S3_SECRET_KEY=SECRET,
        CETATEA_S3_REGION=REGION,
    )
    # Setting STORAGES empties django.core.files.storage.storages and default_storage.
    settings.STORAGES = {**built["STORAGES"], "staticfiles": settings.STORAGES["staticfiles"]}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return built["STORAGES"]


def keys(s3, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera metadata: kept in the original only
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_settings_switch_both_storages_to_s3(monkeypatch):
    storages = settings_from_environment(
        monkeypatch, CETATEA_S3_BUCKET="city-media", CETATEA_S3_ENDPOINT_URL="http://s3.local"
    )["STORAGES"]
    assert storages["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storages["default"]["OPTIONS"]["bucket_name"] == "city-media"
    assert storages["default"]["OPTIONS"]["querystring_auth"] is False  # public photos
    assert storages["private"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storages["private"]["OPTIONS"]["bucket_name"] == "city-media-private"
    assert storages["private"]["OPTIONS"]["querystring_auth"] is True  # signed URLs only
    assert storages["private"]["OPTIONS"]["default_acl"] is None


def test_without_a_bucket_files_stay_on_local_disk(monkeypatch):
    monkeypatch.delenv("CETATEA_S3_BUCKET", raising=False)
    storages = settings_from_environment(monkeypatch)["STORAGES"]
    assert storages["default"]["BACKEND"].endswith(".FileSystemStorage")
    assert storages["private"]["BACKEND"].endswith(".FileSystemStorage")


@pytest.mark.django_db
def test_case_photo_goes_to_the_buckets(
    s3_storages, s3, s3_endpoint, catalog, django_capture_on_commit_callbacks
):
    data = jpeg_with_exif()
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        photo = photo_accept(
            case=case, upload=SimpleUploadedFile("IMG_0001.jpg", data, "image/jpeg")
        )
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.READY, photo.error

    # The original, byte for byte, only in the private bucket.
    assert keys(s3, PRIVATE) == [photo.original.name]
    stored = s3.get_object(Bucket=PRIVATE, Key=photo.original.name)["Body"].read()
    assert stored == data
    with photo_open_original(photo) as handle:
        assert handle.read() == data
    # The processed copies (no EXIF) only in the public bucket.
    assert keys(s3, PUBLIC) == sorted([photo.full.name, photo.thumbnail.name])
    full = s3.get_object(Bucket=PUBLIC, Key=photo.full.name)["Body"].read()
    assert b"PhoneMaker" not in full and Image.open(io.BytesIO(full)).size == (300, 200)

    # Public photos have plain URLs on the bucket; originals only signed, expiring ones.
    public_url = photo.full.url
    assert public_url == f"{s3_endpoint}/{PUBLIC}/{photo.full.name}"
    private_url = urlsplit(private_storage().url(photo.original.name))
    query = parse_qs(private_url.query)
    assert private_url.path == f"/{PRIVATE}/{photo.original.name}"
    assert "X-Amz-Signature" in query and query["X-Amz-Expires"] == ["300"]
