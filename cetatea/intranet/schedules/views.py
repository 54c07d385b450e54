"""The schedules pages (thin: a form, one service or selector, a template)."""

from __future__ import annotations

import calendar
import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cetatea.intranet.schedules import clock, ical, selectors, services
from cetatea.intranet.schedules.choices import LeaveStatus, SwapStatus
from cetatea.intranet.schedules.forms import (
    CoverageRuleForm,
    DecisionForm,
    LeaveForm,
    OfferForm,
    PatternForm,
    PostForm,
    RangeForm,
    ShiftForm,
)
from cetatea.intranet.schedules.models import CalendarFeed, CoverageRule, ShiftPattern
from cetatea.intranet.selectors import access_intranet


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"section": "schedules", **context}, status=status)


def _errors_to_form(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _parse_day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


# --- overview and roster ------------------------------------------------------------


@require_GET
def index(request):
    access_intranet(request.user)
    today = clock.today()
    return _page(
        request,
        "schedules/index.html",
        {
            "shifts": selectors.my_shifts(request.user, today, today + dt.timedelta(days=13)),
            "teams": selectors.teams_for(request.user),
            "planned": selectors.planned_team_ids(request.user),
            "today": today,
        },
    )


def _roster_page(request, team_id: int, first: dt.date, last: dt.date, view: str, nav: dict):
    team = selectors.access_team(request.user, team_id)
    data = selectors.roster(request.user, team, first, last)
    return _page(
        request,
        "schedules/roster.html",
        {
            "team": team,
            "roster": data,
            "view": view,
            "first": first,
            "last": last,
            "today": clock.today(),
            "range_form": RangeForm(initial={"first": first, "last": last}),
            **nav,
        },
    )


@require_GET
def week(request, team_id: int):
    monday = clock.monday_of(_parse_day(request.GET.get("start"), clock.today()))
    nav = {
        "prev": f"?start={monday - dt.timedelta(days=7):%Y-%m-%d}",
        "next": f"?start={monday + dt.timedelta(days=7):%Y-%m-%d}",
        "heading": _("Week of %(day)s") % {"day": monday.strftime("%d.%m.%Y")},
    }
    return _roster_page(request, team_id, monday, monday + dt.timedelta(days=6), "week", nav)


@require_GET
def month(request, team_id: int):
    first = _parse_day((request.GET.get("month") or "") + "-01", clock.today()).replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    nav = {
        "prev": f"?month={prev_month:%Y-%m}",
        "next": f"?month={next_month:%Y-%m}",
        "heading": _("Month %(month)s") % {"month": first.strftime("%m.%Y")},
    }
    return _roster_page(request, team_id, first, last, "month", nav)


# --- shifts -------------------------------------------------------------------------


def _shift_form(team, data=None, initial=None):
    return ShiftForm(
        data,
        initial=initial,
        posts=selectors.team_posts(team),
        people=selectors.team_people(team),
    )


def shift_new(request, team_id: int):
    team = selectors.access_team_plan(request.user, team_id)
    if request.method == "POST":
        form = _shift_form(team, request.POST)
        if form.is_valid():
            start, end = form.interval()
            try:
                shift = services.shift_save(
                    actor=request.user,
                    team=team,
                    post=form.cleaned_data["post"],
                    person=form.cleaned_data["person"],
                    start=start,
                    end=end,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("The shift was added as a draft."))
                return redirect(_week_url(team.pk, clock.local_date(shift.start)))
        status = 400
    else:
        day = _parse_day(request.GET.get("day"), clock.today())
        form = _shift_form(team, initial={"day": day, "start_time": "08:00", "end_time": "16:00"})
        status = 200
    return _page(request, "schedules/shift_form.html", {"team": team, "form": form}, status)


def _week_url(team_id: int, day: dt.date) -> str:
    return reverse("schedules:week", args=[team_id]) + f"?start={clock.monday_of(day):%Y-%m-%d}"


def shift_detail(request, shift_id: int):
    shift = selectors.access_shift(request.user, shift_id)
    team = shift.team
    planner = selectors.can_plan(request.user, team.pk)
    form = None
    status = 200
    if planner and not shift.is_cancelled:
        local_start = timezone.localtime(shift.start, clock.tz())
        local_end = timezone.localtime(shift.end, clock.tz())
        initial = {
            "post": shift.post_id,
            "person": shift.person_id,
            "day": local_start.date(),
            "start_time": local_start.time(),
            "end_time": local_end.time(),
            "note": shift.note,
            "version": shift.version,
        }
        if request.method == "POST":
            form = _shift_form(team, request.POST)
            if form.is_valid():
                start, end = form.interval()
                try:
                    services.shift_save(
                        actor=request.user,
                        team=team,
                        post=form.cleaned_data["post"],
                        person=form.cleaned_data["person"],
                        start=start,
                        end=end,
                        note=form.cleaned_data["note"],
                        shift=shift,
                        version=form.cleaned_data["version"],
                    )
                except ValidationError as error:
                    _errors_to_form(form, error)
                    if getattr(error, "code", None) == "stale":
                        shift.refresh_from_db()
                else:
                    messages.success(request, _("The shift was saved."))
                    return redirect(_week_url(team.pk, clock.local_date(start)))
            status = 400
        else:
            form = _shift_form(team, initial=initial)
    elif request.method == "POST":
        raise PermissionDenied
    offer_form = None
    if shift.person_id == request.user.pk and shift.published and not shift.is_cancelled:
        offer_form = OfferForm(people=selectors.team_people(team).exclude(pk=request.user.pk))
    return _page(
        request,
        "schedules/shift.html",
        {
            "shift": shift,
            "team": team,
            "form": form,
            "offer_form": offer_form,
            "open_swap": shift.swaps.filter(
                status__in=[SwapStatus.OFFERED, SwapStatus.ACCEPTED]
            ).first(),
        },
        status,
    )


@require_POST
def shift_cancel(request, shift_id: int):
    shift = selectors.access_shift(request.user, shift_id)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.shift_cancel(actor=request.user, shift=shift, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("schedules:shift", shift_id=shift.pk)
    messages.success(request, _("The shift was cancelled."))
    return redirect(_week_url(shift.team_id, clock.local_date(shift.start)))


@require_POST
def shift_offer(request, shift_id: int):
    shift = selectors.access_shift(request.user, shift_id)
    form = OfferForm(
        request.POST, people=selectors.team_people(shift.team).exclude(pk=request.user.pk)
    )
    if form.is_valid():
        try:
            swap = services.swap_offer(
                actor=request.user,
                shift=shift,
                offered_to=form.cleaned_data["offered_to"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The shift is offered."))
            return redirect("schedules:swap", swap_id=swap.pk)
    else:
        messages.error(request, _("Choose a colleague from the list."))
    return redirect("schedules:shift", shift_id=shift.pk)


@require_POST
def generate(request, team_id: int):
    team = selectors.access_team_plan(request.user, team_id)
    form = RangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_week_url(team.pk, clock.today()))
    first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    try:
        result = services.roster_generate(actor=request.user, team=team, first=first, last=last)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(created)s draft shifts created, %(kept)s already there and kept.")
            % {"created": result.created, "kept": result.kept},
        )
        for line in result.skipped[:20]:
            messages.warning(request, _("Skipped: %(why)s") % {"why": line})
    return redirect(_week_url(team.pk, first))


@require_POST
def publish(request, team_id: int):
    team = selectors.access_team_plan(request.user, team_id)
    form = RangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_week_url(team.pk, clock.today()))
    first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    count = services.roster_publish(
        actor=request.user, team=team, first=first, last=last, notify=form.cleaned_data["notify"]
    )
    messages.success(request, _("%(count)s shifts published.") % {"count": count})
    return redirect(_week_url(team.pk, first))


# --- leave --------------------------------------------------------------------------


def leave_list(request):
    access_intranet(request.user)
    status = 200
    if request.method == "POST":
        form = LeaveForm(request.POST)
        if form.is_valid():
            try:
                leave = services.leave_request(person=request.user, **form.cleaned_data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Your leave request was sent for approval."))
                return redirect("schedules:leave_detail", leave_id=leave.pk)
        status = 400
    else:
        form = LeaveForm()
    page = selectors.my_leave_page(request.user, cursor=request.GET.get("cursor", ""))
    return _page(
        request,
        "schedules/leave_list.html",
        {
            "form": form,
            "page": page,
            "can_approve": request.user.has_perm("schedules.approve_leave"),
        },
        status,
    )


@require_GET
def leave_pending(request):
    access_intranet(request.user)
    if not request.user.has_perm("schedules.approve_leave"):
        raise PermissionDenied
    page = selectors.pending_leave_page(request.user, cursor=request.GET.get("cursor", ""))
    return _page(request, "schedules/leave_pending.html", {"page": page})


def leave_detail(request, leave_id: int):
    leave = selectors.access_leave(request.user, leave_id)
    can_decide = leave.status == LeaveStatus.PENDING and selectors.can_decide_leave(
        request.user, leave
    )
    form = DecisionForm() if can_decide else None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            try:
                services.leave_cancel(actor=request.user, leave=leave)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The leave request was cancelled."))
            return redirect("schedules:leave_detail", leave_id=leave.pk)
        if not can_decide:
            raise PermissionDenied
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                released = services.leave_decide(
                    actor=request.user,
                    leave=leave,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                if released:
                    messages.warning(
                        request,
                        _("Leave approved; %(count)s shifts are now open and need someone.")
                        % {"count": len(released)},
                    )
                else:
                    messages.success(request, _("The decision was saved."))
                return redirect("schedules:leave_detail", leave_id=leave.pk)
        status = 400
    shifts = selectors.leave_shifts(leave) if leave.status in (LeaveStatus.PENDING,) else []
    warnings = []
    if shifts and can_decide:
        posts = list({s.post_id: s.post for s in shifts}.values())
        warnings = selectors.coverage_warnings(
            posts, leave.start_date, leave.end_date, without={s.pk for s in shifts}
        )
    return _page(
        request,
        "schedules/leave_detail.html",
        {
            "leave": leave,
            "form": form,
            "shifts": shifts,
            "warnings": warnings[:50],
            "is_owner": leave.person_id == request.user.pk,
        },
        status,
    )


# --- swaps --------------------------------------------------------------------------


@require_GET
def swap_list(request):
    access_intranet(request.user)
    return _page(request, "schedules/swaps.html", {"swaps": selectors.swaps_for(request.user)})


def swap_detail(request, swap_id: int):
    swap = selectors.access_swap(request.user, swap_id)
    planner = selectors.can_plan(request.user, swap.shift.team_id)
    form = DecisionForm() if planner and swap.status == SwapStatus.ACCEPTED else None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                swap = services.swap_accept(actor=request.user, swap=swap)
                messages.success(
                    request,
                    _("The shift is yours.")
                    if swap.status == SwapStatus.APPROVED
                    else _("You accepted; a planner will confirm."),
                )
                return redirect("schedules:swap", swap_id=swap.pk)
            if action == "withdraw":
                services.swap_withdraw(actor=request.user, swap=swap)
                messages.success(request, _("The offer was withdrawn."))
                return redirect("schedules:swap", swap_id=swap.pk)
            if action == "decide" and form is not None:
                form = DecisionForm(request.POST)
                if form.is_valid():
                    services.swap_decide(
                        actor=request.user,
                        swap=swap,
                        approve=form.cleaned_data["decision"] == "approve",
                        reason=form.cleaned_data["reason"],
                    )
                    messages.success(request, _("The decision was saved."))
                    return redirect("schedules:swap", swap_id=swap.pk)
                status = 400
            else:
                raise PermissionDenied
        except ValidationError as error:
            if form is not None and action == "decide":
                _errors_to_form(form, error)
            else:
                messages.error(request, " ".join(error.messages))
            status = 400
    can_accept = (
        swap.status == SwapStatus.OFFERED
        and swap.offered_by_id != request.user.pk
        and (swap.offered_to_id in (None, request.user.pk))
    )
    return _page(
        request,
        "schedules/swap.html",
        {
            "swap": swap,
            "form": form,
            "can_accept": can_accept,
            "warnings": selectors.swap_warnings(swap) if form is not None else [],
        },
        status,
    )


# --- calendar feeds -----------------------------------------------------------------


def feeds(request):
    access_intranet(request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "issue":
            team = None
            if request.POST.get("team"):
                team = selectors.access_team(request.user, _int(request.POST["team"]))
            services.feed_issue(user=request.user, team=team)
            messages.success(
                request, _("A new calendar address was made; the old one no longer works.")
            )
        elif action == "revoke":
            services.feed_revoke(user=request.user, feed_id=_int(request.POST.get("feed")))
            messages.success(request, _("The calendar address was revoked."))
        return redirect("schedules:feeds")
    mine = list(CalendarFeed.objects.filter(user=request.user).select_related("team"))
    for feed in mine:
        feed.url = request.build_absolute_uri(reverse("schedules:ical", args=[feed.token]))
    return _page(
        request,
        "schedules/feeds.html",
        {"feeds": mine, "teams": selectors.teams_for(request.user)},
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@require_GET
def ical_feed(request, token: str):
    """The feed, found by its secret token; no login (calendar apps cannot log in)."""
    feed = get_object_or_404(CalendarFeed.objects.select_related("user", "team"), token=token)
    user = feed.user
    if not user.is_active or not user.has_perm("intranet.use_intranet"):
        raise Http404
    if feed.team_id and feed.team_id not in selectors.visible_team_ids(user):
        raise Http404
    response = HttpResponse(ical.build(feed), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- setup: posts, coverage rules, patterns ---------------------------------------------


def _setup_forms(team, data=None, which: str = ""):
    posts = selectors.team_posts(team)
    people = selectors.team_people(team)
    return {
        "post_form": PostForm(data if which == "post" else None, prefix="post"),
        "rule_form": CoverageRuleForm(
            data if which == "rule" else None, prefix="rule", posts=posts
        ),
        "pattern_form": PatternForm(
            data if which == "pattern" else None, prefix="pattern", posts=posts, people=people
        ),
    }


def setup(request, team_id: int):
    """The team's posts with their coverage rules, and its shift patterns (planners)."""
    team = selectors.access_team_plan(request.user, team_id)
    status = 200
    which = request.POST.get("form", "") if request.method == "POST" else ""
    forms = _setup_forms(team, request.POST, which)
    if request.method == "POST":
        if which == "delete_rule":
            rule = get_object_or_404(
                CoverageRule, pk=_int(request.POST.get("rule")), post__team=team
            )
            services.coverage_rule_delete(actor=request.user, rule=rule)
            messages.success(request, _("The coverage rule was removed."))
            return redirect("schedules:setup", team_id=team.pk)
        form = forms.get(f"{which}_form")
        if form is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                if which == "post":
                    services.post_create(actor=request.user, team=team, **data)
                elif which == "rule":
                    services.coverage_rule_create(actor=request.user, **data)
                else:
                    services.pattern_save(actor=request.user, team=team, **data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("schedules:setup", team_id=team.pk)
        status = 400
    return _page(
        request,
        "schedules/setup.html",
        {
            "team": team,
            "posts": selectors.team_posts(team).prefetch_related("rules"),
            "patterns": selectors.team_patterns(team),
            **forms,
        },
        status,
    )


def pattern_edit(request, team_id: int, pattern_id: int):
    team = selectors.access_team_plan(request.user, team_id)
    pattern = get_object_or_404(ShiftPattern, pk=pattern_id, team=team)
    kwargs = {"posts": selectors.team_posts(team), "people": selectors.team_people(team)}
    status = 200
    if request.method == "POST":
        form = PatternForm(request.POST, prefix="pattern", **kwargs)
        if form.is_valid():
            try:
                services.pattern_save(
                    actor=request.user, team=team, pattern=pattern, **form.cleaned_data
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("The pattern was saved."))
                return redirect("schedules:setup", team_id=team.pk)
        status = 400
    else:
        form = PatternForm(
            prefix="pattern",
            initial={
                "name": pattern.name,
                "post": pattern.post_id,
                "weekdays": list(pattern.weekdays),
                "start_time": pattern.start_time,
                "end_time": pattern.end_time,
                "members": [m.pk for m in pattern.members.all()],
                "is_active": pattern.is_active,
            },
            **kwargs,
        )
    return _page(
        request,
        "schedules/pattern.html",
        {"team": team, "pattern": pattern, "form": form},
        status,
    )
