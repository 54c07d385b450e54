"""Uploaded files: what is refused, what type a download is served as, and the text the
search reads (PDF, DOCX, ODT, Markdown and plain text).

Refused (``check_upload``), with a clear message and nothing written:

* an empty file, or one over ``CETATEA_INTRANET_MAX_UPLOAD_BYTES`` (25 MB);
* programs and scripts by the name's extension (``FORBIDDEN_EXTENSIONS``: Windows and
  Unix executables, installers, scripts, shortcuts, Office files with macros, and web
  pages and SVG images, which run script when a browser opens them);
* the same by content, whatever the name (``_FORBIDDEN_MAGIC``): a Windows (MZ), Linux
  (ELF) or macOS (Mach-O) program, a Java class, a ``#!`` script, and an HTML, SVG or
  PHP document.

Every download is an attachment (``Content-Disposition: attachment``) with
``X-Content-Type-Options: nosniff`` and a content type taken from ``SAFE_TYPES`` by
extension, else ``application/octet-stream``: a browser never renders a stored file.
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

_MB = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 25 * _MB
# Text kept for the search per document (characters of folded text); the rest of a very
# long document is not searchable.
MAX_TEXT_CHARS = 300_000
# A DOCX/ODT whose main XML part unpacks to more than this is not read (a zip bomb).
MAX_XML_BYTES = 64 * _MB

FORBIDDEN_EXTENSIONS = frozenset(
    {
        # Windows programs, libraries, installers, shortcuts, scripts
        "exe", "dll", "com", "scr", "pif", "cpl", "msi", "msp", "mst", "msc", "sys", "drv",
        "bat", "cmd", "ps1", "psm1", "psd1", "vb", "vbs", "vbe", "js", "jse", "mjs", "wsf",
        "wsh", "wsc", "hta", "lnk", "url", "reg", "inf", "scf", "gadget", "appx", "msix",
        # Unix and cross-platform programs and scripts
        "sh", "bash", "zsh", "csh", "ksh", "run", "bin", "elf", "so", "dylib", "app",
        "command", "deb", "rpm", "apk", "jar", "class", "py", "pyc", "pl", "rb", "php",
        "phtml", "cgi", "dmg",
        # Office files with macros
        "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "sldm",
        # Pages and images that run script when opened in a browser
        "html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xht",
    }
)  # fmt: skip
_FORBIDDEN_MAGIC = (
    b"MZ",  # Windows PE / DOS
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java class
    b"#!",
)
_FORBIDDEN_MARKUP = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?php", b"<hta:")

SAFE_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "rtf": "application/rtf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "zip": "application/zip",
}
TEXT_EXTENSIONS = frozenset({"txt", "md", "markdown", "csv"})


def max_upload_bytes() -> int:
    return int(getattr(settings, "CETATEA_INTRANET_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def extension_of(name: str) -> str:
    return Path(name or "").suffix.lower().lstrip(".")


def safe_name(name: str) -> str:
    """The file's own name, without any directory, at most 200 characters."""
    base = Path((name or "").replace("\\", "/")).name.strip() or "file"
    stem, dot, ext = base.rpartition(".")
    if len(base) > 200:
        base = (stem[: 199 - len(ext)] + dot + ext) if dot else base[:200]
    return base


def content_type_for(name: str) -> str:
    return SAFE_TYPES.get(extension_of(name), "application/octet-stream")


def check_upload(file) -> None:
    """Refuse an empty, too large or forbidden file (``ValidationError``; nothing read
    beyond the first kilobyte)."""
    name = safe_name(getattr(file, "name", ""))
    size = getattr(file, "size", None) or 0
    if size <= 0:
        raise ValidationError(_("The file “%(name)s” is empty.") % {"name": name}, code="empty")
    limit = max_upload_bytes()
    if size > limit:
        raise ValidationError(
            _("The file “%(name)s” is larger than %(limit)s, the limit. Nothing was saved.")
            % {"name": name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    extension = extension_of(name)
    if extension in FORBIDDEN_EXTENSIONS:
        raise ValidationError(
            _(
                "Files of type .%(ext)s (programs, scripts, web pages) cannot be stored. "
                "Nothing was saved."
            )
            % {"ext": extension},
            code="forbidden_type",
        )
    file.seek(0)
    head = file.read(1024) or b""
    file.seek(0)
    markup = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_FORBIDDEN_MAGIC) or (
        markup.startswith(b"<") and any(tag in markup for tag in _FORBIDDEN_MARKUP)
    ):
        raise ValidationError(
            _(
                "The file “%(name)s” is a program, a script or a web page, whatever its name "
                "says; it cannot be stored. Nothing was saved."
            )
            % {"name": name},
            code="forbidden_content",
        )


# --- text for the search ---------------------------------------------------------------------


def extract_text(handle: IO[bytes], name: str, *, limit: int = MAX_TEXT_CHARS) -> str:
    """The text of a PDF, DOCX, ODT, Markdown or plain text file, at most ``limit``
    characters; "" for other types or a file that cannot be read."""
    extension = extension_of(name)
    try:
        if extension == "pdf":
            return _pdf_text(handle, limit)
        if extension == "docx":
            return _docx_text(handle, limit)
        if extension == "odt":
            return _odt_text(handle, limit)
        if extension in TEXT_EXTENSIONS:
            return handle.read(limit * 4).decode("utf-8", errors="replace")[:limit]
    except Exception:  # a damaged or hostile file: no text, never a failed upload
        logger.warning("no text extracted from %s", name, exc_info=True)
    return ""


def _pdf_text(handle: IO[bytes], limit: int) -> str:
    from pypdf import PdfReader

    parts: list[str] = []
    size = 0
    for page in PdfReader(handle).pages:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= limit:
            break
    return "\n".join(parts)[:limit]


def _zip_part_small_enough(handle: IO[bytes], member: str) -> bool:
    with zipfile.ZipFile(handle) as archive:
        info = archive.getinfo(member)
    handle.seek(0)
    return info.file_size <= MAX_XML_BYTES


def _docx_text(handle: IO[bytes], limit: int) -> str:
    import docx

    data = io.BytesIO(handle.read())
    if not _zip_part_small_enough(data, "word/document.xml"):
        return ""
    document = docx.Document(data)
    parts: list[str] = []
    size = 0
    for paragraph in document.paragraphs:
        parts.append(paragraph.text)
        size += len(paragraph.text)
        if size >= limit:
            return "\n".join(parts)[:limit]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
                size += len(cell.text)
            if size >= limit:
                return "\n".join(parts)[:limit]
    return "\n".join(parts)[:limit]


def _odt_text(handle: IO[bytes], limit: int) -> str:
    from odf import teletype, text
    from odf.opendocument import load

    data = io.BytesIO(handle.read())
    if not _zip_part_small_enough(data, "content.xml"):
        return ""
    document = load(data)
    parts: list[str] = []
    size = 0
    for kind in (text.H, text.P):
        for element in document.getElementsByType(kind):
            value = teletype.extractText(element)
            parts.append(value)
            size += len(value)
            if size >= limit:
                return "\n".join(parts)[:limit]
    return "\n".join(parts)[:limit]
