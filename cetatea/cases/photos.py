"""Photos of cases: accepted in the request, processed in the background.

The flow (FixMyStreet's, with HEIC and a private original):

1. ``photo_check(upload)`` — checks an upload without writing anything: the size, the
   type read from the content (magic bytes; the name and the client's content type are
   ignored), that Pillow can identify it, and the pixel count read from the header (a
   decompression bomb is refused before any pixel is decoded).
2. ``photo_accept(case=..., upload=...)`` — the same checks plus the per-case limit,
   then stores the original, creates the ``Photo`` (status PROCESSING) with the GPS
   position read from its EXIF, and enqueues ``process_photo_task`` (in the same
   transaction with the database queue, else after the commit). A refused upload
   raises ``ValidationError`` and leaves no row and no file.
3. ``process_photo(photo_id)`` — in a worker: fixes the orientation, converts to sRGB,
   copies the pixels into a new image (so no EXIF, XMP, GPS, maker notes or comments
   survive), writes ``full`` (longest side 2048 px) and ``thumbnail`` (400 px) as JPEG
   under random names, and marks the photo READY — or FAILED with a short ``error``.
4. ``photo_redact(photo_id=..., boxes=...)`` — staff hide faces or number plates: the
   copies are rebuilt from the original with black boxes; the original is kept.

Where the files live
--------------------
Originals keep everything the phone wrote (GPS, camera serial, faces before redaction),
so they go to a *private* storage that is never served: ``storages["private"]`` when
``settings.STORAGES`` has that alias (the default settings point it at
``CETATEA_PRIVATE_MEDIA_ROOT``), else a ``FileSystemStorage`` on that directory. The
processed copies go to the default storage, under ``MEDIA_URL``.

``Photo.original`` is declared as a ``FileField`` on the default storage; rather than
change the model, this module writes originals with ``private_storage().save(...)`` and
keeps the returned name in ``photo.original.name``. So never use ``photo.original.url``,
``.open()``, ``.path`` or ``.delete()``: they would look in the default storage. Open an
original with ``photo_open_original(photo)`` (that is,
``private_storage().open(photo.original.name)``). Private names start with
``originals/``, a prefix nothing public uses, so even a wrong ``.url`` finds nothing.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import pillow_heif
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageOps

from cetatea.cases.choices import EventKind, PhotoStatus
from cetatea.cases.models import Case, CaseEvent, Photo, photo_path

pillow_heif.register_heif_opener()

logger = logging.getLogger(__name__)

FULL_SIDE = 2048
THUMBNAIL_SIDE = 400
JPEG_QUALITY = 85
MAX_REDACTION_BOXES = 50
_MB = 1024 * 1024

# Detected type -> (extension of the stored original, Pillow formats allowed to open it).
# Pillow opens a JPEG with a multi-picture index as "MPO" through its JPEG plugin.
_TYPES: dict[str, tuple[str, list[str]]] = {
    "jpeg": ("jpg", ["JPEG"]),
    "png": ("png", ["PNG"]),
    "webp": ("webp", ["WEBP"]),
    "heic": ("heic", ["HEIF"]),
}
_ALL_FORMATS = ["JPEG", "PNG", "WEBP", "HEIF"]
# ISO-BMFF brands of HEIF images coded with HEVC. "mif1"/"msf1" are generic HEIF
# brands: accepted as a major brand (Apple and Samsung use them), and whatever cannot be
# decoded (an AVIF, say) is refused when Pillow tries to identify it.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class _Inspected:
    kind: str
    width: int
    height: int
    gps: tuple[float, float] | None


class _Unprocessable(Exception):
    """A stored original that cannot become a photo; the message is for staff."""


# --- storage ---------------------------------------------------------------------------------


def private_storage() -> Storage:
    """The storage of originals: never served, never under ``MEDIA_ROOT``."""
    if "private" in settings.STORAGES:
        return storages["private"]
    return FileSystemStorage(
        location=settings.CETATEA_PRIVATE_MEDIA_ROOT,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


def _public_storage() -> Storage:
    return Photo._meta.get_field("full").storage


def _check_private_location(storage: Storage) -> None:
    """Refuse to write originals where the web server would publish them."""
    location = getattr(storage, "location", None)
    if not location or not settings.MEDIA_ROOT:
        return
    private = Path(location).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    if private == media or private.is_relative_to(media):
        raise ImproperlyConfigured(
            "The private storage of photo originals is inside MEDIA_ROOT; "
            "set CETATEA_PRIVATE_MEDIA_ROOT outside it."
        )


def photo_open_original(photo: Photo) -> File:
    """Open a photo's original (binary) from the private storage; the caller closes it."""
    return private_storage().open(photo.original.name, "rb")


