"""The demo data: written through the services, once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from cetatea.intranet.documents.demo import FOLDER_NAME, SHARED_NAME, seed_documents_demo
from cetatea.intranet.documents.models import Document, DocumentLink, Folder, Mention
from conftest import make_case

pytestmark = pytest.mark.django_db


def test_demo_folders_documents_and_links_once(staff, django_capture_on_commit_callbacks):
    case = make_case(address_text="Str. Mare 1")  # a pothole: the roads department's
    staff["manager"].user_permissions.add(Permission.objects.get(codename="add_shared_folder"))
    users = {name: type(u).objects.get(pk=u.pk) for name, u in staff.items() if hasattr(u, "pk")}
    with django_capture_on_commit_callbacks(execute=True):
        folder = seed_documents_demo(users)
    assert folder.name == FOLDER_NAME
    assert Document.objects.filter(folder=folder).count() == 2
    procedure = Document.objects.get(folder=folder, kind="markdown")
    assert procedure.version == 2
    assert Mention.objects.filter(user=staff["crew"]).count() == 0  # crew is not in roads here
    assert DocumentLink.objects.get(document=procedure).case_id == case.pk
    assert Folder.objects.filter(name=SHARED_NAME, department__isnull=True).exists()
    assert seed_documents_demo(users) == folder
    assert Document.objects.count() == 3
