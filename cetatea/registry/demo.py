"""Demo registry: five months of petitions, Law 544 requests and service requests at the
three registry points, answered, extended and forwarded through the real services in
the order they happened, so the registry's lists, its reports and the management
overview's legal terms have something to show."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from cetatea.catalog.models import Department
from cetatea.people.models import Person
from cetatea.registry.models import DocumentType, Entry, RegistryPoint
from cetatea.registry.services import (
    registry_entry_answer,
    registry_entry_extend,
    registry_entry_forward,
    registry_entry_register,
)

SUMMARIES = [
    "Sesizare privind iluminatul public pe strada Vasile Goldiș",
    "Cerere de reparare a trotuarului din fața blocului",
    "Reclamație privind zgomotul de pe șantierul vecin",
    "Propunere de amenajare a unui loc de joacă în cartierul Ampoi",
    "Cerere privind programul de colectare a deșeurilor",
    "Sesizare privind parcarea neregulamentară",
]
INFO_SUMMARIES = [
    "Solicitare privind bugetul pentru reabilitarea străzilor în 2026",
    "Solicitare a contractelor de salubrizare în vigoare",
]
SERVICE_SUMMARIES = ["Cerere de certificat de atestare fiscală", "Cerere de ajutor de încălzire"]


def _working_hour(day: dt.datetime, rng: random.Random) -> dt.datetime:
    local = timezone.localtime(day)
    while local.weekday() >= 5:
        local -= dt.timedelta(days=1)
    return local.replace(hour=rng.randint(8, 15), minute=rng.randrange(60), second=0, microsecond=0)


def seed_registry_demo(
    users: dict,
    *,
    now: dt.datetime | None = None,
    days: int = 150,
    count: int = 260,
    seed: int = 2026,
) -> int:
    """Register ``count`` documents over the last ``days`` days (once: nothing if the
    registry already has entries). Returns how many were registered."""
    if Entry.objects.exists():
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    points = {p.code: p for p in RegistryPoint.objects.filter(is_active=True)}
    types = {t.code: t for t in DocumentType.objects.filter(is_active=True)}
    persons = list(Person.objects.filter(merged_into__isnull=True).order_by("id")[:300])
    departments = list(Department.objects.filter(is_active=True).order_by("code"))
    clerk, manager = users["clerk"], users["manager"]
    if not persons or "rg" not in points or "petitie" not in types:
        return 0
    plan: list[tuple[dt.datetime, int, str, int]] = []  # (when, order, action, document)
    documents = []
    for _ in range(count):
        registered = _working_hour(now - dt.timedelta(days=rng.uniform(0.5, days)), rng)
        roll = rng.random()
        if roll < 0.65:
            code, point, term = "petitie", rng.choice(["rg", "rg", "rg", "dv", "das"]), 30
        elif roll < 0.8:
            code, point, term = "info-544", "rg", 10
        else:
            code, point, term = "cerere", rng.choice(["dv", "das"]), 30
        if point not in points or code not in types:
            continue
        documents.append((code, point, registered))
        plan.append((registered, 0, "register", len(documents) - 1))
        fate = rng.random()
        if code == "petitie" and fate < 0.1:
            plan.append(
                (
                    registered + dt.timedelta(days=rng.uniform(1, 8)),
                    1,
                    "forward",
                    len(documents) - 1,
                )
            )
            continue
        if code == "petitie" and fate < 0.22:
            plan.append(
                (
                    registered + dt.timedelta(days=rng.uniform(15, 25)),
                    1,
                    "extend",
                    len(documents) - 1,
                )
            )
            answer_after = rng.uniform(28, 44)
        elif fate < 0.85:
            answer_after = rng.uniform(1, term - 1)
        else:  # late, or not answered yet
            answer_after = rng.uniform(term + 1, term + 20)
        plan.append((registered + dt.timedelta(days=answer_after), 2, "answer", len(documents) - 1))
    plan = [step for step in plan if step[0] < now - dt.timedelta(hours=1)]
    plan.sort()
    entries: dict[int, Entry] = {}
    for when, _order, action, index in plan:
        code, point, _registered = documents[index]
        if action == "register":
            summaries = {"petitie": SUMMARIES, "info-544": INFO_SUMMARIES}.get(
                code, SERVICE_SUMMARIES
            )
            entries[index] = registry_entry_register(
                point=points[point],
                doc_type=types[code],
                summary=rng.choice(summaries),
                person=rng.choice(persons),
                department=rng.choice(departments) if point == "rg" and departments else None,
                registered_at=when,
                actor=clerk,
            )
            continue
        entry = entries.get(index)
        if entry is None:
            continue
        entry.refresh_from_db()
        if entry.status != "open":  # filed on registration (e.g. unidentified)
            continue
        if action == "forward":
            registry_entry_forward(
                entry_id=entry.pk, to="Consiliul Județean Alba", reason="", actor=clerk, now=when
            )
        elif action == "extend":
            registry_entry_extend(
                entry_id=entry.pk, days=15, reason="Verificări pe teren", actor=manager, now=when
            )
        else:
            registry_entry_answer(
                entry_id=entry.pk,
                summary="Răspuns la cererea dumneavoastră",
                actor=clerk,
                registered_at=when,
            )
    return len(entries)
