"""The intranet's home, announcements and staff directory (thin views)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cetatea.cases.choices import Status
from cetatea.intranet import selectors, services
from cetatea.intranet.forms import AnnouncementForm, DirectoryForm
from cetatea.intranet.markup import render_body

ANNOUNCEMENTS_PAGE_SIZE = 20


def _page_number(request, name: str = "page") -> int:
    try:
        return max(1, int(request.GET.get(name, "1")))
    except ValueError:
        return 1


@require_GET
@login_required
def home(request):
    selectors.access_intranet(request.user)
    unread = selectors.unread_announcements(request.user)
    latest = selectors.announcement_page(request.user, page_size=selectors.HOME_ANNOUNCEMENTS)
    context = {
        "section": "home",
        "cases": selectors.home_cases(request.user),
        "status_labels": dict(Status.choices),
        "unread": unread[: selectors.HOME_ANNOUNCEMENTS],
        "unread_more": len(unread) > selectors.HOME_ANNOUNCEMENTS,
        "latest": latest.items,
        "panels": selectors.home_panels(request.user),
        "my_queue": reverse("console:queue")
        + "?"
        + urlencode({"department": "", "assigned": "me"}),
        "team_queue": reverse("console:queue")
        + "?"
        + urlencode({"department": "", "team": "mine"}),
    }
    return render(request, "intranet/home.html", context)


# --- announcements ------------------------------------------------------------------------


@require_GET
@login_required
def announcements(request):
    selectors.access_intranet(request.user)
    page = selectors.announcement_page(
        request.user, number=_page_number(request), page_size=ANNOUNCEMENTS_PAGE_SIZE
    )
    context = {
        "section": "announcements",
        "page": page,
        "can_publish": request.user.has_perm("intranet.publish_announcement"),
    }
    return render(request, "intranet/announcements.html", context)


@require_GET
@login_required
def announcement_detail(request, announcement_id: int):
    announcement = selectors.access_announcement(request.user, announcement_id)
    if announcement.unpublished_at is None:
        services.announcement_mark_read(announcement=announcement, user=request.user)
    can_receipts = selectors.can_see_receipts(request.user, announcement)
    context = {
        "section": "announcements",
        "announcement": announcement,
        "body": render_body(announcement.body, announcement.body_format),
        "can_edit": selectors.can_edit_announcement(request.user, announcement),
        "summary": selectors.receipt_summary(announcement) if can_receipts else None,
    }
    return render(request, "intranet/announcement.html", context)


@require_POST
@login_required
def announcement_read(request, announcement_id: int):
    """The explicit "Mark as read" button of the list (works without opening it)."""
    announcement = selectors.access_announcement(request.user, announcement_id)
    if announcement.unpublished_at is None:
        services.announcement_mark_read(announcement=announcement, user=request.user)
    if request.htmx:
        return render(request, "intranet/_read_mark.html", {"item": announcement})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    return redirect(back or reverse("intranet:announcements"))


def _form_errors(form, exc: ValidationError) -> None:
    """The service's errors on the form, by field where it names one (codes kept)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_http_methods(["GET", "POST"])
@login_required
def announcement_new(request):
    selectors.access_publish(request.user)
    if request.method == "POST":
        form = AnnouncementForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                announcement = services.announcement_publish(
                    author=request.user,
                    title=data["title"],
                    body=data["body"],
                    body_format=data["body_format"],
                    department=data["department"],
                    pinned=data["pinned"],
                    submit_token=data["submit_token"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The announcement was published."))
                return redirect("intranet:announcement", announcement.pk)
        status = 400
    else:
        form = AnnouncementForm(initial={"submit_token": uuid.uuid4()})
        status = 200
    context = {"section": "announcements", "form": form, "editing": None}
    return render(request, "intranet/announcement_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def announcement_edit(request, announcement_id: int):
    announcement = selectors.access_announcement_edit(request.user, announcement_id)
    if request.method == "POST":
        form = AnnouncementForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.announcement_update(
                    announcement_id=announcement.pk,
                    actor=request.user,
                    version=data["version"] or 0,
                    title=data["title"],
                    body=data["body"],
                    body_format=data["body_format"],
                    department=data["department"],
                    pinned=data["pinned"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The announcement was saved."))
                return redirect("intranet:announcement", announcement.pk)
        status = 400
    else:
        form = AnnouncementForm(
            initial={
                "title": announcement.title,
                "body": announcement.body,
                "body_format": announcement.body_format,
                "department": announcement.department_id,
                "pinned": announcement.pinned,
                "version": announcement.version,
            }
        )
        status = 200
    context = {"section": "announcements", "form": form, "editing": announcement}
    return render(request, "intranet/announcement_form.html", context, status=status)


@require_POST
@login_required
def announcement_unpublish(request, announcement_id: int):
    announcement = selectors.access_announcement_edit(request.user, announcement_id)
    services.announcement_unpublish(announcement_id=announcement.pk, actor=request.user)
    messages.success(request, _("The announcement was withdrawn."))
    return redirect("intranet:announcements")


@require_GET
@login_required
def announcement_receipts(request, announcement_id: int):
    announcement = selectors.access_announcement_receipts(request.user, announcement_id)
    context = {
        "section": "announcements",
        "announcement": announcement,
        "summary": selectors.receipt_summary(announcement),
        "readers": selectors.receipt_readers(announcement, page=request.GET.get("read", 1)),
        "non_readers": selectors.receipt_non_readers(
            announcement, page=request.GET.get("unread", 1)
        ),
    }
    return render(request, "intranet/receipts.html", context)


# --- the staff directory ------------------------------------------------------------------


@require_GET
@login_required
def directory(request):
    selectors.access_intranet(request.user)
    missing = selectors.staff_missing_from_directory()
    if missing:  # accounts created by a bulk load since the last sync
        services.directory_sync(user_ids=missing)
    form = DirectoryForm(request.GET or None)
    page = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        filters = selectors.DirectoryFilters(
            query=data.get("q", ""),
            department_id=data["department"].pk if data.get("department") else None,
            role=data.get("role", ""),
        )
        page = selectors.directory_page(filters, page=data.get("page") or 1)
        status = 200
    query = request.GET.copy()
    query.pop("page", None)
    context = {"section": "directory", "form": form, "page": page, "query": query.urlencode()}
    if request.htmx:
        return render(request, "intranet/_directory_results.html", context, status=status)
    return render(request, "intranet/directory.html", context, status=status)
