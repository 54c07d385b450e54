"""Background work of cases (Django Tasks API, django-tasks backport)."""

from __future__ import annotations

from django_tasks import task

from cetatea.cases.photos import process_photo


@task()
def process_photo_task(photo_id: int) -> None:
    """Make the public copies of an accepted photo (see ``cases.photos``)."""
    process_photo(photo_id)
