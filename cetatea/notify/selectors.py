"""Reads of notifications: what a case's citizen was told, and what could not be sent."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from cetatea.notify.models import Notification

PAGE_SIZE = 20


def case_notifications(*, case_id: int, page: int | str = 1) -> Page:
    """The messages about one case, newest first, a page at a time."""
    qs = Notification.objects.filter(case_id=case_id).order_by("-created_at", "-id")
    return Paginator(qs, PAGE_SIZE).get_page(page)


def case_failed_notifications_count(*, case_id: int) -> int:
    """How many messages about a case failed for good (shown as a warning on the case)."""
    return Notification.objects.failed().filter(case_id=case_id).count()
