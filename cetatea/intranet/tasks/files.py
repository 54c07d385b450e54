"""Task attachments: the size limit and the number of files a task may have.

What is refused (programs, scripts, macro Office files, web pages, by name and by
content) is the shared policy for staff uploads in ``cetatea.core.uploads``.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_FILES_PER_TASK = 30


def max_bytes() -> int:
    return int(getattr(settings, "CETATEA_TASK_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))
