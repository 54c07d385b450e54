"""Documents fixtures: staff placed in departments, folders, and helpers for files."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cetatea.catalog.models import Department, StaffProfile
from cetatea.intranet.documents import services


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Messages are asserted in English (the lead keeps the Romanian translations)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def staff(catalog, personas):
    """Roads: ``staff`` and ``manager``; public relations: ``clerk`` and ``op``; a third
    department, urbanism, with ``crew``. ``citizen`` has no staff role at all."""
    urbanism = Department.objects.create(code="urb", name_ro="Urbanism", name_en="Urbanism")
    for name, department in [
        ("staff", catalog["roads"]),
        ("manager", catalog["roads"]),
        ("clerk", catalog["public"]),
        ("operator", catalog["public"]),
        ("crew", urbanism),
    ]:
        StaffProfile.objects.create(user=personas[name], department=department)
        personas[name].email = f"{personas[name].username}@primarie.test"
        personas[name].save(update_fields=["email"])
    return {**personas, "roads": catalog["roads"], "public": catalog["public"], "urb": urbanism}


@pytest.fixture
def roads_folder(staff):
    return services.folder_create(actor=staff["manager"], name="Drumuri — contracte")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def pdf_bytes(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    y = 800
    for line in text.splitlines():
        pdf.drawString(50, y, line)
        y -= 16
    pdf.save()
    return buffer.getvalue()


def docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def odt_bytes(text: str) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for line in text.splitlines():
        document.text.addElement(P(text=line))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()
