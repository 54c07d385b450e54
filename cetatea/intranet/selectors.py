"""Reads of the intranet's home, announcements and staff directory, and who may see what.

Every intranet view starts with ``access_intranet(request.user)``. Documents and
channels add their own rules (department folders and channels are closed to other
departments); those live in each app's selectors. The home page gathers a panel from
each of them (``home_panels``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core.db import NoIndex, filter_unindexed
from cetatea.core.roles import ADMINISTRATOR, ROLE_LABELS
from cetatea.core.text import fold, prefix_upper_bound
from cetatea.intranet.models import Announcement, AnnouncementRead

STAFF_ROLES = tuple(ROLE_LABELS)
# The intranet's other parts, in the order their panels appear on the home page.
PANEL_LABELS = ("tasks", "schedules", "chat", "documents")
HOME_CASES = 10
HOME_ANNOUNCEMENTS = 5
# Unread announcements are looked for among the pinned ones and those of the last days
# only, so the home page does not read the whole history of a reader who is up to date.
UNREAD_WINDOW = dt.timedelta(days=90)
DIRECTORY_PAGE_SIZE = 25
RECEIPTS_PAGE_SIZE = 50


def access_intranet(user: AbstractBaseUser | AnonymousUser) -> None:
    """PermissionDenied unless ``user`` is an active staff member (any staff role)."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if not user.has_perm("intranet.use_intranet"):
        raise PermissionDenied


def department_id_of(user: AbstractBaseUser) -> int | None:
    """The department of a staff member (their staff profile), cached on the user."""
    cached = getattr(user, "_intranet_department_id", False)
    if cached is not False:
        return cached
    from cetatea.catalog.models import StaffProfile

    value = (
        StaffProfile.objects.filter(user_id=user.pk).values_list("department_id", flat=True).first()
    )
    user._intranet_department_id = value
    return value


def is_intranet_admin(user: AbstractBaseUser) -> bool:
    """Superusers and the administrator role may edit or withdraw anyone's announcement."""
    if user.is_superuser:
        return True
    cached = getattr(user, "_intranet_is_admin", None)
    if cached is None:
        cached = user.groups.filter(name=ADMINISTRATOR).exists()
        user._intranet_is_admin = cached
    return cached


def staff_users() -> QuerySet:
    """Active accounts with a staff role (citizens' accounts have none)."""
    User = get_user_model()
    in_role = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=STAFF_ROLES
    )
    return User.objects.filter(Exists(in_role), is_active=True)


# --- announcements ------------------------------------------------------------------------


def visible_announcements(user: AbstractBaseUser) -> QuerySet:
    """Published announcements ``user`` may read: everyone's, their department's, their own.

    The audience columns are wrapped in ``NoIndex`` so that SQLite reads the list index
    (pinned, published_at, id) in order and stops at the page's end, instead of
    gathering every announcement for everyone through the department index and sorting.
    """
    department_id = department_id_of(user)
    qs = Announcement.objects.published().alias(
        audience_department=NoIndex(F("department_id")),
        audience_author=NoIndex(F("author_id")),
    )
    audience = Q(audience_department__isnull=True) | Q(audience_author=user.pk)
    if department_id is not None:
        audience |= Q(audience_department=department_id)
    return qs.filter(audience)


def _list_order(qs: QuerySet) -> QuerySet:
    return qs.order_by("-pinned", "-published_at", "-id")


def access_announcement(user: AbstractBaseUser, announcement_id: int) -> Announcement:
    """The announcement, if ``user`` may read it; else Http404 (existence is not revealed).

    An unpublished one is still shown to its author and to administrators."""
    access_intranet(user)
    announcement = (
        Announcement.objects.select_related("author", "department")
        .filter(pk=announcement_id)
        .first()
    )
    if announcement is None:
        raise Http404(_("This announcement does not exist."))
    if announcement.author_id == user.pk:
        return announcement
    if is_intranet_admin(user):
        return announcement
    if announcement.unpublished_at is not None:
        raise Http404(_("This announcement does not exist."))
    if announcement.department_id is None:
        return announcement
    if announcement.department_id == department_id_of(user):
        return announcement
    raise Http404(_("This announcement does not exist."))


def access_publish(user: AbstractBaseUser) -> None:
    """PermissionDenied unless ``user`` may publish announcements (managers, admins)."""
    access_intranet(user)
    if not user.has_perm("intranet.publish_announcement"):
        raise PermissionDenied


def can_edit_announcement(user: AbstractBaseUser, announcement: Announcement) -> bool:
    if announcement.author_id == user.pk:
        return True
    return is_intranet_admin(user)


def access_announcement_edit(user: AbstractBaseUser, announcement_id: int) -> Announcement:
    """The announcement, if ``user`` may edit or withdraw it: its author or an administrator."""
    announcement = access_announcement(user, announcement_id)
    if not can_edit_announcement(user, announcement):
        raise PermissionDenied
    return announcement


def can_see_receipts(user: AbstractBaseUser, announcement: Announcement) -> bool:
    if announcement.author_id == user.pk:
        return True
    return user.has_perm("intranet.publish_announcement")


