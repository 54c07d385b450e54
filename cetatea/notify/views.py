"""Staff views of notifications: what a case's citizen was told, and what failed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cetatea.cases.models import Case
from cetatea.notify import selectors


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
