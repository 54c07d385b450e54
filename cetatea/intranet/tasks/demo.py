"""Demo data of the tasks app: the roads department's board for the spring pothole
campaign, with tasks in every column, a checklist, a comment mentioning a colleague and
a task made from one of the department's open cases.

``seed_tasks_demo(users)`` is called by ``manage.py seed_demo`` with its staff accounts
by username ("staff", "crew", "manager", ...); accounts missing from ``users`` are left
out. Everything is written through ``services``, once: the board's name is the marker.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cetatea.catalog.models import Department
from cetatea.intranet.selectors import department_id_of
from cetatea.intranet.tasks import services
from cetatea.intranet.tasks.choices import Priority, Status
from cetatea.intranet.tasks.models import Board, Task
from cetatea.intranet.tasks.selectors import is_board_member

BOARD_NAME = "Campania de plombare a gropilor"
BOARD_DESCRIPTION = (
    "Plombarea gropilor de pe străzile cu cele mai multe sesizări: Calea Moților, "
    "Bulevardul Transilvania, Strada Cloșca. Lucrăm de la nord la sud, câte o stradă pe "
    "zi, cu echipa de intervenții drumuri."
)

# (title, description, assignee, due in days (None: no due time), priority, status)
TASKS = [
    (
        "Inventarul gropilor din sesizările deschise",
        "Lista străzilor și a numărului de gropi, din sesizările din ultimele trei luni, "
        "cu fotografiile cetățenilor.",
        "staff",
        -6,
        Priority.NORMAL,
        Status.DONE,
    ),
    (
        "Verificarea garanției lucrărilor pe Strada Cloșca",
        "Strada a fost asfaltată acum doi ani: gropile de acolo le repară constructorul, "
        "în garanție. Notificarea a plecat prin registratură.",
        "staff",
        -3,
        Priority.NORMAL,
        Status.DONE,
    ),
    (
        "Notificarea Poliției Locale pentru restricțiile de circulație",
        "Adresă către Poliția Locală cu străzile și zilele în care se lucrează pe o singură bandă.",
        "staff",
        -2,  # overdue
        Priority.HIGH,
        Status.TODO,
    ),
    (
        "Comandă de mixtură asfaltică la cald (40 t)",
        "De la stația de asfalt, pe contractul-cadru; livrare eșalonată, câte 8 t pe zi.",
        "staff",
        2,
        Priority.HIGH,
        Status.IN_PROGRESS,
    ),
    (
        "Plombare Bulevardul Transilvania (tronsonul Piața Iuliu Maniu – Strada Decebal)",
        "Circa 25 de gropi, cele mai adânci în dreptul stațiilor de autobuz.",
        "crew",
        1,
        Priority.HIGH,
        Status.IN_PROGRESS,
    ),
    (
        "Plombare Calea Moților (nr. 1–85)",
        "Se lucrează pe jumătate de carosabil; semnalizare conform avizului Poliției Locale.",
        "crew",
        5,
        Priority.NORMAL,
        Status.TODO,
    ),
    (
        "Anunț pe site și pe pagina de Facebook a primăriei",
        "Străzile și zilele de lucru, cu rugămintea de a nu parca pe tronsoanele anunțate.",
        "manager",
        3,
        Priority.NORMAL,
        Status.TODO,
    ),
    (
        "Raport către Cabinetul Primarului la sfârșitul campaniei",
        "Gropi reparate pe străzi, cantitatea de mixtură, fotografii înainte și după.",
        None,
        None,
        Priority.LOW,
        Status.TODO,
    ),
]
CHECKLIST_TASK = 4  # the Transilvania boulevard
CHECKLIST = [
    ("Semnalizarea rutieră montată", True),
    ("Gropile decupate și curățate", True),
    ("Amorsare cu emulsie bituminoasă", False),
    ("Așternere și compactare mixtură", False),
    ("Fotografii înainte și după încărcate la task", False),
]


def _due(days: int | None) -> dt.datetime | None:
    if days is None:
        return None
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(15, 0)))


def _department(users: dict) -> Department | None:
    """The roads department: where the demo department staff and crew work."""
    for key in ("staff", "crew"):
        user = users.get(key)
        if user is not None and department_id_of(user) is not None:
            return Department.objects.get(pk=department_id_of(user))
    return Department.objects.filter(code="drumuri-utilitati").first()


def _creator(users: dict, department: Department):
    """Someone who may make the department's board: its own staff, or a manager."""
    for key in ("staff", "crew"):
        user = users.get(key)
        if user is not None and department_id_of(user) == department.pk:
            return user
    for key in ("manager", "admin"):
        user = users.get(key)
        if user is not None and user.has_perm("tasks.change_board"):
            return user
    return None


