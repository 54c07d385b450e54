"""Reads of the schedules app, the permission checks (``access_*``) and coverage.

Who may do what:

- everyone with the intranet sees their own shifts, leave and swaps, and the
  *published* roster of the teams they are a member of;
- a planner (``schedules.manage_roster``) sees drafts and edits the roster of the teams
  they plan: the teams they are a member of and the teams of their department;
- an approver (``schedules.approve_leave``) decides the leave of people in those same
  teams or in their department.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from cetatea.catalog.models import StaffProfile, Team
from cetatea.core.pagination import TimelinePage, merged_newest_first
from cetatea.intranet.schedules import clock
from cetatea.intranet.schedules.choices import LeaveStatus, SwapStatus
from cetatea.intranet.schedules.models import CoverageRule, Leave, Post, Shift, ShiftPattern, Swap
from cetatea.intranet.selectors import access_intranet, department_id_of

User = get_user_model()

# The longest range a roster page or a generation covers (a month view is 6 weeks at most).
MAX_RANGE_DAYS = 42


# --- scopes -------------------------------------------------------------------------


def member_team_ids(user) -> set[int]:
    cached = getattr(user, "_schedules_member_teams", None)
    if cached is None:
        cached = set(Team.objects.filter(members=user.pk).values_list("id", flat=True))
        user._schedules_member_teams = cached
    return cached


def _scope_team_ids(user) -> set[int]:
    """Teams a lead looks after: their own teams and the teams of their department."""
    cached = getattr(user, "_schedules_scope_teams", None)
    if cached is None:
        if user.is_superuser:
            cached = set(Team.objects.values_list("id", flat=True))
        else:
            department_id = department_id_of(user)
            cached = set(member_team_ids(user))
            if department_id is not None:
                cached |= set(
                    Team.objects.filter(department_id=department_id).values_list("id", flat=True)
                )
        user._schedules_scope_teams = cached
    return cached


def planned_team_ids(user) -> set[int]:
    """The teams whose roster ``user`` may edit (empty without manage_roster)."""
    if not user.has_perm("schedules.manage_roster"):
        return set()
    return _scope_team_ids(user)


def visible_team_ids(user) -> set[int]:
    return member_team_ids(user) | planned_team_ids(user)


def can_plan(user, team_id: int) -> bool:
    return team_id in planned_team_ids(user)


def approver_people(user) -> QuerySet:
    """Users whose leave ``user`` decides (none without approve_leave)."""
    if not user.has_perm("schedules.approve_leave"):
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    department_id = department_id_of(user)
    in_teams = Q(teams__in=_scope_team_ids(user))
    in_department = (
        Q(id__in=StaffProfile.objects.filter(department_id=department_id).values("user_id"))
        if department_id is not None
        else Q(pk__in=[])
    )
    return User.objects.filter(in_teams | in_department).distinct()


def can_decide_leave(user, leave: Leave) -> bool:
    if leave.person_id == user.pk and not user.is_superuser:
        return False  # nobody approves their own leave
    return approver_people(user).filter(pk=leave.person_id).exists()


# --- access checks ------------------------------------------------------------------


def access_team(user, team_id: int) -> Team:
    """The team, if ``user`` may see its roster (a member or a planner)."""
    access_intranet(user)
    team = Team.objects.select_related("department").filter(pk=team_id).first()
    if team is None:
        raise Http404
    if team.pk not in visible_team_ids(user):
        raise PermissionDenied
    return team


def access_team_plan(user, team_id: int) -> Team:
    """The team, if ``user`` plans its roster."""
    team = access_team(user, team_id)
    if not can_plan(user, team.pk):
        raise PermissionDenied
    return team


def access_shift(user, shift_id: int) -> Shift:
    """A shift: its holder sees it; the team sees it once published; planners always."""
    access_intranet(user)
    shift = Shift.objects.select_related("post", "team", "person").filter(pk=shift_id).first()
    if shift is None:
        raise Http404
    if shift.person_id == user.pk:
        return shift
    if can_plan(user, shift.team_id):
        return shift
    if shift.published and shift.team_id in member_team_ids(user):
        return shift
    raise PermissionDenied


def access_leave(user, leave_id: int) -> Leave:
    """A leave request: its owner and the people who decide it."""
    access_intranet(user)
    leave = Leave.objects.select_related("person", "decided_by").filter(pk=leave_id).first()
    if leave is None:
        raise Http404
    if leave.person_id == user.pk:
        return leave
    if can_decide_leave(user, leave):
        return leave
    raise PermissionDenied


def access_swap(user, swap_id: int) -> Swap:
    """A swap: the offerer, the colleague it is offered to (or the team), the taker, and
    the team's planners."""
    access_intranet(user)
    swap = (
        Swap.objects.select_related(
            "shift__post", "shift__team", "offered_by", "offered_to", "taker"
        )
        .filter(pk=swap_id)
        .first()
    )
    if swap is None:
        raise Http404
    if user.pk in (swap.offered_by_id, swap.offered_to_id, swap.taker_id):
        return swap
    if swap.offered_to_id is None and swap.shift.team_id in member_team_ids(user):
        return swap
    if can_plan(user, swap.shift.team_id):
        return swap
    raise PermissionDenied


