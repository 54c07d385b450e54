"""Writes of the schedules app: shifts, roster generation and publishing, leave, swaps,
calendar feeds. Each service is one transaction; the rows whose state is checked are
locked first (``select_for_update``; SQLite transactions start IMMEDIATE, so writers
queue), so two people acting at once never both succeed where only one may.

Errors are ``ValidationError`` with a message a person can act on; nothing is written
when one is raised.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from cetatea.catalog.models import Team
from cetatea.intranet.schedules import clock, selectors
from cetatea.intranet.schedules.choices import (
    LEAVE_MOVES,
    SWAP_MOVES,
    LeaveKind,
    LeaveStatus,
    SwapStatus,
)
from cetatea.intranet.schedules.models import (
    CalendarFeed,
    CoverageRule,
    Leave,
    Post,
    Shift,
    ShiftPattern,
    Swap,
)

User = get_user_model()

MAX_SHIFT_HOURS = 24


def _when(start: dt.datetime, end: dt.datetime) -> str:
    start, end = timezone.localtime(start, clock.tz()), timezone.localtime(end, clock.tz())
    return f"{dateformat.format(start, 'D d.m.Y H:i')}–{end:%H:%M}"


def _lock_person(person_id: int) -> None:
    """Serialise every write that checks a person's overlaps (PostgreSQL row lock)."""
    list(User.objects.select_for_update().filter(pk=person_id).values_list("pk"))


def _check_free(
    person, start, end, *, exclude_id: int | None = None, field: str = "person"
) -> None:
    """ValidationError if the person already works then or is on approved leave."""
    clash = selectors.person_overlaps(person.pk, start, end, exclude_id=exclude_id).first()
    if clash is not None:
        raise ValidationError(
            {
                field: _(
                    "%(person)s already has a shift then: %(post)s, %(when)s. Shifts of one "
                    "person cannot overlap."
                )
                % {
                    "person": person.get_full_name() or person.get_username(),
                    "post": clash.post,
                    "when": _when(clash.start, clash.end),
                }
            }
        )
    leave = selectors.leave_over(person.pk, start, end)
    if leave is not None:
        raise ValidationError(
            {
                field: _("%(person)s is on approved leave from %(first)s to %(last)s.")
                % {
                    "person": person.get_full_name() or person.get_username(),
                    "first": leave.start_date.strftime("%d.%m.%Y"),
                    "last": leave.end_date.strftime("%d.%m.%Y"),
                }
            }
        )


# --- shifts -------------------------------------------------------------------------


def shift_save(
    *,
    actor,
    team: Team,
    post: Post,
    person,
    start: dt.datetime,
    end: dt.datetime,
    note: str = "",
    shift: Shift | None = None,
    version: int | None = None,
) -> Shift:
    """Create a draft shift, or edit ``shift`` if the form was made from ``version``."""
    if not selectors.can_plan(actor, team.pk):
        raise PermissionDenied
    if post.team_id != team.pk:
        raise ValidationError({"post": _("This post belongs to another team.")})
    if end <= start:
        raise ValidationError({"end": _("The end must be after the start.")})
    if end - start > dt.timedelta(hours=MAX_SHIFT_HOURS):
        raise ValidationError({"end": _("A shift lasts at most 24 hours.")})
    with transaction.atomic():
        if person is not None:
            _lock_person(person.pk)
        if shift is not None:
            current = Shift.objects.select_for_update().get(pk=shift.pk)
            if current.team_id != team.pk:
                raise PermissionDenied
            if current.is_cancelled:
                raise ValidationError(_("This shift was cancelled in the meantime."))
            if version is not None and current.version != version:
                raise ValidationError(
                    _(
                        "Someone else changed this shift while you were editing it. "
                        "Nothing was saved; the form shows the current version."
                    ),
                    code="stale",
                )
        if person is not None:
            _check_free(person, start, end, exclude_id=shift.pk if shift else None)
        if shift is None:
            return Shift.objects.create(
                team=team, post=post, person=person, start=start, end=end, note=note
            )
        current.post, current.person, current.start, current.end, current.note = (
            post,
            person,
            start,
            end,
            note,
        )
        current.version += 1
        current.save(
            update_fields=["post", "person", "start", "end", "note", "version", "updated_at"]
        )
        return current


