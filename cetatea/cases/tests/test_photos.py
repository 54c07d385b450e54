import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile
from PIL.TiffImagePlugin import IFDRational

from cetatea.cases import photos
from cetatea.cases.choices import EventKind, PhotoStatus
from cetatea.cases.models import Case, CaseEvent, Photo
from cetatea.cases.photos import (
    detect_image_type,
    photo_accept,
    photo_check,
    photo_open_original,
    photo_redact,
    private_storage,
    process_photo,
    read_gps,
)
from conftest import make_case, make_user

pytestmark = pytest.mark.django_db

# 46°04'12.34" N, 23°34'56.70" E: the citadel of Alba Iulia.
LATITUDE = 46 + 4 / 60 + 12.34 / 3600
LONGITUDE = 23 + 34 / 60 + 56.7 / 3600
GPS = {1: "N", 2: (46.0, 4.0, 12.34), 3: "E", 4: (23.0, 34.0, 56.7)}


# --- building real files ----------------------------------------------------------------------


def exif_with(orientation: int | None = None, gps: dict | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif.get_ifd(0x8825).update(gps)
    exif[0x010F] = "PhoneMaker"  # Make: camera metadata that must not survive
    return exif


def halves(size=(300, 200), left="red", right="blue") -> Image.Image:
    """Left half one colour, right half another: shows where a rotation put things."""
    image = Image.new("RGB", size, right)
    image.paste(Image.new("RGB", (size[0] // 2, size[1]), left), (0, 0))
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def upload(data: bytes, name: str = "IMG_0001.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg(size=(300, 200), orientation=None, gps=None, image=None) -> bytes:
    image = image or halves(size)
    return encode(image, "JPEG", quality=90, exif=exif_with(orientation, gps))


def png(size=(300, 200), mode="RGB") -> bytes:
    return encode(Image.new(mode, size, "green"), "PNG")


def png_bomb(side: int = 20_000) -> bytes:
    """A 1-bit greyscale PNG of side×side pixels, compressed to a few kilobytes.

    Written chunk by chunk: Pillow would need 400 MB to build it in memory.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + side // 8)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def dirs(settings, tmp_path):
    media, private = tmp_path / "media", tmp_path / "private"
    settings.MEDIA_ROOT = media
    settings.CETATEA_PRIVATE_MEDIA_ROOT = private
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": private},
        },
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return media, private


@pytest.fixture
def case(catalog, dirs):
    return make_case()


def accept(case, data: bytes, django_capture_on_commit_callbacks, **kwargs) -> Photo:
    """Accept in a committed transaction, so the processing task runs (immediately)."""
    with django_capture_on_commit_callbacks(execute=True):
        photo = photo_accept(case=case, upload=upload(data, **kwargs))
    photo.refresh_from_db()
    return photo


def public_image(photo: Photo, field: str = "full") -> tuple[Image.Image, bytes]:
    with getattr(photo, field).open("rb") as fh:
        data = fh.read()
    return Image.open(io.BytesIO(data)), data


def assert_nothing_written(dirs):
    media, private = dirs
    assert Photo.objects.count() == 0
    assert files_under(media) == [] and files_under(private) == []


# --- type detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftyphevc\x00\x00\x00\x00mif1hevc", "heic"),
    ],
)
def test_type_is_detected_from_the_content(head, kind):
    assert detect_image_type(io.BytesIO(head + b"\x00" * 32)) == kind


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"Groapa mare pe strada Motilor\n",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        b"\x7fELF\x02\x01\x01\x00",
        b"GIF89a\x01\x00\x01\x00",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
        b"",
    ],
    ids=["pdf", "text", "exe", "elf", "gif", "avif", "empty"],
)
def test_anything_else_is_not_a_photo(data):
    with pytest.raises(ValidationError) as excinfo:
        detect_image_type(upload(data, name="groapa.jpg"))
    assert excinfo.value.messages == [
        "The file “groapa.jpg” is not a photo (JPEG, PNG, WebP or HEIC)."
    ]


# --- accepting --------------------------------------------------------------------------------


def test_jpeg_is_accepted_stored_privately_and_processed(
    case, dirs, django_capture_on_commit_callbacks
):
    media, private = dirs
    data = jpeg(gps=GPS)
    photo = accept(case, data, django_capture_on_commit_callbacks)

    assert photo.status == PhotoStatus.READY and photo.error == ""
    assert photo.case == case and photo.original_name == "IMG_0001.jpg"
    # The original is byte for byte what the citizen sent, in the private storage only.
    assert photo.original.name.startswith("originals/")
    assert (private / photo.original.name).read_bytes() == data
    assert not (media / photo.original.name).exists()
    assert all(data != path.read_bytes() for path in files_under(media))
    with photo_open_original(photo) as fh:
        assert fh.read() == data
    # The public copies are in MEDIA_ROOT under random names.
    assert (media / photo.full.name).is_file() and (media / photo.thumbnail.name).is_file()
    assert "IMG_0001" not in photo.full.name + photo.thumbnail.name
    assert len(files_under(media)) == 2 and len(files_under(private)) == 1


def test_private_storage_is_the_configured_alias(dirs):
    media, private = dirs
    assert Path(private_storage().location) == private


def test_gps_is_read_before_stripping(case, django_capture_on_commit_callbacks):
    photo = accept(case, jpeg(gps=GPS), django_capture_on_commit_callbacks)
    assert photo.gps_latitude == pytest.approx(LATITUDE, abs=1e-4)
    assert photo.gps_longitude == pytest.approx(LONGITUDE, abs=1e-4)


def test_photo_without_gps_has_no_position(case, django_capture_on_commit_callbacks):
    photo = accept(case, jpeg(), django_capture_on_commit_callbacks)
    assert photo.gps_latitude is None and photo.gps_longitude is None


def test_png_with_transparency_is_accepted(case, django_capture_on_commit_callbacks):
    photo = accept(
        case,
        png(mode="RGBA"),
        django_capture_on_commit_callbacks,
        name="harta.png",
        content_type="image/png",
    )
    assert photo.status == PhotoStatus.READY
    image, _ = public_image(photo)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (300, 200)


def test_webp_is_accepted(case, django_capture_on_commit_callbacks):
    data = encode(halves(), "WEBP", exif=exif_with(gps=GPS).tobytes())
    photo = accept(
        case, data, django_capture_on_commit_callbacks, name="a.webp", content_type="image/webp"
    )
    assert photo.status == PhotoStatus.READY
    assert photo.gps_latitude == pytest.approx(LATITUDE, abs=1e-4)
    assert public_image(photo)[0].format == "JPEG"


def heic(image: Image.Image, **params) -> bytes:
    try:
        return encode(image, "HEIF", **params)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        pytest.skip(f"this pillow-heif build cannot encode HEIC: {exc}")


def test_heic_is_accepted_and_converted(case, django_capture_on_commit_callbacks):
    data = heic(halves(), exif=exif_with(gps=GPS).tobytes())
    assert detect_image_type(io.BytesIO(data)) == "heic"
    photo = accept(
        case, data, django_capture_on_commit_callbacks, name="IMG_1.HEIC", content_type=""
    )
    assert photo.status == PhotoStatus.READY
    assert photo.gps_latitude == pytest.approx(LATITUDE, abs=1e-4)
    assert photo.original.name.endswith(".heic")
    image, raw = public_image(photo)
    assert image.format == "JPEG" and image.size == (300, 200)
    assert not image.getexif() and b"Exif" not in raw


def test_client_name_and_content_type_are_not_trusted(case, dirs):
    with pytest.raises(ValidationError) as excinfo:
        photo_accept(case=case, upload=upload(b"%PDF-1.4\n" + b"x" * 500, name="groapa.jpg"))
    assert excinfo.value.code == "not_a_photo"
    assert "groapa.jpg" in excinfo.value.messages[0]
    assert_nothing_written(dirs)


@pytest.mark.parametrize(
    "data",
    [b"hello, city hall\n" * 10, b"MZ\x90\x00" + b"\x00" * 200],
    ids=["text", "exe"],
)
def test_other_files_are_refused_and_nothing_is_written(case, dirs, data):
    with pytest.raises(ValidationError):
        photo_accept(case=case, upload=upload(data, name="poza.jpg"))
    assert_nothing_written(dirs)


def test_too_big_file_is_refused_with_the_limit_in_mb(case, dirs):
    data = b"\xff\xd8\xff\xe0" + b"\x00" * (16 * 1024 * 1024)
    with pytest.raises(ValidationError) as excinfo:
        photo_accept(case=case, upload=upload(data, name="mare.jpg"))
    assert excinfo.value.messages == ["The file “mare.jpg” is larger than 15 MB."]
    assert_nothing_written(dirs)


def test_decompression_bomb_is_refused(case, dirs):
    data = png_bomb()
    assert len(data) < 200_000  # 400 megapixels in a tiny file
    with pytest.raises(ValidationError) as excinfo:
        photo_accept(case=case, upload=upload(data, name="bomba.png"))
    assert excinfo.value.code == "too_many_pixels"
    assert "50 megapixels" in excinfo.value.messages[0]
    assert_nothing_written(dirs)


def test_pixel_limit_is_ours_and_read_from_the_header(case, dirs, settings, monkeypatch):
    settings.CETATEA_PHOTO_MAX_PIXELS = 50_000
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded the pixels"))
    assert photo_check(upload(jpeg(size=(200, 200)))) == "jpeg"  # 40,000 pixels
    assert photo_check(upload(png(size=(250, 200)))) == "png"  # 50,000 pixels
    with pytest.raises(ValidationError) as excinfo:
        photo_accept(case=case, upload=upload(jpeg(size=(300, 200))))
    assert excinfo.value.code == "too_many_pixels"
    assert "0.1 megapixels" in excinfo.value.messages[0]
    assert_nothing_written(dirs)


def test_damaged_header_is_refused(case, dirs):
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    with pytest.raises(ValidationError) as excinfo:
        photo_accept(case=case, upload=upload(data, name="stricat.png"))
    assert excinfo.value.code == "unreadable"
    assert_nothing_written(dirs)


def test_at_most_five_photos_per_case(case, dirs, django_capture_on_commit_callbacks):
    media, private = dirs
    for index in range(5):
        accept(case, png(), django_capture_on_commit_callbacks, name=f"{index}.png")
    with pytest.raises(ValidationError) as excinfo:
        photo_accept(case=case, upload=upload(png(), name="6.png"))
    assert excinfo.value.messages == ["A case can have at most 5 photos."]
    assert case.photos.count() == 5
    assert len(files_under(private)) == 5 and len(files_under(media)) == 10
    # Another case has its own allowance.
    assert photo_accept(case=make_case(), upload=upload(png())).pk


def test_failure_inside_the_transaction_leaves_no_file(case, dirs, monkeypatch):
    def broken_create(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Photo.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        photo_accept(case=case, upload=upload(jpeg()))
    assert_nothing_written(dirs)


def test_processing_waits_for_the_commit(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo = photo_accept(case=case, upload=upload(jpeg()))
    assert len(callbacks) == 1
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.PROCESSING and not photo.full


def test_uploader_is_recorded(case, django_capture_on_commit_callbacks):
    user = make_user("crew1")
    with django_capture_on_commit_callbacks(execute=True):
        photo = photo_accept(case=case, upload=upload(png()), actor=user, sort_order=3)
    assert photo.uploaded_by == user and photo.sort_order == 3


# --- GPS --------------------------------------------------------------------------------------


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_gps_south_and_west_are_negative():
    gps = {1: "S", 2: (34.0, 36.0, 0.0), 3: "W", 4: (58.0, 22.0, 48.0)}
    assert read_gps(opened(jpeg(gps=gps))) == pytest.approx((-34.6, -58.38), abs=1e-4)


@pytest.mark.parametrize(
    "gps",
    [
        {},
        {2: (46.0, 4.0, 12.34), 4: (23.0, 34.0, 56.7)},  # no hemispheres
        {1: "N", 2: (146.0, 0.0, 0.0), 3: "E", 4: (23.0, 0.0, 0.0)},  # beyond the pole
        {1: "N", 2: (46.0, 75.0, 0.0), 3: "E", 4: (23.0, 0.0, 0.0)},  # 75 minutes
        {1: "N", 2: (IFDRational(46, 0), 0.0, 0.0), 3: "E", 4: (23.0, 0.0, 0.0)},  # x/0
        {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},  # a receiver with no fix
        {1: "Q", 2: (46.0, 4.0, 12.34), 3: "E", 4: (23.0, 34.0, 56.7)},
    ],
    ids=["empty", "no-refs", "lat>90", "minutes", "zero-denominator", "null-island", "bad-ref"],
)
def test_nonsense_gps_is_no_position(gps):
    assert read_gps(opened(jpeg(gps=gps or None))) is None


# --- processing -------------------------------------------------------------------------------


def test_processed_copies_carry_no_metadata(case, django_capture_on_commit_callbacks):
    photo = accept(case, jpeg(orientation=6, gps=GPS), django_capture_on_commit_callbacks)
    with photo_open_original(photo) as fh:
        original = fh.read()
    assert b"Exif" in original and b"PhoneMaker" in original  # the private original keeps it
    for field in ("full", "thumbnail"):
        image, raw = public_image(photo, field)
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert b"Exif" not in raw and b"GPS" not in raw and b"PhoneMaker" not in raw
        assert b"http://ns.adobe.com/xap" not in raw  # no XMP


def test_orientation_is_applied(case, django_capture_on_commit_callbacks):
    photo = accept(case, jpeg(size=(300, 200), orientation=6), django_capture_on_commit_callbacks)
    image, _ = public_image(photo)
    assert image.size == (200, 300)
    assert (photo.width, photo.height) == (200, 300)
    # Orientation 6 means "turn 90° clockwise to view": the red left half is now on top.
    red, green, blue = image.convert("RGB").getpixel((100, 40))
    assert red > 200 and blue < 60
    red, green, blue = image.convert("RGB").getpixel((100, 260))
    assert blue > 200 and red < 60
    assert public_image(photo, "thumbnail")[0].size == (200, 300)


def test_sizes_are_bounded(case, django_capture_on_commit_callbacks):
    photo = accept(case, jpeg(size=(4000, 3000)), django_capture_on_commit_callbacks)
    assert public_image(photo)[0].size == (2048, 1536)
    assert public_image(photo, "thumbnail")[0].size == (400, 300)
    assert (photo.width, photo.height) == (2048, 1536)


def test_corrupt_photo_fails_and_leaves_the_case_alone(
    case, dirs, django_capture_on_commit_callbacks
):
    media, _ = dirs
    noise = Image.effect_noise((600, 400), 80).convert("RGB")
    data = jpeg(image=noise)
    truncated = data[: len(data) // 2]
    before = Case.objects.values().get(pk=case.pk)

    photo = accept(case, truncated, django_capture_on_commit_callbacks)

    assert photo.status == PhotoStatus.FAILED
    assert photo.error and len(photo.error) <= 300
    assert not photo.full and not photo.thumbnail
    assert files_under(media) == []
    assert Case.objects.values().get(pk=case.pk) == before
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_processing_never_raises(case, dirs, django_capture_on_commit_callbacks):
    media, private = dirs
    photo = accept(case, jpeg(), django_capture_on_commit_callbacks)
    Photo.objects.filter(pk=photo.pk).update(status=PhotoStatus.PROCESSING)
    (private / photo.original.name).unlink()
    process_photo(photo.pk)
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.FAILED and photo.error == "The original file is missing."
    process_photo(123_456)  # a photo that no longer exists


def test_processing_is_idempotent(case, dirs, django_capture_on_commit_callbacks):
    media, _ = dirs
    photo = accept(case, jpeg(), django_capture_on_commit_callbacks)
    files = files_under(media)
    process_photo(photo.pk)
    process_photo(photo.pk)
    again = Photo.objects.get(pk=photo.pk)
    assert (again.full.name, again.thumbnail.name) == (photo.full.name, photo.thumbnail.name)
    assert files_under(media) == files


def test_a_failed_photo_can_be_tried_again(case, dirs, django_capture_on_commit_callbacks):
    media, private = dirs
    photo = accept(case, b"\xff\xd8\xff\xe0" + jpeg()[4:2000], django_capture_on_commit_callbacks)
    assert photo.status == PhotoStatus.FAILED
    (private / photo.original.name).write_bytes(jpeg())
    process_photo(photo.pk)
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.READY and photo.error == ""


def test_original_is_never_under_media_root(case, dirs, settings):
    media, _ = dirs
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media / "private"},
        },
    }
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        photo_accept(case=case, upload=upload(jpeg()))
    assert files_under(media) == []


# --- redaction --------------------------------------------------------------------------------


def is_black(pixel, tolerance=16) -> bool:
    return all(channel <= tolerance for channel in pixel[:3])


def test_redaction_blacks_out_the_box_and_keeps_the_original(
    case, dirs, django_capture_on_commit_callbacks
):
    media, private = dirs
    data = jpeg(size=(300, 200), orientation=6, gps=GPS)  # shown as 200×300
    photo = accept(case, data, django_capture_on_commit_callbacks)
    old_names = [photo.full.name, photo.thumbnail.name]
    staff = make_user("editor")

    with django_capture_on_commit_callbacks(execute=True):
        redacted = photo_redact(photo_id=photo.pk, boxes=[(0.0, 0.0, 0.5, 0.2)], actor=staff)

    redacted.refresh_from_db()
    assert redacted.is_redacted and redacted.status == PhotoStatus.READY
    full, raw = public_image(redacted)
    assert full.size == (200, 300)
    assert is_black(full.getpixel((50, 30))) and is_black(full.getpixel((95, 55)))
    assert not is_black(full.getpixel((150, 30)))  # right of the box
    assert not is_black(full.getpixel((50, 100)))  # below the box
    assert b"Exif" not in raw
    thumbnail, _ = public_image(redacted, "thumbnail")
    assert is_black(thumbnail.getpixel((50, 30)))
    # The original is kept as it was; the unredacted copies are gone.
    assert (private / redacted.original.name).read_bytes() == data
    assert all(not (media / name).exists() for name in old_names)
    assert len(files_under(media)) == 2
    event = CaseEvent.objects.get(case=case, kind=EventKind.INTERNAL_NOTE)
    assert event.actor == staff and event.data["redaction_boxes"] == [[0.0, 0.0, 0.5, 0.2]]


def test_redacting_again_starts_from_the_original(case, django_capture_on_commit_callbacks):
    photo = accept(case, jpeg(size=(300, 200)), django_capture_on_commit_callbacks)
    photo_redact(photo_id=photo.pk, boxes=[(0, 0, 0.2, 0.2)], actor=None)
    photo = photo_redact(photo_id=photo.pk, boxes=[(0.8, 0.8, 0.2, 0.2)], actor=None)
    full, _ = public_image(photo)
    assert not is_black(full.getpixel((10, 10)))
    assert is_black(full.getpixel((290, 190)))


@pytest.mark.parametrize(
    "boxes",
    [
        [],
        [(0.5, 0.5, 0.6, 0.1)],  # past the right edge
        [(-0.1, 0, 0.2, 0.2)],
        [(0, 0, 0, 0.2)],
        [(0, 0, 0.2)],
        [(0, 0, float("nan"), 0.2)],
        ["abcd"],
        [(0, 0, True, 0.2)],
        [(0.1, 0.1, 0.1, 0.1)] * 51,
    ],
    ids=["none", "outside", "negative", "empty", "three", "nan", "text", "bool", "too-many"],
)
def test_bad_boxes_are_refused_and_change_nothing(
    case, dirs, django_capture_on_commit_callbacks, boxes
):
    media, _ = dirs
    photo = accept(case, jpeg(), django_capture_on_commit_callbacks)
    files = files_under(media)
    with pytest.raises(ValidationError):
        photo_redact(photo_id=photo.pk, boxes=boxes, actor=None)
    photo.refresh_from_db()
    assert not photo.is_redacted and files_under(media) == files
    assert not CaseEvent.objects.filter(kind=EventKind.INTERNAL_NOTE).exists()


def test_module_keeps_originals_private_by_default(settings, tmp_path):
    """Without a "private" alias, originals still go to CETATEA_PRIVATE_MEDIA_ROOT."""
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "private"}
    settings.CETATEA_PRIVATE_MEDIA_ROOT = tmp_path / "originals"
    assert Path(photos.private_storage().location) == tmp_path / "originals"