# --- overlaps -----------------------------------------------------------------------


def person_overlaps(person_id: int, start, end, *, exclude_id: int | None = None) -> QuerySet:
    qs = Shift.objects.live().filter(person_id=person_id).overlapping(start, end)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.select_related("post")


def leave_over(person_id: int, start, end) -> Leave | None:
    """Approved leave of the person that touches the interval, if any."""
    first, last = clock.local_date(start), clock.local_date(end - dt.timedelta(microseconds=1))
    return (
        Leave.objects.filter(
            person_id=person_id,
            status=LeaveStatus.APPROVED,
            start_date__lte=last,
            end_date__gte=first,
        )
        .order_by("start_date")
        .first()
    )


def leave_shifts(leave: Leave) -> list[Shift]:
    """The person's live shifts during the leave (whether planned or taken in a swap)."""
    start, end = clock.days_span(leave.start_date, leave.end_date)
    shifts = list(
        Shift.objects.live()
        .filter(person_id=leave.person_id)
        .overlapping(start, end)
        .select_related("post", "team")[:200]
    )
    swapped = set(
        Swap.objects.filter(
            shift__in=[s.pk for s in shifts], status=SwapStatus.APPROVED, taker_id=leave.person_id
        ).values_list("shift_id", flat=True)
    )
    for shift in shifts:
        shift.swapped_to_person = shift.pk in swapped
    return shifts


# --- coverage -----------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageWarning:
    post: Post
    start: dt.datetime
    end: dt.datetime
    staffed: int
    minimum: int

    def __str__(self) -> str:
        start = timezone.localtime(self.start, clock.tz())
        end = timezone.localtime(self.end, clock.tz())
        when = f"{dateformat.format(start, 'D d.m H:i')}–{end:%H:%M}"
        if self.staffed == 0:
            return _("%(post)s unstaffed %(when)s (needs %(minimum)s)") % {
                "post": self.post,
                "when": when,
                "minimum": self.minimum,
            }
        return _("%(post)s under minimum %(when)s: %(staffed)s of %(minimum)s") % {
            "post": self.post,
            "when": when,
            "staffed": self.staffed,
            "minimum": self.minimum,
        }


def coverage_warnings(
    posts: list[Post],
    first: dt.date,
    last: dt.date,
    *,
    published_only: bool = False,
    without: set[int] | frozenset[int] = frozenset(),
) -> list[CoverageWarning]:
    """Every window of a coverage rule between ``first`` and ``last`` where a post has
    fewer assigned people than its minimum. ``without``: shift ids counted as released
    (what approving a leave would do)."""
    if not posts:
        return []
    post_by_id = {p.pk: p for p in posts}
    rules = list(CoverageRule.objects.filter(post__in=post_by_id).order_by("post_id", "start_time"))
    if not rules:
        return []
    # A night window of the day before may reach into ``first``; one of ``last`` past it.
    span_start, span_end = clock.days_span(
        first - dt.timedelta(days=1), last + dt.timedelta(days=1)
    )
    shifts = Shift.objects.live().filter(post__in=post_by_id, person__isnull=False)
    shifts = shifts.overlapping(span_start, span_end)
    if published_only:
        shifts = shifts.filter(published=True)
    by_post: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for shift_id, post_id, start, end in shifts.values_list("id", "post_id", "start", "end"):
        if shift_id not in without:
            by_post[post_id].append((start, end))
    warnings: list[CoverageWarning] = []
    for day in clock.date_range(first, last):
        for rule in rules:
            if str(day.weekday()) not in rule.weekdays:
                continue
            w_start, w_end = clock.window(day, rule.start_time, rule.end_time)
            warnings += _window_gaps(
                post_by_id[rule.post_id], w_start, w_end, rule.min_staff, by_post[rule.post_id]
            )
    warnings.sort(key=lambda w: (w.start, w.post.name_ro))
    return warnings