def seed_tasks_demo(users: dict) -> None:
    """Create the demo board and its tasks (once; see the module's docstring)."""
    if Board.objects.filter(name=BOARD_NAME).exists():
        return
    department = _department(users)
    if department is None:
        return
    creator = _creator(users, department)
    if creator is None:
        return
    with transaction.atomic():
        board = services.board_create(
            actor=creator,
            name=BOARD_NAME,
            description=BOARD_DESCRIPTION,
            department_id=department.pk,
        )
        # The manager follows the campaign from the mayor's office.
        manager = users.get("manager")
        if manager is not None and manager.pk != creator.pk:
            services.board_member_add(
                actor=creator, board_id=board.pk, username=manager.get_username()
            )
        tasks = []
        for title, description, assignee_key, due_days, priority, status in TASKS:
            assignee = users.get(assignee_key) if assignee_key else None
            if assignee is not None and not is_board_member(assignee, board):
                assignee = None
            # Each person notes their own work on the board (so no "task for you" e-mail
            # is sent for the demo); the unassigned one is the creator's.
            task = services.task_create(
                actor=assignee or creator,
                board=board,
                title=title,
                description=description,
                assignee=assignee,
                due_at=_due(due_days),
                priority=priority,
            )
            if status != Status.TODO:
                task = services.task_move(
                    actor=assignee or creator, task_id=task.pk, version=task.version, status=status
                )
            tasks.append(task)

        checklist_task = tasks[CHECKLIST_TASK]
        worker = checklist_task.assignee or creator
        for text, done in CHECKLIST:
            item = services.checklist_add(actor=creator, task_id=checklist_task.pk, text=text)
            if done:
                services.checklist_set(actor=worker, item_id=item.pk, done=True)

        # A comment that mentions the crew, and the crew's answer.
        crew = users.get("crew")
        author = manager if manager is not None else creator
        if crew is not None and crew.pk != author.pk:
            services.comment_add(
                actor=author,
                task_id=checklist_task.pk,
                body=(
                    f"@{crew.get_username()} vă rog să încărcați fotografiile după compactare; "
                    "vineri le prezint primarului în ședința operativă."
                ),
            )
            services.comment_add(
                actor=crew,
                task_id=checklist_task.pk,
                body="Am terminat decuparea. Mâine dimineață vine mixtura și compactăm.",
            )

        _task_from_case(board, creator, crew)


def _task_from_case(board: Board, creator, crew) -> Task | None:
    """A task made from one of the department's open cases (a pothole, if there is one)."""
    from cetatea.cases.models import Case

    cases = Case.objects.open().filter(department_id=board.department_id)
    case = (
        cases.filter(category__code="ROAD_POTHOLE").order_by("-registered_at").first()
        or cases.order_by("-registered_at").first()
    )
    if case is None:
        return None
    assignee = crew if crew is not None and is_board_member(crew, board) else None
    # An overdue case is the crew's first job tomorrow.
    due = case.due_at if case.due_at > timezone.now() else _due(1)
    return services.task_create(
        actor=assignee or creator,
        board=board,
        title=f"Sesizarea {case.reference}: {case.title}",
        description=(
            f"Din sesizarea {case.reference}"
            + (f", {case.address_text}" if case.address_text else "")
            + ". Răspunsul către cetățean se dă din consolă, după intervenție."
        ),
        assignee=assignee,
        due_at=due,
        priority=Priority.HIGH if case.priority >= 3 else Priority.NORMAL,
        case_id=case.pk,
    )
