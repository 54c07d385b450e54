"""File storage on local disk that leaves nothing behind when a write fails.

Django's ``FileSystemStorage`` keeps a partly written file when the disk fills up (or a
quota is reached) in the middle of a save: the caller gets the ``OSError`` but never the
name, so nobody can remove it. This subclass removes it. The settings use it for the
default storage and for the private one (photo originals, staff files).
"""

from __future__ import annotations

import contextlib
import os
import threading

from django.core.files import storage


class FileSystemStorage(storage.FileSystemStorage):
    """``FileSystemStorage`` that removes the file of a save that failed."""

    _saving = threading.local()

    def path(self, name: str) -> str:
        full_path = super().path(name)
        if getattr(self._saving, "active", False):
            self._saving.last = full_path  # the path _save is about to create
        return full_path

    def _save(self, name, content):
        self._saving.active, self._saving.last = True, None
        try:
            return super()._save(name, content)
        except FileExistsError:
            raise  # a directory in the way: nothing of ours was written
        except OSError:
            # The file is opened with O_EXCL (a name that exists is retried under another
            # name inside _save), so a file at the last path tried is the one this save
            # created, partly written.
            if self._saving.last:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self._saving.last)
            raise
        finally:
            self._saving.active, self._saving.last = False, None
