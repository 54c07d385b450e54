"""The intranet's demo data."""

from __future__ import annotations

from cetatea.catalog.models import Department
from cetatea.intranet import selectors
from cetatea.intranet.demo import seed_intranet_demo
from cetatea.intranet.models import Announcement, DirectoryEntry


def test_demo_announcements_are_created_once(staffed):
    Department.objects.create(code="drumuri-utilitati", name_ro="Drumuri și utilități")
    users = {key: staffed[key] for key in ("operator", "clerk", "staff", "manager", "admin")}
    created = seed_intranet_demo(users)
    assert len(created) == 3
    assert seed_intranet_demo(users) == []
    assert Announcement.objects.count() == 3
    assert Announcement.objects.filter(pinned=True).count() == 1
    assert all(DirectoryEntry.objects.filter(user=u).exists() for u in users.values())
    # The first one has readers and non-readers, so the receipts page shows both lists.
    summary = selectors.receipt_summary(created[0])
    assert 0 < summary.read < summary.audience
