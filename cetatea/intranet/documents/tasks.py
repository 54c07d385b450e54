"""Background work of documents (Django Tasks API, django-tasks backport)."""

from __future__ import annotations

from django_tasks import task

from cetatea.intranet.documents.services import document_text_extract


@task()
def extract_text_task(document_id: int, number: int) -> None:
    """Read an uploaded version's text into the search index (``services``)."""
    document_text_extract(document_id, number)
