"""What a task attachment may be: checked by size and by content, never by its name alone.

A small validator of this app's own (the documents app has its own rules): the type is
read from the first bytes, and the name's extension must agree with it, so a renamed
program or an HTML page calling itself ``.pdf`` is refused. Files are always served as
downloads with ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_FILES_PER_TASK = 30


def max_bytes() -> int:
    return int(getattr(settings, "CETATEA_TASK_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


# Magic bytes -> the extensions that may carry them, each with its content type.
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BY_MAGIC: tuple[tuple[bytes, dict[str, str]], ...] = (
    (b"%PDF-", {"pdf": "application/pdf"}),
    (b"\xff\xd8\xff", {"jpg": "image/jpeg", "jpeg": "image/jpeg"}),
    (b"\x89PNG\r\n\x1a\n", {"png": "image/png"}),
    (b"GIF87a", {"gif": "image/gif"}),
    (b"GIF89a", {"gif": "image/gif"}),
    (
        _ZIP,
        {
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "odt": "application/vnd.oasis.opendocument.text",
            "ods": "application/vnd.oasis.opendocument.spreadsheet",
            "odp": "application/vnd.oasis.opendocument.presentation",
            "zip": "application/zip",
        },
    ),
    (
        _OLE,
        {"doc": "application/msword", "xls": "application/vnd.ms-excel"},
    ),
)
# Plain text is recognised by decoding, and only under these names.
_TEXT = {"txt": "text/plain", "csv": "text/csv", "md": "text/markdown"}


def _refuse(name: str) -> ValidationError:
    return ValidationError(
        _(
            "The file “%(name)s” is not of an allowed type (PDF, image, office document, "
            "ZIP or plain text)."
        )
        % {"name": name},
        code="file_type",
    )


def attachment_kind(file) -> Kind:
    """The content type and extension of an upload, or ``ValidationError``: empty, over
    the size limit, or not one of the allowed types (checked by content)."""
    name = Path(getattr(file, "name", "") or "").name or _("file")
    size = getattr(file, "size", None) or 0
    if size <= 0:
        raise ValidationError(_("The file “%(name)s” is empty.") % {"name": name}, code="empty")
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            _("The file “%(name)s” is larger than %(mb)s MB.")
            % {"name": name, "mb": f"{limit / (1024 * 1024):g}"},
            code="too_large",
        )
    extension = Path(name).suffix.lower().lstrip(".")
    file.seek(0)
    head = file.read(4096) or b""
    file.seek(0)
    for magic, allowed in _BY_MAGIC:
        if head.startswith(magic):
            if extension in allowed:
                return Kind(allowed[extension], extension)
            raise _refuse(name)
    if extension in _TEXT and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at 4096 bytes is still text.
            if exc.start < len(head) - 4:
                raise _refuse(name) from None
        return Kind(_TEXT[extension], extension)
    raise _refuse(name)
