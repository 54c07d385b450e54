"""The staff's phone robot screens: a person's PIN and locks (a panel of the 360° page,
or a page of its own without JavaScript), and the robot's call figures and locks.

Thin views: ``robot.selectors`` says who may and reads, ``robot.pins`` writes and audits.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cetatea.core.clientip import client_ip
from cetatea.telephony.forms import RobotPeriodForm, RobotPinIssueForm
from cetatea.telephony.robot import pins, selectors

DEFAULT_PERIOD_DAYS = 30


def _merged(request, person):
    """A merged record's PIN is the survivor's: send the clerk there, changing nothing."""
    messages.error(
        request,
        _("This record was merged; nothing was changed. Showing the record it was merged into."),
    )
    return redirect("telephony:robot_person", person_id=person.merged_into_id)


def _person_context(person, form: RobotPinIssueForm | None = None, error: str = "") -> dict:
    status = selectors.robot_pin_status(person)
    return {
        "person": person,
        "status": status,
        "form": form or RobotPinIssueForm(initial={"version": status.version}),
        "error": error,
    }


@require_GET
@login_required
@never_cache
def robot_person(request, person_id: int):
    """The PIN and locks of a person: the 360° page's panel (htmx) or a page of its own."""
    person = selectors.access_robot_pins(request.user, person_id)
    if person.merged_into_id and not request.htmx:
        return redirect("telephony:robot_person", person_id=person.merged_into_id)
    template = (
        "telephony/robot/_person_panel.html" if request.htmx else "telephony/robot/person.html"
    )
    return render(request, template, _person_context(person))


@require_POST
@login_required
@never_cache
def robot_pin_issue(request, person_id: int):
    """Issue or reset the PIN. A generated PIN is shown on this response only, once."""
    person = selectors.access_robot_pins(request.user, person_id)
    if person.merged_into_id:
        return _merged(request, person)
    form = RobotPinIssueForm(request.POST)
    if form.is_valid():
        try:
            issued = pins.robot_pin_issue(
                person_id=person.pk,
                actor=request.user,
                version=form.cleaned_data["version"],
                pin=form.cleaned_data["pin"],
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "stale":
                context = _person_context(person, error=exc.messages[0])
                return render(request, "telephony/robot/person.html", context, status=409)
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            if issued.generated:
                context = {"person": person, "pin": issued.generated, "issued": issued}
                return render(request, "telephony/robot/pin_issued.html", context)
            messages.success(request, _("The PIN was saved. The person can use it now."))
            if issued.unlocked:
                messages.info(request, _("The phone robot was unlocked for this person."))
            return redirect("telephony:robot_person", person_id=person.pk)
    context = _person_context(person, form=form)
    return render(request, "telephony/robot/person.html", context, status=400)


@require_POST
@login_required
def robot_unlock(request, person_id: int):
    person = selectors.access_robot_pins(request.user, person_id)
    if person.merged_into_id:
        return _merged(request, person)
    unlocked = pins.robot_person_unlock(
        person_id=person.pk, actor=request.user, ip_address=client_ip(request)
    )
    if unlocked:
        messages.success(
            request,
            ngettext(
                "The phone robot was unlocked (%(n)d identity).",
                "The phone robot was unlocked (%(n)d identities).",
                unlocked,
            )
            % {"n": unlocked},
        )
    else:
        messages.info(request, _("The phone robot was not locked for this person."))
    return redirect("telephony:robot_person", person_id=person.pk)


@require_GET
@login_required
def robot_report(request):
    """The robot's call figures over a period (the last 30 days by default) and its locks."""
    selectors.access_robot_kpis(request.user)
    today = timezone.localdate()
    default = {"start": today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1), "end": today}
    given = {k: request.GET[k] for k in ("start", "end") if k in request.GET}
    form = RobotPeriodForm({**{k: v.isoformat() for k, v in default.items()}, **given})
    report = None
    if form.is_valid():
        report = selectors.robot_report(
            start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    locks = selectors.robot_locks(page=page, page_size=settings.CETATEA_PAGE_SIZE)
    context = {"form": form, "report": report, "locks": locks}
    return render(request, "telephony/robot/report.html", context, status=200 if report else 400)