def shift_cancel(*, actor, shift: Shift, version: int | None = None) -> Shift:
    """Cancel a shift (kept as a row, so generating the roster again does not bring it back)."""
    if not selectors.can_plan(actor, shift.team_id):
        raise PermissionDenied
    with transaction.atomic():
        current = Shift.objects.select_for_update().get(pk=shift.pk)
        if version is not None and current.version != version:
            raise ValidationError(
                _("Someone else changed this shift in the meantime; nothing was cancelled."),
                code="stale",
            )
        current.is_cancelled = True
        current.version += 1
        current.save(update_fields=["is_cancelled", "version", "updated_at"])
        Swap.objects.filter(
            shift=current, status__in=[SwapStatus.OFFERED, SwapStatus.ACCEPTED]
        ).update(status=SwapStatus.WITHDRAWN, reason=_("The shift was cancelled."))
        return current


@dataclass
class GenerateResult:
    created: int = 0
    kept: int = 0
    skipped: list[str] = field(default_factory=list)


def roster_generate(*, actor, team: Team, first: dt.date, last: dt.date) -> GenerateResult:
    """Create the draft shifts of the team's active patterns for ``first``..``last``.

    Idempotent: a shift already generated for a (pattern, member, day) is kept as it is,
    even if a planner edited, reassigned or cancelled it. A member who is on approved
    leave or already works then is skipped and named in the result.
    """
    if not selectors.can_plan(actor, team.pk):
        raise PermissionDenied
    if last < first:
        raise ValidationError({"last": _("The last day must not be before the first.")})
    if (last - first).days + 1 > selectors.MAX_RANGE_DAYS:
        raise ValidationError(
            {
                "last": _("Generate at most %(days)s days at once.")
                % {"days": selectors.MAX_RANGE_DAYS}
            }
        )
    result = GenerateResult()
    patterns = list(
        ShiftPattern.objects.filter(team=team, is_active=True, post__is_active=True)
        .select_related("post")
        .prefetch_related("members")
    )
    with transaction.atomic():
        existing = set(
            Shift.objects.filter(
                pattern__in=patterns, pattern_day__range=(first, last)
            ).values_list("pattern_id", "pattern_person_id", "pattern_day")
        )
        people = {m.pk: m for p in patterns for m in p.members.all()}
        for person_id in sorted(people):
            _lock_person(person_id)
        for day in clock.date_range(first, last):
            for pattern in patterns:
                if str(day.weekday()) not in pattern.weekdays:
                    continue
                start, end = clock.window(day, pattern.start_time, pattern.end_time)
                for member in pattern.members.all():
                    if (pattern.pk, member.pk, day) in existing:
                        result.kept += 1
                        continue
                    try:
                        _check_free(member, start, end)
                    except ValidationError as error:
                        result.skipped.append(" ".join(error.messages))
                        continue
                    Shift.objects.create(
                        team=team,
                        post=pattern.post,
                        person=member,
                        start=start,
                        end=end,
                        pattern=pattern,
                        pattern_day=day,
                        pattern_person=member,
                    )
                    result.created += 1
    return result


def roster_publish(
    *, actor, team: Team, first: dt.date, last: dt.date, notify: bool = False
) -> int:
    """Publish the team's draft shifts of ``first``..``last``; optionally e-mail each
    person with a shift there. Returns how many shifts were published."""
    if not selectors.can_plan(actor, team.pk):
        raise PermissionDenied
    start, end = clock.days_span(first, last)
    with transaction.atomic():
        drafts = Shift.objects.live().filter(
            team=team, published=False, start__gte=start, start__lt=end
        )
        people = set(drafts.exclude(person__isnull=True).values_list("person_id", flat=True))
        count = drafts.update(published=True, version=F("version") + 1)
        if notify and people:
            transaction.on_commit(lambda: _mail_published(team, first, last, people))
    return count


def _mail_published(team: Team, first: dt.date, last: dt.date, people: set[int]) -> None:
    url = settings.CETATEA_SITE_URL.rstrip("/") + reverse("schedules:index")
    messages = []
    for user in User.objects.filter(pk__in=people).exclude(email=""):
        subject = _("Your shifts %(first)s–%(last)s (%(team)s)") % {
            "first": first.strftime("%d.%m"),
            "last": last.strftime("%d.%m.%Y"),
            "team": team,
        }
        lines = [
            f"- {shift.post}: {_when(shift.start, shift.end)}"
            for shift in selectors.my_shifts(user, first, last)
        ]
        body = "\n".join([_("The roster was published. Your shifts:"), *lines, "", url])
        messages.append((subject, body, None, [user.email]))
    send_mass_mail(messages, fail_silently=True)