def access_announcement_receipts(user: AbstractBaseUser, announcement_id: int) -> Announcement:
    """The announcement, if ``user`` may see who read it: its author, managers, admins."""
    announcement = access_announcement(user, announcement_id)
    if not can_see_receipts(user, announcement):
        raise PermissionDenied
    return announcement


@dataclass
class AnnouncementPage:
    """One page of announcements, each with ``is_unread`` set for the reader."""

    items: list[Announcement]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _mark_unread(user: AbstractBaseUser, items: list[Announcement]) -> list[Announcement]:
    ids = [a.pk for a in items]
    read = set(
        AnnouncementRead.objects.filter(user_id=user.pk, announcement_id__in=ids).values_list(
            "announcement_id", flat=True
        )
    )
    for item in items:
        item.is_unread = item.pk not in read
    return items


def announcement_page(
    user: AbstractBaseUser, *, number: int = 1, page_size: int = 20
) -> AnnouncementPage:
    """Pinned first, then newest; ``page_size + 1`` rows read per page (no count)."""
    number = max(1, number)
    start = (number - 1) * page_size
    rows = list(
        _list_order(visible_announcements(user)).select_related("author", "department")[
            start : start + page_size + 1
        ]
    )
    items = _mark_unread(user, rows[:page_size])
    return AnnouncementPage(items=items, number=number, has_next=len(rows) > page_size)


def unread_announcements(user: AbstractBaseUser, *, limit: int = HOME_ANNOUNCEMENTS) -> list:
    """Up to ``limit + 1`` announcements ``user`` has not opened yet: the pinned ones,
    then those of the last ``UNREAD_WINDOW``.

    Two reads, each a bounded range of the list index (pinned ones are few; the others
    stop at the window's start), so a reader who is up to date costs the same after
    years of announcements."""
    since = timezone.now() - UNREAD_WINDOW
    read = AnnouncementRead.objects.filter(announcement_id=OuterRef("pk"), user_id=user.pk)
    unread = visible_announcements(user).exclude(Exists(read)).select_related("department")
    # ``pinned__in=[...]`` is written ``pinned IN (1)``: an equality the index can seek
    # to, where ``pinned=True`` becomes a bare ``WHERE pinned`` on SQLite.
    rows = list(_list_order(unread.filter(pinned__in=[True]))[: limit + 1])
    if len(rows) <= limit:
        recent = unread.filter(pinned__in=[False], published_at__gte=since)
        rows += list(_list_order(recent)[: limit + 1 - len(rows)])
    for row in rows:
        row.is_unread = True
    return rows


def announcement_audience(announcement: Announcement) -> QuerySet:
    """The staff an announcement is meant for: everyone, or its department's staff."""
    qs = staff_users()
    if announcement.department_id is not None:
        qs = qs.filter(staff_profile__department_id=announcement.department_id)
    return qs


@dataclass
class ReceiptSummary:
    audience: int
    read: int

    @property
    def unread(self) -> int:
        return self.audience - self.read


def receipt_summary(announcement: Announcement) -> ReceiptSummary:
    """How many of the intended readers have opened it (two counts, at most the staff)."""
    audience = announcement_audience(announcement)
    read = AnnouncementRead.objects.filter(
        announcement=announcement, user_id__in=audience.values("pk")
    ).count()
    return ReceiptSummary(audience=audience.count(), read=read)


def receipt_readers(announcement: Announcement, *, page: str | int = 1) -> Page:
    """Intended readers who opened it, first readers first (rows: AnnouncementRead)."""
    audience = announcement_audience(announcement)
    qs = (
        AnnouncementRead.objects.filter(
            announcement=announcement, user_id__in=audience.values("pk")
        )
        .select_related("user", "user__staff_profile__department")
        .order_by("read_at", "pk")
    )
    return Paginator(qs, RECEIPTS_PAGE_SIZE).get_page(page)


def receipt_non_readers(announcement: Announcement, *, page: str | int = 1) -> Page:
    """Intended readers who have not opened it yet, by name (rows: users)."""
    read = AnnouncementRead.objects.filter(announcement=announcement, user_id=OuterRef("pk"))
    qs = (
        announcement_audience(announcement)
        .exclude(Exists(read))
        .select_related("staff_profile__department")
        .order_by("last_name", "first_name", "pk")
    )
    return Paginator(qs, RECEIPTS_PAGE_SIZE).get_page(page)


# --- the home page ------------------------------------------------------------------------


@dataclass
class HomeCases:
    """The open cases of a staff member and of their teams, soonest due first."""

    can_view: bool = False
    mine: list = field(default_factory=list)
    mine_more: bool = False
    team: list = field(default_factory=list)
    team_more: bool = False
    has_teams: bool = False


