"""Model fields shared by several apps."""

from __future__ import annotations

from django.db import models


class SearchKeyField(models.CharField):
    """A folded search key (``[a-z0-9 ]``) compared byte by byte.

    On PostgreSQL the column gets the "C" collation so that prefix searches written as
    ``key >= 'pop' AND key < 'poq'`` are plain B-tree range scans whatever the database's
    locale; SQLite compares bytes (BINARY) by default.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