def _window_gaps(post, w_start, w_end, minimum, intervals) -> list[CoverageWarning]:
    """Sweep the window: cut it at every shift start and end inside it, count the shifts
    covering each piece, and join neighbouring pieces with the same shortfall."""
    cuts = {w_start, w_end}
    for start, end in intervals:
        if start < w_end and end > w_start:
            cuts |= {max(start, w_start), min(end, w_end)}
    points = sorted(cuts)
    out: list[CoverageWarning] = []
    for a, b in zip(points, points[1:], strict=False):
        staffed = sum(1 for start, end in intervals if start <= a and end >= b)
        if staffed >= minimum:
            continue
        if out and out[-1].end == a and out[-1].staffed == staffed:
            out[-1] = CoverageWarning(post, out[-1].start, b, staffed, minimum)
        else:
            out.append(CoverageWarning(post, a, b, staffed, minimum))
    return out


# --- roster -------------------------------------------------------------------------


@dataclass
class RosterCell:
    day: dt.date
    shifts: list[Shift] = field(default_factory=list)
    on_leave: bool = False


@dataclass
class RosterRow:
    person: object | None  # None: the open (unassigned) shifts
    cells: list[RosterCell]


@dataclass
class Roster:
    team: Team
    days: list[dt.date]
    rows: list[RosterRow]
    warnings: list[CoverageWarning]
    can_plan: bool
    drafts: int


def roster(user, team: Team, first: dt.date, last: dt.date) -> Roster:
    """The team's roster for the days ``first``..``last``: one row per person (members
    and anyone holding a shift on the team's posts), one column per day; drafts only
    for planners. Bounded by the team's size and the range (at most MAX_RANGE_DAYS)."""
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        last = first + dt.timedelta(days=MAX_RANGE_DAYS - 1)
    planner = can_plan(user, team.pk)
    days = clock.date_range(first, last)
    start, end = clock.days_span(first, last)
    shifts = Shift.objects.live().filter(team=team).overlapping(start, end)
    if not planner:
        shifts = shifts.filter(published=True)
    shifts = list(shifts.select_related("post", "person").order_by("start", "id")[:2000])
    people = {u.pk: u for u in team.members.order_by("last_name", "first_name", "username")}
    for shift in shifts:
        if shift.person_id and shift.person_id not in people:
            people[shift.person_id] = shift.person
    index = {d: i for i, d in enumerate(days)}
    rows = {pk: RosterRow(u, [RosterCell(d) for d in days]) for pk, u in people.items()}
    open_row = RosterRow(None, [RosterCell(d) for d in days])
    for shift in shifts:
        col = index.get(clock.local_date(shift.start))
        if col is None:  # a night shift that began the day before the range
            continue
        (rows[shift.person_id] if shift.person_id else open_row).cells[col].shifts.append(shift)
    leaves = Leave.objects.filter(
        person_id__in=list(people),
        status=LeaveStatus.APPROVED,
        start_date__lte=last,
        end_date__gte=first,
    ).values_list("person_id", "start_date", "end_date")
    for person_id, l_first, l_last in leaves:
        for cell in rows[person_id].cells:
            cell.on_leave = cell.on_leave or l_first <= cell.day <= l_last
    posts = list(Post.objects.filter(team=team, is_active=True))
    warnings = coverage_warnings(posts, first, last, published_only=not planner)
    ordered = list(rows.values())
    if any(c.shifts for c in open_row.cells):
        ordered.append(open_row)
    drafts = sum(1 for s in shifts if not s.published) if planner else 0
    return Roster(team, days, ordered, warnings, planner, drafts)


