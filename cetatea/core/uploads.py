"""The one policy for files staff upload (intranet documents, task attachments, message
files): what is refused, and how a stored file is named and typed when it is served.

Refused (``check_upload``), with a clear message and nothing written:

* an empty file, or one over the limit the caller passes (each app has its setting);
* programs and scripts by the name's extension (``FORBIDDEN_EXTENSIONS``: Windows and
  Unix executables, installers, scripts, shortcuts, Office files with macros, and web
  pages and SVG images, which run script when a browser opens them);
* the same by content, whatever the name (``_FORBIDDEN_MAGIC``, ``_FORBIDDEN_MARKUP``):
  a Windows (MZ), Linux (ELF) or macOS (Mach-O) program, a Java class, a ``#!`` script,
  and an HTML, SVG or PHP document.

Every download is an attachment (``Content-Disposition: attachment``) with
``X-Content-Type-Options: nosniff`` and a content type taken from ``SAFE_TYPES`` by
extension (``content_type_for``), else ``application/octet-stream``: a browser never
renders a stored file.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

FORBIDDEN_EXTENSIONS = frozenset(
    {
        # Windows programs, libraries, installers, shortcuts, scripts
        "exe", "dll", "com", "scr", "pif", "cpl", "msi", "msp", "mst", "msc", "sys", "drv",
        "bat", "cmd", "ps1", "psm1", "psd1", "vb", "vbs", "vbe", "js", "jse", "mjs", "wsf",
        "wsh", "wsc", "hta", "lnk", "url", "reg", "inf", "scf", "gadget", "appx", "msix",
        "iso",
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


def extension_of(name: str) -> str:
    return Path(name or "").suffix.lower().lstrip(".")


def storage_extension(name: str) -> str:
    """The extension a stored file's random name gets: the name's own if it is short and
    plain (letters and digits), else ``bin``."""
    extension = extension_of(name)
    return extension if extension.isalnum() and len(extension) <= 10 else "bin"


def safe_name(name: str) -> str:
    """The file's own name, without any directory, at most 200 characters."""
    base = Path((name or "").replace("\\", "/")).name.strip() or "file"
    stem, dot, ext = base.rpartition(".")
    if len(base) > 200:
        base = (stem[: 199 - len(ext)] + dot + ext) if dot else base[:200]
    return base


def content_type_for(name: str) -> str:
    return SAFE_TYPES.get(extension_of(name), "application/octet-stream")


def check_upload(file, *, max_bytes: int) -> None:
    """Refuse an empty, too large (over ``max_bytes``) or forbidden file
    (``ValidationError``; nothing read beyond the first kilobyte)."""
    name = safe_name(getattr(file, "name", ""))
    size = getattr(file, "size", None) or 0
    if size <= 0:
        raise ValidationError(_("The file “%(name)s” is empty.") % {"name": name}, code="empty")
    if size > max_bytes:
        raise ValidationError(
            _("The file “%(name)s” is larger than %(limit)s, the limit. Nothing was saved.")
            % {"name": name, "limit": filesizeformat(max_bytes)},
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
