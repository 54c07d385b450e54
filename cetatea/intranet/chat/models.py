"""The intranet's messages (issue 9)."""

from django.db import models  # noqa: F401
