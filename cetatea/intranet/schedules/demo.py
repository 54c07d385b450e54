"""Demo data of the schedules app: the call centre and the general registry counter of
Alba Iulia's citizen relations office, with coverage rules, morning and afternoon
patterns, a published roster for this week and the next, a pending leave request and an
open swap.

``seed_schedules_demo(users)`` is called by ``manage.py seed_demo`` with its staff
accounts by username ("operator", "clerk", "admin", ...); accounts missing from ``users``
are left out. A morning and an afternoon shift need more people than the one demo
account per team, so a few colleagues without a login (an unusable password) are added
to the two teams; they appear on the roster but nobody signs in as them.

The posts, rules, patterns, colleagues, the leave request and the swap are written once
(the call-centre post's code is the marker). The roster of the current and the next week
is generated on every run (``roster_generate`` is idempotent), so a demo database seeded
weeks ago still shows "my shifts this week"; it is published only when new shifts were
generated.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from cetatea.catalog.models import StaffProfile, Team
from cetatea.core import roles
from cetatea.intranet.schedules import clock, selectors, services
from cetatea.intranet.schedules.choices import LeaveKind
from cetatea.intranet.schedules.models import Post, Shift, ShiftPattern

CALL_POST = "dispecerat-apeluri"  # the marker: setup is done once this post exists
REGISTRY_POST = "registratura-generala"

# (team code, username of the demo account of that team, post code, name ro, name en)
POSTS = [
    (
        "dispecerat",
        "operator",
        CALL_POST,
        "Dispecerat – preluare apeluri",
        "Call centre – incoming calls",
    ),
    (
        "registratura",
        "clerk",
        REGISTRY_POST,
        "Registratura generală (camera 8)",
        "General registry counter (room 8)",
    ),
]
# post code -> (weekdays, start, end, minimum staff)
RULES = {
    CALL_POST: [
        ("01234", dt.time(7), dt.time(21), 1),
        ("01234", dt.time(8), dt.time(14), 2),  # the morning peak of calls
    ],
    REGISTRY_POST: [
        ("01234", dt.time(8), dt.time(16), 1),
        ("01234", dt.time(10, 30), dt.time(14), 2),  # two counters open at the busiest hours
        ("3", dt.time(16), dt.time(18, 30), 1),  # Thursday: longer opening hours
    ],
}
# Colleagues without a login: username, first name, last name, role, team code.
COLLEAGUES = [
    ("marius.pop", "Marius", "Pop", roles.OPERATOR, "dispecerat"),
    ("ioana.moldovan", "Ioana", "Moldovan", roles.OPERATOR, "dispecerat"),
    ("elena.crisan", "Elena", "Crișan", roles.REGISTRY_CLERK, "registratura"),
]
# post code -> (pattern name, weekdays, start, end, usernames)
PATTERNS = {
    CALL_POST: [
        (
            "Tura de dimineață (07:00–14:00)",
            "01234",
            dt.time(7),
            dt.time(14),
            ["operator", "marius.pop"],
        ),
        (
            "Tura de după-amiază (14:00–21:00)",
            "01234",
            dt.time(14),
            dt.time(21),
            ["ioana.moldovan"],
        ),
    ],
    REGISTRY_POST: [
        ("Tura de dimineață (07:30–15:30)", "01234", dt.time(7, 30), dt.time(15, 30), ["clerk"]),
        (
            "Tura de după-amiază (10:30–18:30)",
            "01234",
            dt.time(10, 30),
            dt.time(18, 30),
            ["elena.crisan"],
        ),
    ],
}
SWAP_NOTE = (
    "Vineri după-amiază am o programare la medic. Poți prelua tura? "
    "Îți iau eu o tură săptămâna viitoare."
)
LEAVE_NOTE = "Concediu de odihnă planificat: vacanța școlară a copiilor."


def _team(code: str, holder) -> Team | None:
    """The catalogue's team, or (another catalogue) the team of its demo account."""
    team = Team.objects.filter(code=code).first()
    if team is None and holder is not None:
        team = Team.objects.filter(members=holder).order_by("pk").first()
    return team