def home_cases(user: AbstractBaseUser, *, limit: int = HOME_CASES) -> HomeCases:
    """At most ``limit`` open cases assigned to ``user`` and ``limit`` given to their teams.

    Each list is one query returning at most ``limit + 1`` rows; both read open cases
    only (mine through the (assignee, status, due_at) index, my teams' through the
    (department, status, due_at) one), so the cost follows the open workload, not the
    number of cases ever filed.
    """
    if not user.has_perm("cases.view_case"):
        return HomeCases()
    from cetatea.cases.models import Case

    columns = ("pk", "reference", "title", "status", "due_at", "paused_since", "team_id")
    mine = list(
        Case.objects.open()
        .filter(assignee_id=user.pk)
        .order_by("due_at", "pk")
        .only(*columns)[: limit + 1]
    )
    teams = list(user.teams.order_by().values_list("pk", "department_id"))
    team_ids = [pk for pk, _department in teams]
    team: list = []
    if team_ids:
        # A case follows its team into the team's department (console_assign_team), so
        # the open cases of those departments are read through the (department, status,
        # due_at) index and the team is checked on each row, never the team's whole
        # history through the team_id index.
        team = list(
            filter_unindexed(
                Case.objects.open().filter(department_id__in={d for _pk, d in teams}),
                team_id__in=team_ids,
            )
            .exclude(assignee_id=user.pk)
            .select_related("team", "assignee")
            .order_by("due_at", "pk")
            .only(
                *columns,
                "team__name_ro",
                "team__name_en",
                "assignee__username",
                "assignee__first_name",
                "assignee__last_name",
            )[: limit + 1]
        )
    return HomeCases(
        can_view=True,
        mine=mine[:limit],
        mine_more=len(mine) > limit,
        team=team[:limit],
        team_more=len(team) > limit,
        has_teams=bool(team_ids),
    )


@dataclass
class HomePanel:
    label: str
    template: str
    data: dict[str, Any]


def home_panels(user: AbstractBaseUser) -> list[HomePanel]:
    """The panels of the intranet's other parts that exist: each app's
    ``selectors.home_panel(user)`` rendered by its ``<label>/_home_panel.html``.

    A part that does not provide both yet is left out; an error inside one that does is
    not hidden.
    """
    panels = []
    for label in PANEL_LABELS:
        module_name = f"cetatea.intranet.{label}.selectors"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # The part (or its selectors) is not there yet; a missing import inside it is
            # a bug and is raised.
            if not exc.name or not (module_name + ".").startswith(exc.name + "."):
                raise
            continue
        provider = getattr(module, "home_panel", None)
        if provider is None:
            continue
        template_name = f"{label}/_home_panel.html"
        try:
            select_template([template_name])
        except TemplateDoesNotExist:
            continue
        panels.append(HomePanel(label=label, template=template_name, data=provider(user)))
    return panels


# --- the staff directory ------------------------------------------------------------------


@dataclass
class DirectoryFilters:
    query: str = ""
    department_id: int | None = None
    role: str = ""


@dataclass
class DirectoryRow:
    user: Any
    name: str
    department: Any
    teams: list
    roles: list  # lazy labels, translated when shown
    extension: str
    email: str


def staff_missing_from_directory(limit: int = 1000) -> list[int]:
    """Staff accounts without name keys yet (created by a bulk load), at most ``limit``."""
    return list(
        staff_users().filter(directory_entry__isnull=True).values_list("pk", flat=True)[:limit]
    )


def directory_page(filters: DirectoryFilters, *, page: str | int = 1) -> Page:
    """One page of the staff directory (rows: DirectoryRow), ordered by last name.

    A name is matched as a prefix of the folded "last first" or "first last" key, an
    index range on either column; department and role filter the same query. Teams and
    roles come in two prefetch queries for the whole page.
    """
    from cetatea.catalog.models import Team

    qs = staff_users()
    key = fold(filters.query)
    if key:
        upper = prefix_upper_bound(key)
        qs = qs.filter(
            Q(directory_entry__name_key__gte=key, directory_entry__name_key__lt=upper)
            | Q(directory_entry__name_key_rev__gte=key, directory_entry__name_key_rev__lt=upper)
        )
    if filters.department_id is not None:
        qs = qs.filter(staff_profile__department_id=filters.department_id)
    if filters.role:
        User = get_user_model()
        in_role = User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group__name=filters.role
        )
        qs = qs.filter(Exists(in_role))
    qs = (
        qs.select_related("staff_profile__department", "directory_entry")
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.filter(name__in=STAFF_ROLES)),
            Prefetch("teams", queryset=Team.objects.order_by("name_ro")),
        )
        .order_by("directory_entry__name_key", "pk")
    )
    result = Paginator(qs, DIRECTORY_PAGE_SIZE).get_page(page)
    result.object_list = [_directory_row(user) for user in result.object_list]
    return result


def _directory_row(user) -> DirectoryRow:
    profile = getattr(user, "staff_profile", None)
    order = {role: i for i, role in enumerate(STAFF_ROLES)}
    groups = sorted(user.groups.all(), key=lambda g: order.get(g.name, len(order)))
    return DirectoryRow(
        user=user,
        name=user.get_full_name() or user.get_username(),
        department=profile.department if profile else None,
        teams=list(user.teams.all()),
        roles=[ROLE_LABELS[g.name] for g in groups],
        extension=profile.phone_extension if profile else "",
        email=user.email,
    )
