"""Background work of notifications (Django Tasks API, django-tasks backport)."""

from __future__ import annotations

from django_tasks import task


@task()
def send_notification_task(notification_id: int) -> None:
    """First attempt at a message, right after the commit that queued it."""
    from cetatea.notify.services import notification_send

    notification_send(notification_id=notification_id)
