"""The shared policy for staff uploads (cetatea.core.uploads)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cetatea.core import uploads

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def refusal(name: str, data: bytes, max_bytes: int = 1024) -> str:
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(SimpleUploadedFile(name, data), max_bytes=max_bytes)
    return exc.value.code


def test_a_program_renamed_to_pdf_is_refused_by_its_bytes():
    assert refusal("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60) == "forbidden_content"
    assert refusal("photo.jpg", b"\x7fELF\x02\x01") == "forbidden_content"


def test_web_pages_are_refused_by_name_and_by_content():
    assert refusal("page.html", b"<p>hi</p>") == "forbidden_type"
    assert refusal("readme.txt", b"\xef\xbb\xbf <!DOCTYPE html><script>x</script>") == (
        "forbidden_content"
    )


def test_a_pdf_is_accepted_and_served_as_a_pdf():
    file = SimpleUploadedFile("../../raport final.pdf", PDF)
    uploads.check_upload(file, max_bytes=1024)
    assert file.read() == PDF  # read from the start afterwards
    assert uploads.safe_name(file.name) == "raport final.pdf"
    assert uploads.content_type_for("raport final.PDF") == "application/pdf"
    assert uploads.content_type_for("page.html") == "application/octet-stream"


def test_empty_and_oversize_files_are_refused():
    assert refusal("big.pdf", PDF + b"0" * 1024) == "too_large"
    assert refusal("empty.pdf", b"") == "empty"
    uploads.check_upload(SimpleUploadedFile("fits.pdf", PDF), max_bytes=len(PDF))
