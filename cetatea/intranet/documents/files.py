"""The text the search reads from an uploaded document (PDF, DOCX, ODT, Markdown and
plain text), and the documents' size limit (``CETATEA_INTRANET_MAX_UPLOAD_BYTES``).

What is refused, and how a download is named and typed, is the shared policy for staff
uploads in ``cetatea.core.uploads``.
"""

from __future__ import annotations

import io
import logging
import zipfile
from typing import IO

from django.conf import settings

from cetatea.core.uploads import extension_of

logger = logging.getLogger(__name__)

_MB = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 25 * _MB
# Text kept for the search per document (characters of folded text); the rest of a very
# long document is not searchable.
MAX_TEXT_CHARS = 300_000
# A DOCX/ODT whose main XML part unpacks to more than this is not read (a zip bomb).
MAX_XML_BYTES = 64 * _MB

TEXT_EXTENSIONS = frozenset({"txt", "md", "markdown", "csv"})


def max_upload_bytes() -> int:
    return int(getattr(settings, "CETATEA_INTRANET_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


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