# --- leave --------------------------------------------------------------------------


def leave_request(
    *, person, start_date: dt.date, end_date: dt.date, kind: str, note: str = ""
) -> Leave:
    """A leave request, waiting for approval. Refused if it overlaps the person's other
    pending or approved leave."""
    if end_date < start_date:
        raise ValidationError({"end_date": _("The last day must not be before the first.")})
    if kind not in LeaveKind.values:
        raise ValidationError({"kind": _("Choose a kind of leave.")})
    with transaction.atomic():
        _lock_person(person.pk)
        clash = Leave.objects.filter(
            person=person,
            status__in=[LeaveStatus.PENDING, LeaveStatus.APPROVED],
            start_date__lte=end_date,
            end_date__gte=start_date,
        ).first()
        if clash is not None:
            raise ValidationError(
                {
                    "start_date": _(
                        "You already asked for leave from %(first)s to %(last)s (%(status)s)."
                    )
                    % {
                        "first": clash.start_date.strftime("%d.%m.%Y"),
                        "last": clash.end_date.strftime("%d.%m.%Y"),
                        "status": clash.get_status_display(),
                    }
                }
            )
        return Leave.objects.create(
            person=person,
            start_date=start_date,
            end_date=end_date,
            kind=kind,
            note=note,
            created_at=timezone.now(),
        )


def leave_decide(*, actor, leave: Leave, approve: bool, reason: str = "") -> list[Shift]:
    """Approve or refuse a pending leave request (refusing needs a reason).

    Approving releases the person's shifts during the leave, including shifts they took
    over in a swap: each becomes an open shift on the roster (no person), which the
    coverage warnings then show, and any open swap of those shifts is withdrawn. Returns
    the released shifts.
    """
    if not selectors.can_decide_leave(actor, leave):
        raise PermissionDenied
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Say why the leave is refused.")})
    with transaction.atomic():
        _lock_person(leave.person_id)
        current = Leave.objects.select_for_update().get(pk=leave.pk)
        target = LeaveStatus.APPROVED if approve else LeaveStatus.REFUSED
        if target not in LEAVE_MOVES[current.status]:
            raise ValidationError(
                _("This request was already decided: %(status)s.")
                % {"status": current.get_status_display()},
                code="decided",
            )
        released: list[Shift] = []
        if approve:
            start, end = clock.days_span(current.start_date, current.end_date)
            released = list(
                Shift.objects.live()
                .select_for_update()
                .filter(person_id=current.person_id)
                .overlapping(start, end)
            )
            ids = [s.pk for s in released]
            Shift.objects.filter(pk__in=ids).update(person=None, version=F("version") + 1)
            Swap.objects.filter(
                shift__in=ids, status__in=[SwapStatus.OFFERED, SwapStatus.ACCEPTED]
            ).update(
                status=SwapStatus.WITHDRAWN, reason=_("The holder is on leave; the shift is open.")
            )
            # Shifts of others that this person had accepted but not yet received.
            for swap in (
                Swap.objects.select_for_update()
                .filter(taker_id=current.person_id, status=SwapStatus.ACCEPTED)
                .select_related("shift")
            ):
                if swap.shift.start < end and swap.shift.end > start:
                    swap.status = SwapStatus.REFUSED
                    swap.reason = _("The colleague who accepted it is on leave then.")
                    swap.decided_by, swap.decided_at = actor, timezone.now()
                    swap.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        current.status = target
        current.reason = reason
        current.decided_by = actor
        current.decided_at = timezone.now()
        current.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    leave.status, leave.reason = current.status, current.reason
    return released


def leave_cancel(*, actor, leave: Leave) -> Leave:
    """The person withdraws their request (or approved leave that has not started).
    Shifts released by the approval stay open: the planner reassigns them."""
    if leave.person_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        current = Leave.objects.select_for_update().get(pk=leave.pk)
        if LeaveStatus.CANCELLED not in LEAVE_MOVES[current.status]:
            raise ValidationError(_("This request cannot be cancelled any more."))
        if current.status == LeaveStatus.APPROVED and current.start_date <= clock.today():
            raise ValidationError(
                _("Leave that has started cannot be cancelled here; ask a planner.")
            )
        current.status = LeaveStatus.CANCELLED
        current.save(update_fields=["status"])
    return current


