"""A test-only task for ``test_faults_worker``: the real photo processing with a pause
after the public copies are written and before the photo is marked READY (the worst
moment for a worker to die). The first run waits for a ``go`` file; the test kills its
worker there."""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

from django_tasks import task


@task()
def process_photo_pausing(photo_id: int, gate: str) -> None:
    from cetatea.cases import photos

    store = photos._store

    def store_then_wait(*args, **kwargs):
        names = store(*args, **kwargs)
        Path(gate, "stored").touch()
        deadline = time.monotonic() + 120
        while not Path(gate, "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return names

    with mock.patch.object(photos, "_store", store_then_wait):
        photos.process_photo(photo_id)