def _delete_quietly(storage: Storage, names: Sequence[str]) -> None:
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Could not delete %s", name, exc_info=True)


# --- checks done in the request -----------------------------------------------------------------


def _display_name(fileobj: object) -> str:
    return os.path.basename(str(getattr(fileobj, "name", "") or "")) or _("photo")


def _not_a_photo(name: str) -> ValidationError:
    return ValidationError(
        _("The file “%(name)s” is not a photo (JPEG, PNG, WebP or HEIC).") % {"name": name},
        code="not_a_photo",
    )


def _decimal(value: float) -> str:
    """15 → "15", 2.5 → "2.5" (or "2,5" in Romanian)."""
    value = round(value, 1)
    return number_format(int(value) if value == int(value) else value)


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("The photo “%(name)s” has too many pixels (at most %(limit)s megapixels).")
        % {"name": name, "limit": _decimal(settings.CETATEA_PHOTO_MAX_PIXELS / 1_000_000)},
        code="too_many_pixels",
    )


def detect_image_type(fileobj: IO[bytes] | File) -> str:
    """The photo type read from the content's first bytes: jpeg, png, webp or heic.

    The file's name and the client's content type are not trusted. Anything else (a PDF
    renamed .jpg, text, an executable, an empty file) raises ``ValidationError``.
    Reads from the start of the file and rewinds it.
    """
    fileobj.seek(0)
    head = fileobj.read(64) or b""
    fileobj.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        box_size = min(int.from_bytes(head[:4], "big"), len(head))
        major = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, box_size - 3, 4)}
        if major in _HEIC_BRANDS or major in _HEIF_GENERIC_BRANDS:
            return "heic"
        if major not in {b"avif", b"avis"} and compatible & _HEIC_BRANDS:
            return "heic"
    raise _not_a_photo(_display_name(fileobj))


def _file_size(upload: IO[bytes] | File) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, os.SEEK_END)
        size = upload.tell()
        upload.seek(0)
    return int(size)


def _inspect(upload: IO[bytes] | File) -> _Inspected:
    """Every check of an upload that needs no database; reads headers only."""
    name = _display_name(upload)
    max_bytes = settings.CETATEA_PHOTO_MAX_BYTES
    if _file_size(upload) > max_bytes:
        raise ValidationError(
            _("The file “%(name)s” is larger than %(limit)s MB.")
            % {"name": name, "limit": _decimal(max_bytes / _MB)},
            code="too_big",
        )
    kind = detect_image_type(upload)
    try:
        with warnings.catch_warnings():
            # The pixel limit below is ours; Pillow's own bomb *error* is still raised.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload, formats=_TYPES[kind][1]) as image:
                width, height = image.size
                if width * height > settings.CETATEA_PHOTO_MAX_PIXELS:
                    raise _too_many_pixels(name)
                gps = read_gps(image)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(name) from exc
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises many kinds of errors on hostile input
        logger.info("Refused photo %r: %s", name, exc)
        raise ValidationError(
            _("The photo “%(name)s” is damaged and cannot be read.") % {"name": name},
            code="unreadable",
        ) from exc
    finally:
        upload.seek(0)
    if width < 1 or height < 1:
        raise _not_a_photo(name)
    return _Inspected(kind=kind, width=width, height=height, gps=gps)