# --- swaps --------------------------------------------------------------------------


def _auto_approve() -> bool:
    return bool(getattr(settings, "CETATEA_SCHEDULES_AUTO_APPROVE_SWAPS", False))


def swap_offer(*, actor, shift: Shift, offered_to=None, note: str = "") -> Swap:
    """Offer one's own published, future shift to a team member, or to the whole team."""
    if shift.person_id != actor.pk:
        raise PermissionDenied
    if shift.is_cancelled or not shift.published:
        raise ValidationError(_("Only a published shift can be offered."))
    if shift.start <= timezone.now():
        raise ValidationError(_("This shift has already started."))
    if offered_to is not None:
        if offered_to.pk == actor.pk:
            raise ValidationError({"offered_to": _("Choose a colleague.")})
        if not shift.team.members.filter(pk=offered_to.pk).exists():
            raise ValidationError({"offered_to": _("Choose a member of the shift's team.")})
    try:
        with transaction.atomic():
            return Swap.objects.create(
                shift=shift,
                offered_by=actor,
                offered_to=offered_to,
                note=note,
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise ValidationError(_("This shift is already offered.")) from None


def _transfer(swap: Swap, shift: Shift, actor) -> None:
    shift.person_id = swap.taker_id
    shift.version += 1
    shift.save(update_fields=["person", "version", "updated_at"])
    swap.status = SwapStatus.APPROVED
    swap.decided_by, swap.decided_at = actor, timezone.now()
    swap.save(update_fields=["status", "decided_by", "decided_at"])


def swap_accept(*, actor, swap: Swap) -> Swap:
    """Take an offered shift. Two colleagues accepting at once: the swap row is locked,
    the second finds it taken and gets a clear message."""
    with transaction.atomic():
        _lock_person(actor.pk)
        current = Swap.objects.select_for_update().get(pk=swap.pk)
        shift = (
            Shift.objects.select_for_update()
            .select_related("team", "post")
            .get(pk=current.shift_id)
        )
        if current.status != SwapStatus.OFFERED:
            raise ValidationError(
                _("Someone else has already taken this shift, or the offer was withdrawn."),
                code="taken",
            )
        if actor.pk == current.offered_by_id:
            raise ValidationError(_("You cannot take your own shift."))
        if current.offered_to_id is not None and current.offered_to_id != actor.pk:
            raise PermissionDenied
        if current.offered_to_id is None and not shift.team.members.filter(pk=actor.pk).exists():
            raise PermissionDenied
        if shift.start <= timezone.now():
            raise ValidationError(_("This shift has already started."))
        _check_free(actor, shift.start, shift.end)
        current.taker = actor
        current.accepted_at = timezone.now()
        current.status = SwapStatus.ACCEPTED
        current.save(update_fields=["taker", "accepted_at", "status"])
        if _auto_approve():
            _transfer(current, shift, None)
    return current


def swap_decide(*, actor, swap: Swap, approve: bool, reason: str = "") -> Swap:
    """A planner approves (the shift moves to the taker) or refuses an accepted swap."""
    if not selectors.can_plan(actor, swap.shift.team_id):
        raise PermissionDenied
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Say why the swap is refused.")})
    with transaction.atomic():
        if swap.taker_id:
            _lock_person(swap.taker_id)
        current = Swap.objects.select_for_update().get(pk=swap.pk)
        shift = Shift.objects.select_for_update().get(pk=current.shift_id)
        target = SwapStatus.APPROVED if approve else SwapStatus.REFUSED
        if current.status != SwapStatus.ACCEPTED or target not in SWAP_MOVES[current.status]:
            raise ValidationError(
                _("This swap was already decided: %(status)s.")
                % {"status": current.get_status_display()}
            )
        if approve:
            if shift.is_cancelled or shift.person_id != current.offered_by_id:
                raise ValidationError(
                    _("The shift changed since it was offered; the swap cannot be approved.")
                )
            _check_free(current.taker, shift.start, shift.end, exclude_id=shift.pk)
            _transfer(current, shift, actor)
        else:
            current.status = SwapStatus.REFUSED
            current.reason = reason
            current.decided_by, current.decided_at = actor, timezone.now()
            current.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    return current


def swap_withdraw(*, actor, swap: Swap) -> Swap:
    if swap.offered_by_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        current = Swap.objects.select_for_update().get(pk=swap.pk)
        if SwapStatus.WITHDRAWN not in SWAP_MOVES[current.status]:
            raise ValidationError(_("This swap is already closed."))
        current.status = SwapStatus.WITHDRAWN
        current.save(update_fields=["status"])
    return current


# --- calendar feeds -----------------------------------------------------------------


def feed_issue(*, user, team: Team | None = None) -> CalendarFeed:
    """Create the user's feed (personal or of a team they see), or give it a new token:
    the old URL stops working at once."""
    if team is not None and team.pk not in selectors.visible_team_ids(user):
        raise PermissionDenied
    with transaction.atomic():
        feed, created = CalendarFeed.objects.select_for_update().get_or_create(
            user=user,
            team=team,
            defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()},
        )
        if not created:
            feed.token = secrets.token_urlsafe(32)
            feed.created_at = timezone.now()
            feed.save(update_fields=["token", "created_at"])
    return feed


