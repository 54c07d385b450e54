"""Demo data of the intranet's own part: a few announcements in Romanian.

``seed_intranet_demo(users)`` is called by ``manage.py seed_demo`` with its staff
accounts by username ("operator", "clerk", "staff", "crew", "manager", "revenue",
"admin"); the other intranet apps add their own demo data beside it.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cetatea.intranet.choices import BodyFormat
from cetatea.intranet.models import Announcement, AnnouncementRead
from cetatea.intranet.services import directory_sync

ANNOUNCEMENTS = [
    # (author, department code or None, pinned, days ago, title, body)
    (
        "manager",
        None,
        True,
        6,
        "Program de lucru cu publicul în perioada sărbătorilor",
        "Între **24 decembrie** și **2 ianuarie** ghișeele de relații cu publicul au program "
        "redus:\n\n"
        "- luni–joi: 8:30–14:00\n"
        "- vineri: 8:30–12:00\n"
        "- 25–26 decembrie și 1–2 ianuarie: închis\n\n"
        "Dispeceratul telefonic rămâne deschis. Planificarea turelor este în secțiunea "
        "*Programări*.",
    ),
    (
        "admin",
        None,
        False,
        3,
        "Schimbarea parolelor conturilor de serviciu",
        "Până la sfârșitul lunii, fiecare coleg își schimbă parola contului Cetatea.\n\n"
        "Parola nouă are cel puțin 12 caractere; nu o folosiți și în alte aplicații. "
        "Pentru probleme, sunați la interiorul **100** (informatică).",
    ),
    (
        "manager",
        "drumuri-utilitati",
        False,
        1,
        "Ședință operativă: campania de plombare a gropilor",
        "Joi la ora 9:00, în sala de ședințe de la etajul 2, stabilim ordinea străzilor "
        "pentru campania de plombare. Aduceți lista sesizărilor deschise din zona voastră.",
    ),
]


def seed_intranet_demo(users: dict) -> list[Announcement]:
    """Create the demo announcements (once) and the directory keys of the demo staff."""
    from cetatea.catalog.models import Department

    directory_sync(user_ids=[u.pk for u in users.values()])
    now = timezone.now()
    created = []
    for author_key, department_code, pinned, days_ago, title, body in ANNOUNCEMENTS:
        author = users.get(author_key)
        if author is None or Announcement.objects.filter(title=title).exists():
            continue
        department = None
        if department_code:
            department = Department.objects.filter(code=department_code).first()
            if department is None:
                continue
        published = now - dt.timedelta(days=days_ago, hours=2)
        announcement = Announcement.objects.create(
            title=title,
            body=body,
            body_format=BodyFormat.MARKDOWN,
            department=department,
            pinned=pinned,
            author=author,
            published_at=published,
        )
        AnnouncementRead.objects.create(announcement=announcement, user=author, read_at=published)
        created.append(announcement)
    # Some colleagues have already read the first one, so the receipts page has both lists.
    if created:
        for key in ("operator", "clerk"):
            if key in users:
                AnnouncementRead.objects.get_or_create(
                    announcement=created[0],
                    user=users[key],
                    defaults={"read_at": created[0].published_at + dt.timedelta(hours=3)},
                )
    return created