def photo_check(upload: IO[bytes] | File) -> str:
    """Check an upload the way ``photo_accept`` will, writing nothing; returns its type.

    For forms that validate every field before filing anything.
    """
    return _inspect(upload).kind


# --- GPS ----------------------------------------------------------------------------------------


def _number(value) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # an old-style (numerator, denominator)
        return value[0] / value[1] if value[1] else math.nan
    return float(value)


def _coordinate(value, ref, positive: str, negative: str, limit: float) -> float | None:
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = str(ref or "").strip("\x00 ").upper()
    if ref not in (positive, negative) or value is None:
        return None
    parts = [_number(v) for v in value] if isinstance(value, (tuple, list)) else [_number(value)]
    if not 1 <= len(parts) <= 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees, minutes, seconds = (parts + [0.0, 0.0])[:3]
    if minutes > 60 or seconds > 60:
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    if decimal > limit:
        return None
    return -decimal if ref == negative else decimal


def read_gps(image: Image.Image) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees from the photo's EXIF GPS block.

    None when the photo has no position or a nonsensical one (missing hemisphere, zero
    denominators, degrees out of range, the 0,0 a broken receiver writes). Never decodes
    the pixels (a PNG whose EXIF comes after the image data is treated as having none).
    """
    try:
        if image.format == "PNG" and "exif" not in image.info:
            return None
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        if not gps:
            return None
        latitude = _coordinate(
            gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90
        )
        longitude = _coordinate(
            gps.get(ExifTags.GPS.GPSLongitude),
            gps.get(ExifTags.GPS.GPSLongitudeRef),
            "E",
            "W",
            180,
        )
    except Exception:  # EXIF is written by thousands of firmwares; a bad one is no position
        logger.debug("Unreadable EXIF GPS block", exc_info=True)
        return None
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None
    return round(latitude, 7), round(longitude, 7)


# --- accepting an upload --------------------------------------------------------------------------


def _count_error() -> ValidationError:
    limit = settings.CETATEA_PHOTOS_PER_CASE
    return ValidationError(
        _("A case can have at most %(n)d photos.") % {"n": limit}, code="too_many_photos"
    )


def _queue_is_this_database() -> bool:
    from django_tasks_db import DatabaseBackend

    from cetatea.cases.tasks import process_photo_task

    return isinstance(process_photo_task.get_backend(), DatabaseBackend)


def _enqueue_processing(photo_id: int) -> None:
    from cetatea.cases.tasks import process_photo_task

    process_photo_task.enqueue(photo_id)


def photo_accept(
    *,
    case: Case,
    upload: File,
    actor: AbstractBaseUser | None = None,
    sort_order: int = 0,
) -> Photo:
    """Store an uploaded photo of ``case`` and schedule its processing.

    Checks the size, the type (from the content), the per-case limit, that Pillow can
    identify it and its pixel count (headers only). Then saves the original to the
    private storage, creates the ``Photo`` (PROCESSING) with the GPS position from its
    EXIF, and enqueues ``process_photo_task`` in the same transaction (the database
    queue) or when it commits (another backend). Any problem raises ``ValidationError``
    (``OSError`` when the disk is full) and leaves no row and no file. (Should an
    *enclosing* transaction roll back later, the stored original is left over in the
    private storage, unreferenced; ``photo_files_delete`` removes it.)
    """
    inspected = _inspect(upload)
    if Photo.objects.filter(case_id=case.pk).count() >= settings.CETATEA_PHOTOS_PER_CASE:
        raise _count_error()
    storage = private_storage()
    _check_private_location(storage)
    extension = _TYPES[inspected.kind][0]
    client_name = _display_name(upload)[:200]
    uploaded_by = actor if actor is not None and actor.is_authenticated else None
    saved_name = ""
    try:
        with transaction.atomic():
            # Lock the case so that concurrent uploads cannot pass the limit together.
            Case.objects.select_for_update().only("pk").get(pk=case.pk)
            if Photo.objects.filter(case_id=case.pk).count() >= settings.CETATEA_PHOTOS_PER_CASE:
                raise _count_error()
            upload.seek(0)
            saved_name = storage.save(
                f"originals/{case.year}/{case.reference}/{uuid.uuid4().hex}.{extension}", upload
            )
            latitude, longitude = inspected.gps or (None, None)
            photo = Photo.objects.create(
                case=case,
                original=saved_name,
                status=PhotoStatus.PROCESSING,
                original_name=client_name,
                gps_latitude=latitude,
                gps_longitude=longitude,
                sort_order=sort_order,
                uploaded_by=uploaded_by,
            )
            if _queue_is_this_database():
                # The task's row is written in this transaction: the photo and its
                # processing commit together, so a database lost between the commit and
                # an after-commit enqueue cannot leave a photo PROCESSING with no task.
                _enqueue_processing(photo.pk)
            else:
                transaction.on_commit(partial(_enqueue_processing, photo.pk), robust=True)
    except BaseException:
        if saved_name:
            _delete_quietly(storage, [saved_name])
        raise
    return photo


def photo_files_delete(photos: Sequence[Photo]) -> None:
    """Remove the stored files of photos whose rows were rolled back (a report refused
    as a whole after some of its photos were stored)."""
    _delete_quietly(private_storage(), [photo.original.name for photo in photos])
    _delete_quietly(
        _public_storage(), [name for p in photos for name in (p.full.name, p.thumbnail.name)]
    )


# --- processing ----------------------------------------------------------------------------------


def _to_srgb(image: Image.Image) -> Image.Image:
    """An RGB image in sRGB: transparency flattened on white, the ICC profile applied."""
    icc = image.info.get("icc_profile")
    if image.mode.startswith("I") or image.mode == "F":  # 16-bit and float greyscale
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            logger.info("Ignoring an unusable ICC profile", exc_info=True)
    return image.convert("RGB")


def _boxes_in_pixels(
    boxes: Sequence[tuple[float, float, float, float]], size: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Fractional boxes to pixel rectangles, rounded outwards so nothing peeks out."""
    width, height = size
    rectangles = []
    for x, y, w, h in boxes:
        left = max(0, math.floor(x * width))
        top = max(0, math.floor(y * height))
        right = min(width, math.ceil((x + w) * width))
        bottom = min(height, math.ceil((y + h) * height))
        if right > left and bottom > top:
            rectangles.append((left, top, right - 1, bottom - 1))
    return rectangles


