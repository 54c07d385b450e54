"""Staff views of notifications: what a case's citizen was told, what failed, send again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cetatea.cases.models import Case
from cetatea.notify import selectors, services
from cetatea.notify.models import Notification


@require_GET
@login_required
@permission_required("cases.view_case", raise_exception=True)
def case_notifications(request, case_id: int):
    """The case's messages; an htmx request gets the fragment the case page includes."""
    case = get_object_or_404(Case.objects.only("pk", "reference", "title"), pk=case_id)
    context = {
        "case": case,
        "notifications": selectors.case_notifications(
            case_id=case.pk, page=request.GET.get("page") or 1
        ),
        "failed_count": selectors.case_failed_notifications_count(case_id=case.pk),
    }
    template = "notify/_case_notifications.html"
    if not request.htmx:
        template = "notify/case_notifications.html"
    return render(request, template, context)


@require_POST
@login_required
@permission_required("cases.view_case", raise_exception=True)
def notification_resend(request, notification_id: int):
    """ "Send again" for a failed message; back to the case page with what happened.

    The service refuses (403) a role that cannot work cases, and a message that was
    sent or is already queued (a double submit) with a message saying so.
    """
    notification = get_object_or_404(Notification.objects.only("pk", "case_id"), pk=notification_id)
    try:
        services.notification_resend(notification_id=notification.pk, actor=request.user)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message was queued and will be sent again shortly."))
    return redirect("console:case", case_id=notification.case_id)
