"""The intranet's tasks (issue 9)."""

from django.db import models  # noqa: F401