def _black_out(image: Image.Image, boxes: Sequence[tuple[float, float, float, float]]) -> None:
    draw = ImageDraw.Draw(image)
    for rectangle in _boxes_in_pixels(boxes, image.size):
        draw.rectangle(rectangle, fill=(0, 0, 0))


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class _Rendered:
    full: bytes
    thumbnail: bytes
    width: int
    height: int


def _render(
    original_name: str, boxes: Sequence[tuple[float, float, float, float]] = ()
) -> _Rendered:
    """The public copies of an original: oriented, sRGB, metadata-free, resized."""
    with private_storage().open(original_name, "rb") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(fh, formats=_ALL_FORMATS) as source:
            width, height = source.size
            if width * height > settings.CETATEA_PHOTO_MAX_PIXELS:
                raise _Unprocessable(
                    _("The photo has too many pixels (%(n)s megapixels).")
                    % {"n": _decimal(width * height / 1_000_000)}
                )
            # A big JPEG is decoded at 1/2, 1/4 or 1/8 scale when that still covers the
            # full size: much less memory and time on the worker.
            source.draft("RGB", (FULL_SIDE, FULL_SIDE))
            oriented = ImageOps.exif_transpose(source)
    rgb = _to_srgb(oriented)
    # A new image holds only pixels: no EXIF, XMP, GPS, ICC, comments or thumbnails.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    del oriented, rgb
    if boxes:
        # Before resizing, so no hidden pixel is blended into the copies...
        _black_out(clean, boxes)
    clean.thumbnail((FULL_SIDE, FULL_SIDE), Image.Resampling.LANCZOS)
    thumbnail = clean.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if boxes:
        # ...and after, so the boxes stay solid black despite the resampling.
        _black_out(clean, boxes)
        _black_out(thumbnail, boxes)
    return _Rendered(
        full=_jpeg(clean), thumbnail=_jpeg(thumbnail), width=clean.width, height=clean.height
    )


