"""Demo data of the documents app: the roads department's folder with a Markdown
procedure in two versions (a diff to look at), a PDF specification (searchable once the
worker has read it), a comment mentioning a colleague, and a link to one of the
department's open cases; and a shared folder of regulations when someone may create one.

``seed_documents_demo(users)`` is called by ``manage.py seed_demo`` with its staff
accounts by username ("staff", "crew", "manager", "admin", ...); accounts missing from
``users`` are left out. Everything is written through ``services``, once: the
department folder's name is the marker.
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from cetatea.intranet.documents import selectors, services
from cetatea.intranet.documents.choices import Level
from cetatea.intranet.documents.models import Folder
from cetatea.intranet.selectors import department_id_of

FOLDER_NAME = "Drumuri — proceduri și caiete de sarcini"
SHARED_NAME = "Regulamente și proceduri comune"

PROCEDURE_V1 = """# Procedura de intervenție pentru gropi

1. Sesizarea se verifică pe teren în cel mult **2 zile lucrătoare**.
2. Echipa fotografiază groapa și notează dimensiunile.
3. Plombarea se programează în campania săptămânală.
"""

PROCEDURE_V2 = """# Procedura de intervenție pentru gropi

1. Sesizarea se verifică pe teren în cel mult **2 zile lucrătoare**.
2. Echipa fotografiază groapa și notează dimensiunile (lungime, lățime, adâncime).
3. O groapă mai adâncă de 5 cm pe carosabil se semnalizează **în aceeași zi**.
4. Plombarea se programează în campania săptămânală.

| Categorie | Termen |
| --- | --- |
| carosabil, > 5 cm | 24 de ore |
| carosabil, < 5 cm | 7 zile |
| trotuar | 14 zile |
"""

REGULATION = """# Regulamentul de utilizare a documentelor comune

- Documentele de lucru ale unei direcții stau în dosarul ei.
- Înainte de a modifica un document, blocați-l („Blochează pentru editare”).
- Fiecare versiune se păstrează: o greșeală se repară restaurând versiunea bună.
"""


def _specification_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    lines = [
        "Caiet de sarcini - plombarea gropilor 2026",
        "Mixtura asfaltica la cald BA 16, minimum 40 tone pe campanie.",
        "Strazi: Calea Motilor, Bulevardul Transilvania, Strada Closca.",
        "Receptia lucrarilor se face pe baza de proces-verbal.",
    ]
    y = 800
    for line in lines:
        pdf.drawString(50, y, line)
        y -= 18
    pdf.save()
    return buffer.getvalue()


def seed_documents_demo(users: dict) -> Folder | None:
    """The demo folders and documents (once); None when there is no department member."""
    author = users.get("staff")
    if author is None or department_id_of(author) is None:
        return None
    existing = Folder.objects.filter(name=FOLDER_NAME, deleted_at__isnull=True).first()
    if existing is not None:
        return existing
    folder = services.folder_create(actor=author, name=FOLDER_NAME)
    colleague = users.get("crew")
    procedure = services.document_markdown_create(
        actor=author,
        folder_id=folder.pk,
        title="Procedura de intervenție pentru gropi",
        text=PROCEDURE_V1,
    )
    editor = author
    if colleague is not None and selectors.folder_level(colleague, folder) >= Level.EDIT:
        editor = colleague
    services.document_markdown_save(
        actor=editor,
        document_id=procedure.pk,
        text=PROCEDURE_V2,
        base_version=1,
        note="Termene pe categorii de gropi",
    )
    services.document_upload(
        actor=author,
        folder_id=folder.pk,
        file=SimpleUploadedFile("caiet-de-sarcini-plombare-2026.pdf", _specification_pdf()),
        title="Caiet de sarcini — plombarea gropilor 2026",
    )
    if colleague is not None:
        services.comment_add(
            actor=author,
            document_id=procedure.pk,
            body=f"@{colleague.get_username()} te rog verifică termenele din tabel "
            "înainte de ședință.",
        )
    manager = users.get("manager")
    if manager is not None:
        services.folder_grant(
            actor=author, folder_id=folder.pk, level=Level.VIEW, user_id=manager.pk
        )
    _link_an_open_case(author, procedure.pk)
    _shared_folder(users)
    return folder


def _link_an_open_case(actor, document_id: int) -> None:
    from cetatea.cases.choices import OPEN_STATUSES
    from cetatea.cases.models import Case

    case = (
        Case.objects.filter(department_id=department_id_of(actor), status__in=OPEN_STATUSES)
        .order_by("-pk")
        .first()
    )
    if case is not None:
        services.document_link_add(actor=actor, document_id=document_id, reference=case.reference)


def _shared_folder(users: dict) -> None:
    for name in ("manager", "admin"):
        actor = users.get(name)
        if actor is not None and actor.has_perm("documents.add_shared_folder"):
            folder = services.folder_create(actor=actor, name=SHARED_NAME, shared=True)
            services.document_markdown_create(
                actor=actor,
                folder_id=folder.pk,
                title="Regulamentul documentelor comune",
                text=REGULATION,
            )
            return
