"""The intranet's schedules (issue 9)."""

from django.db import models  # noqa: F401