def _store(photo: Photo, rendered: _Rendered, token: str = "") -> tuple[str, str]:
    """Write the copies under ``token`` or fresh random names (never the citizen's file
    name)."""
    storage = _public_storage()
    token = token or uuid.uuid4().hex
    full = storage.save(photo_path(photo, f"{token}.jpg"), ContentFile(rendered.full))
    try:
        thumbnail = storage.save(
            photo_path(photo, f"{token}-thumb.jpg"), ContentFile(rendered.thumbnail)
        )
    except BaseException:
        _delete_quietly(storage, [full])
        raise
    return full, thumbnail


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, _Unprocessable):
        message = str(exc)
    elif isinstance(exc, FileNotFoundError):
        message = _("The original file is missing.")
    else:
        detail = str(exc) or type(exc).__name__
        message = _("The photo could not be read: %(detail)s") % {"detail": detail}
    return message[:300]


def process_photo(photo_id: int) -> None:
    """Make the public copies of a photo; marks it READY, or FAILED with a short error.

    Never raises (a broken photo must not break the worker or touch its case) and is
    idempotent: a READY photo is left alone. A FAILED one is tried again.
    """
    try:
        _process_photo(photo_id)
    except Exception:
        logger.exception("Processing photo %s failed", photo_id)


def _process_photo(photo_id: int) -> None:
    photo = Photo.objects.select_related("case").filter(pk=photo_id).first()
    if photo is None:
        logger.warning("Photo %s no longer exists", photo_id)
        return
    if photo.status == PhotoStatus.READY:
        return
    try:
        rendered = _render(photo.original.name)
        # The same names on every run: a run killed after writing the copies (its worker
        # SIGKILLed, then the task requeued) leaves files that this run replaces, never
        # orphans. The token comes from the original's random name, so it is unguessable.
        token = hashlib.sha256(photo.original.name.encode()).hexdigest()[:32]
        _delete_quietly(
            _public_storage(),
            [photo_path(photo, f"{token}.jpg"), photo_path(photo, f"{token}-thumb.jpg")],
        )
        full, thumbnail = _store(photo, rendered, token)
    except Exception as exc:
        logger.warning("Photo %s could not be processed: %s", photo_id, exc, exc_info=True)
        Photo.objects.filter(pk=photo_id).exclude(status=PhotoStatus.READY).update(
            status=PhotoStatus.FAILED, error=_failure_message(exc)
        )
        return
    stale = [photo.full.name, photo.thumbnail.name]
    # A conditional update, so that a second worker (or a redaction) that finished first
    # wins and our copies are removed instead of replacing theirs.
    updated = (
        Photo.objects.filter(pk=photo_id)
        .exclude(status=PhotoStatus.READY)
        .update(
            full=full,
            thumbnail=thumbnail,
            width=rendered.width,
            height=rendered.height,
            status=PhotoStatus.READY,
            error="",
        )
    )
    if updated:
        stale = [name for name in stale if name not in (full, thumbnail)]
    else:  # another run finished first: remove our copies unless they are its
        row = Photo.objects.filter(pk=photo_id).values_list("full", "thumbnail").first()
        stale = [name for name in (full, thumbnail) if name not in set(row or ())]
    _delete_quietly(_public_storage(), stale)


