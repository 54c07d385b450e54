"""The intranet's documents (issue 9)."""

from django.db import models  # noqa: F401