def _planner(users: dict, team: Team):
    """A demo account that plans the team's roster (the administrator in the catalogue)."""
    for key in ("admin", "manager", *users):
        user = users.get(key)
        if user is not None and user.is_active and selectors.can_plan(user, team.pk):
            return user
    return None


def _colleague(username: str, first: str, last: str, role: str, team: Team):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@cetatea.example",
        )
        user.set_unusable_password()
        user.save()
        group = Group.objects.filter(name=role).first()
        if group is not None:
            user.groups.add(group)
        StaffProfile.objects.get_or_create(user=user, defaults={"department": team.department})
    team.members.add(user)
    return user


def seed_schedules_demo(users: dict) -> None:
    """Create the demo posts, rules, patterns, roster, leave request and swap (see above)."""
    today = clock.today()
    first = clock.monday_of(today)
    last = first + dt.timedelta(days=13)  # this week and the next
    with transaction.atomic():
        fresh = not Post.objects.filter(code=CALL_POST).exists()
        people = dict(users)
        teams: list[tuple[Team, object]] = []
        for team_code, holder_key, post_code, name_ro, name_en in POSTS:
            holder = users.get(holder_key)
            team = _team(team_code, holder)
            if team is None:
                continue
            planner = _planner(users, team)
            if planner is None:
                continue
            teams.append((team, planner))
            if not fresh:
                continue
            if holder is not None:
                team.members.add(holder)
            for username, first_name, last_name, role, colleague_team in COLLEAGUES:
                if colleague_team == team_code:
                    people[username] = _colleague(username, first_name, last_name, role, team)
            post = Post.objects.filter(code=post_code).first() or services.post_create(
                actor=planner, team=team, name_ro=name_ro, name_en=name_en, code=post_code
            )
            for weekdays, start, end, min_staff in RULES[post_code]:
                services.coverage_rule_create(
                    actor=planner,
                    post=post,
                    weekdays=weekdays,
                    start_time=start,
                    end_time=end,
                    min_staff=min_staff,
                )
            for name, weekdays, start, end, usernames in PATTERNS[post_code]:
                members = [people[u] for u in usernames if u in people]
                if not members:
                    continue
                services.pattern_save(
                    actor=planner,
                    team=team,
                    post=post,
                    name=name,
                    weekdays=weekdays,
                    start_time=start,
                    end_time=end,
                    members=members,
                )
        if fresh:
            from cetatea.intranet.services import directory_sync

            extra = [people[u].pk for u, *_rest in COLLEAGUES if u in people]
            if extra:
                directory_sync(user_ids=extra)

        for team, planner in teams:
            result = services.roster_generate(actor=planner, team=team, first=first, last=last)
            if result.created:
                services.roster_publish(actor=planner, team=team, first=first, last=last)

        if fresh:
            _leave_and_swap(people, first)


def _leave_and_swap(people: dict, monday: dt.date) -> None:
    operator = people.get("operator")
    if operator is None:
        return
    # Three days of annual leave in three weeks' time, waiting for approval.
    leave_start = monday + dt.timedelta(days=21)
    try:
        services.leave_request(
            person=operator,
            start_date=leave_start,
            end_date=leave_start + dt.timedelta(days=2),
            kind=LeaveKind.ANNUAL,
            note=LEAVE_NOTE,
        )
    except ValidationError:
        pass  # she already asked for leave then
    # A colleague offers the operator her Friday afternoon shift of next week.
    colleague = people.get("ioana.moldovan")
    if colleague is None:
        return
    pattern = ShiftPattern.objects.filter(post__code=CALL_POST, members=colleague).first()
    shift = (
        Shift.objects.filter(
            pattern=pattern,
            pattern_person=colleague,
            pattern_day=monday + dt.timedelta(days=11),
            person=colleague,
            published=True,
            is_cancelled=False,
        )
        .select_related("team")
        .first()
    )
    if shift is None or not shift.team.members.filter(pk=operator.pk).exists():
        return
    services.swap_offer(actor=colleague, shift=shift, offered_to=operator, note=SWAP_NOTE)