def teams_for(user) -> list[Team]:
    return list(Team.objects.filter(pk__in=visible_team_ids(user)).select_related("department"))


def team_posts(team: Team) -> QuerySet:
    return Post.objects.filter(team=team, is_active=True)


def team_patterns(team: Team) -> QuerySet:
    return (
        ShiftPattern.objects.filter(team=team)
        .select_related("post")
        .prefetch_related("members")
        .order_by("-is_active", "start_time", "name")
    )


def team_people(team: Team) -> QuerySet:
    return team.members.filter(is_active=True).order_by("last_name", "first_name", "username")


# --- the person's own -----------------------------------------------------------------


def my_shifts(user, first: dt.date, last: dt.date, *, limit: int = 100) -> list[Shift]:
    start, end = clock.days_span(first, last)
    return list(
        Shift.objects.live()
        .filter(person=user, published=True)
        .overlapping(start, end)
        .select_related("post", "team")
        .order_by("start")[:limit]
    )


def my_leave_page(user, cursor: str = "", page_size: int = 20) -> TimelinePage:
    sources = [("leave", 0, "created_at", lambda u: Leave.objects.filter(person=u))]
    return merged_newest_first(sources, user, cursor=cursor, page_size=page_size)


def pending_leave_page(user, cursor: str = "", page_size: int = 20) -> TimelinePage:
    people = approver_people(user).exclude(pk=user.pk).values("pk")
    sources = [
        (
            "leave",
            0,
            "created_at",
            lambda u: Leave.objects.filter(
                status=LeaveStatus.PENDING, person__in=people
            ).select_related("person"),
        )
    ]
    return merged_newest_first(sources, user, cursor=cursor, page_size=page_size)


def swaps_for(user, *, limit: int = 50) -> dict[str, list[Swap]]:
    """Swaps offered to ``user`` (or their teams), their own offers, and those waiting for
    them as planner. Each list is bounded."""
    base = Swap.objects.select_related(
        "shift__post", "shift__team", "offered_by", "offered_to", "taker"
    )
    now = timezone.now()
    to_me = (
        base.filter(status=SwapStatus.OFFERED, shift__start__gt=now)
        .filter(
            Q(offered_to=user) | Q(offered_to__isnull=True, shift__team__in=member_team_ids(user))
        )
        .exclude(offered_by=user)
    )
    mine = base.filter(Q(offered_by=user) | Q(taker=user))
    to_approve = base.filter(status=SwapStatus.ACCEPTED, shift__team__in=planned_team_ids(user))
    return {
        "to_me": list(to_me.order_by("shift__start")[:limit]),
        "mine": list(mine.order_by("-created_at")[:limit]),
        "to_approve": list(to_approve.order_by("shift__start")[:limit]),
    }


def swap_warnings(swap: Swap) -> list[CoverageWarning]:
    """Coverage of the swapped shift's post that day (a one-for-one swap keeps the head
    count, but the planner sees any shortfall already there)."""
    day = clock.local_date(swap.shift.start)
    return coverage_warnings([swap.shift.post], day, day)


def home_panel(user) -> dict:
    """My shifts this week; for planners and approvers, what waits for them."""
    monday = clock.monday_of(clock.today())
    shifts = my_shifts(user, monday, monday + dt.timedelta(days=6), limit=21)
    planned = planned_team_ids(user)
    pending_leave = (
        Leave.objects.filter(
            status=LeaveStatus.PENDING,
            person__in=approver_people(user).exclude(pk=user.pk).values("pk"),
        ).count()
        if user.has_perm("schedules.approve_leave")
        else 0
    )
    swaps_to_approve = (
        Swap.objects.filter(status=SwapStatus.ACCEPTED, shift__team__in=planned).count()
        if planned
        else 0
    )
    swaps_to_me = Swap.objects.filter(
        status=SwapStatus.OFFERED, offered_to=user, shift__start__gt=timezone.now()
    ).count()
    return {
        "title": _("My shifts this week"),
        "shifts": shifts,
        "week": monday,
        "pending_leave": pending_leave,
        "swaps_to_approve": swaps_to_approve,
        "swaps_to_me": swaps_to_me,
    }