# --- redaction -----------------------------------------------------------------------------------


def _clean_boxes(boxes: Sequence) -> list[tuple[float, float, float, float]]:
    if not boxes:
        raise ValidationError(_("Mark at least one area to hide."), code="no_boxes")
    if len(boxes) > MAX_REDACTION_BOXES:
        raise ValidationError(
            _("At most %(n)d areas can be hidden at once.") % {"n": MAX_REDACTION_BOXES},
            code="too_many_boxes",
        )
    cleaned = []
    for box in boxes:
        try:
            if isinstance(box, (str, bytes)) or any(isinstance(v, bool) for v in box):
                raise TypeError
            x, y, w, h = (float(v) for v in box)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _("An area to hide is four numbers: left, top, width and height."),
                code="invalid_box",
            ) from exc
        epsilon = 1e-6
        if not (
            all(math.isfinite(v) for v in (x, y, w, h))
            and 0 <= x < 1
            and 0 <= y < 1
            and w > 0
            and h > 0
            and x + w <= 1 + epsilon
            and y + h <= 1 + epsilon
        ):
            raise ValidationError(
                _("An area to hide must lie within the photo (fractions from 0 to 1)."),
                code="invalid_box",
            )
        cleaned.append((x, y, min(w, 1 - x), min(h, 1 - y)))
    return cleaned


def photo_redact(
    *,
    photo_id: int,
    boxes: Sequence[tuple[float, float, float, float]],
    actor: AbstractBaseUser | None,
) -> Photo:
    """Hide areas of a photo (faces, number plates) behind black boxes.

    ``boxes`` are (x, y, width, height) as fractions 0–1 of the photo as it is shown
    (orientation applied). They are the complete set: the public copies are rebuilt from
    the original with these boxes only, so a second redaction replaces the first. The
    original is kept; the previous public copies are deleted after the commit (their
    names change, so no cache keeps serving the unredacted picture). An internal note on
    the case records who redacted what.
    """
    cleaned = _clean_boxes(boxes)
    photo = Photo.objects.select_related("case").filter(pk=photo_id).first()
    if photo is None:
        raise ValidationError(_("This photo does not exist."), code="not_found")
    try:
        rendered = _render(photo.original.name, cleaned)
    except Exception as exc:
        logger.warning("Photo %s could not be redacted: %s", photo_id, exc, exc_info=True)
        raise ValidationError(_failure_message(exc), code="unreadable") from exc
    storage = _public_storage()
    full, thumbnail = _store(photo, rendered)
    try:
        with transaction.atomic():
            photo = Photo.objects.select_for_update().select_related("case").get(pk=photo_id)
            stale = [photo.full.name, photo.thumbnail.name]
            photo.full = full
            photo.thumbnail = thumbnail
            photo.width = rendered.width
            photo.height = rendered.height
            photo.status = PhotoStatus.READY
            photo.error = ""
            photo.is_redacted = True
            photo.save(
                update_fields=[
                    "full",
                    "thumbnail",
                    "width",
                    "height",
                    "status",
                    "error",
                    "is_redacted",
                ]
            )
            CaseEvent.objects.create(
                case_id=photo.case_id,
                kind=EventKind.INTERNAL_NOTE,
                actor=actor if actor is not None and actor.is_authenticated else None,
                text=_("Photo “%(name)s” redacted.") % {"name": str(photo)},
                data={
                    "photo": photo.pk,
                    "redaction_boxes": [[round(v, 6) for v in box] for box in cleaned],
                },
            )
            transaction.on_commit(partial(_delete_quietly, storage, stale), robust=True)
    except BaseException:
        _delete_quietly(storage, [full, thumbnail])
        raise
    return photo