def feed_revoke(*, user, feed_id: int) -> None:
    CalendarFeed.objects.filter(pk=feed_id, user=user).delete()


# --- setup: posts, coverage rules, patterns ---------------------------------------------


def _weekdays(value) -> str:
    days = "".join(sorted(set(value)))
    if not days or any(d not in "0123456" for d in days):
        raise ValidationError({"weekdays": _("Choose at least one day of the week.")})
    return days


def post_create(*, actor, team: Team, name_ro: str, name_en: str = "", code: str) -> Post:
    """A new post of the team (a counter, a desk, a crew)."""
    if not selectors.can_plan(actor, team.pk):
        raise PermissionDenied
    if Post.objects.filter(code=code).exists():
        raise ValidationError({"code": _("This code is already used by another post.")})
    try:
        with transaction.atomic():
            return Post.objects.create(team=team, name_ro=name_ro, name_en=name_en, code=code)
    except IntegrityError:
        raise ValidationError({"code": _("This code is already used by another post.")}) from None


def coverage_rule_create(
    *, actor, post: Post, weekdays, start_time: dt.time, end_time: dt.time, min_staff: int
) -> CoverageRule:
    """At least ``min_staff`` people on the post in that window on those days."""
    if not selectors.can_plan(actor, post.team_id):
        raise PermissionDenied
    if min_staff < 1:
        raise ValidationError({"min_staff": _("The minimum is at least 1.")})
    with transaction.atomic():
        return CoverageRule.objects.create(
            post=post,
            weekdays=_weekdays(weekdays),
            start_time=start_time,
            end_time=end_time,
            min_staff=min_staff,
        )


def coverage_rule_delete(*, actor, rule: CoverageRule) -> None:
    if not selectors.can_plan(actor, rule.post.team_id):
        raise PermissionDenied
    rule.delete()


def pattern_save(
    *,
    actor,
    team: Team,
    post: Post,
    name: str,
    weekdays,
    start_time: dt.time,
    end_time: dt.time,
    members,
    is_active: bool = True,
    pattern: ShiftPattern | None = None,
) -> ShiftPattern:
    """Create or change a shift pattern. Changing it affects only shifts generated
    afterwards; shifts already generated stay as they are."""
    if not selectors.can_plan(actor, team.pk):
        raise PermissionDenied
    if post.team_id != team.pk:
        raise ValidationError({"post": _("This post belongs to another team.")})
    member_ids = {m.pk for m in members}
    outside = member_ids - set(team.members.values_list("pk", flat=True))
    if outside:
        raise ValidationError({"members": _("Only members of the team can be in its patterns.")})
    days = _weekdays(weekdays)
    with transaction.atomic():
        if pattern is None:
            pattern = ShiftPattern(team=team)
        elif pattern.team_id != team.pk:
            raise PermissionDenied
        pattern.post, pattern.name, pattern.weekdays = post, name, days
        pattern.start_time, pattern.end_time, pattern.is_active = start_time, end_time, is_active
        pattern.save()
        pattern.members.set(member_ids)
    return pattern
