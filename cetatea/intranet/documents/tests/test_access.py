"""Who sees what: department folders are closed to other departments (never listed,
never found, 404), grants open them, levels limit what can be done, and only managers
change access."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cetatea.intranet.documents import selectors, services
from cetatea.intranet.documents.choices import Level
from cetatea.intranet.documents.models import FolderAccess

from .conftest import upload

pytestmark = pytest.mark.django_db


def fresh(user):
    """The same account without the per-request caches (department, visible folders)."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def roads_doc(staff, roads_folder):
    return services.document_markdown_create(
        actor=staff["staff"],
        folder_id=roads_folder.pk,
        title="Plan asfaltare 2026",
        text="Strada Mihai Viteazul",
    )


def test_department_folder_is_editable_by_its_staff_and_managed_by_its_creator(staff, roads_folder):
    assert selectors.folder_level(fresh(staff["staff"]), roads_folder) == Level.EDIT
    assert selectors.folder_level(fresh(staff["manager"]), roads_folder) == Level.MANAGE
    assert selectors.folder_level(fresh(staff["clerk"]), roads_folder) == 0
    assert selectors.folder_level(fresh(staff["crew"]), roads_folder) == 0


def test_outsider_cannot_see_the_folder_or_its_documents(client, staff, roads_folder, roads_doc):
    client.force_login(staff["clerk"])
    index = client.get("/staff/intranet/documents/")
    assert index.status_code == 200
    assert "Drumuri" not in index.content.decode()
    for url in [
        f"/staff/intranet/documents/folders/{roads_folder.pk}/",
        f"/staff/intranet/documents/folders/{roads_folder.pk}/access/",
        f"/staff/intranet/documents/{roads_doc.pk}/",
        f"/staff/intranet/documents/{roads_doc.pk}/versions/",
        f"/staff/intranet/documents/{roads_doc.pk}/versions/1/download/",
        f"/staff/intranet/documents/{roads_doc.pk}/edit/",
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(f"/staff/intranet/documents/{roads_doc.pk}/comment/", {"body": "hello"})
    assert response.status_code == 404
    found = client.get("/staff/intranet/documents/search/", {"q": "asfaltare"})
    assert "Plan asfaltare" not in found.content.decode()
    assert selectors.document_search(fresh(staff["clerk"]), "asfaltare").items == []
    assert selectors.home_panel(fresh(staff["clerk"]))["recent"] == []


def test_insider_sees_lists_and_finds_the_document(client, staff, roads_folder, roads_doc):
    client.force_login(staff["staff"])
    assert "Drumuri" in client.get("/staff/intranet/documents/").content.decode()
    page = client.get(f"/staff/intranet/documents/folders/{roads_folder.pk}/")
    assert "Plan asfaltare 2026" in page.content.decode()
    found = client.get("/staff/intranet/documents/search/", {"q": "ASFALTARE"})
    assert "Plan asfaltare 2026" in found.content.decode()
    assert [d.pk for d in selectors.home_panel(fresh(staff["staff"]))["recent"]] == [roads_doc.pk]


def test_no_intranet_without_a_staff_role(client, staff, roads_doc):
    client.force_login(staff["citizen"])
    assert client.get("/staff/intranet/documents/").status_code == 403
    assert client.get(f"/staff/intranet/documents/{roads_doc.pk}/").status_code == 403
    client.logout()
    response = client.get("/staff/intranet/documents/")
    assert response.status_code == 302


def test_view_grant_to_another_department_lets_it_read_but_not_write(
    client, staff, roads_folder, roads_doc
):
    services.folder_grant(
        actor=staff["manager"],
        folder_id=roads_folder.pk,
        level=Level.VIEW,
        department_id=staff["public"].pk,
    )
    clerk = fresh(staff["clerk"])
    assert selectors.folder_level(clerk, roads_folder) == Level.VIEW
    assert [d.pk for d in selectors.document_search(clerk, "viteazul").items] == [roads_doc.pk]
    client.force_login(staff["clerk"])
    assert client.get(f"/staff/intranet/documents/{roads_doc.pk}/").status_code == 200
    assert client.get(f"/staff/intranet/documents/{roads_doc.pk}/edit/").status_code == 403
    response = client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/upload/",
        {"file": upload("a.txt", b"text")},
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.document_lock(actor=clerk, document_id=roads_doc.pk)
    # Commenting only needs to see the document.
    services.comment_add(actor=clerk, document_id=roads_doc.pk, body="Văzut.")


def test_grant_to_one_person_and_to_all_staff(staff, roads_folder):
    services.folder_grant(
        actor=staff["manager"],
        folder_id=roads_folder.pk,
        level=Level.EDIT,
        user_id=staff["crew"].pk,
    )
    assert selectors.folder_level(fresh(staff["crew"]), roads_folder) == Level.EDIT
    assert selectors.folder_level(fresh(staff["clerk"]), roads_folder) == 0
    services.folder_grant(actor=staff["manager"], folder_id=roads_folder.pk, level=Level.VIEW)
    assert selectors.folder_level(fresh(staff["clerk"]), roads_folder) == Level.VIEW
    # Granting again changes the level, it does not add a row.
    services.folder_grant(actor=staff["manager"], folder_id=roads_folder.pk, level=Level.EDIT)
    assert FolderAccess.objects.filter(folder=roads_folder, user=None, department=None).count() == 1
    assert selectors.folder_level(fresh(staff["clerk"]), roads_folder) == Level.EDIT


def test_only_managers_change_access_rename_and_delete(client, staff, roads_folder):
    with pytest.raises(PermissionDenied):
        services.folder_grant(
            actor=fresh(staff["staff"]),
            folder_id=roads_folder.pk,
            level=Level.VIEW,
            user_id=staff["crew"].pk,
        )
    client.force_login(staff["staff"])
    assert (
        client.get(f"/staff/intranet/documents/folders/{roads_folder.pk}/access/").status_code
        == 403
    )
    assert (
        client.post(f"/staff/intranet/documents/folders/{roads_folder.pk}/delete/").status_code
        == 403
    )
    client.force_login(staff["manager"])
    response = client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/access/",
        {"grantee": "user", "username": "crew", "level": "2"},
    )
    assert response.status_code == 302
    assert selectors.folder_level(fresh(staff["crew"]), roads_folder) == Level.EDIT
    response = client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/access/",
        {"grantee": "user", "username": "nobody", "level": "2"},
    )
    assert response.status_code == 400
    assert "There is no active account with this user name." in response.content.decode()
    assert 'aria-describedby="id_username_error"' in response.content.decode()
    client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/rename/", {"name": "Contracte"}
    )
    roads_folder.refresh_from_db()
    assert roads_folder.name == "Contracte"
    client.post(f"/staff/intranet/documents/folders/{roads_folder.pk}/delete/")
    assert client.get(f"/staff/intranet/documents/folders/{roads_folder.pk}/").status_code == 404
    client.force_login(staff["staff"])
    assert client.get(f"/staff/intranet/documents/folders/{roads_folder.pk}/").status_code == 404


def test_the_last_manager_cannot_be_removed(staff, roads_folder):
    grant = FolderAccess.objects.get(folder=roads_folder, user=staff["manager"])
    with pytest.raises(ValidationError, match="at least one person who manages"):
        services.folder_revoke(actor=staff["manager"], access_id=grant.pk)
    services.folder_grant(
        actor=staff["manager"],
        folder_id=roads_folder.pk,
        level=Level.MANAGE,
        user_id=staff["staff"].pk,
    )
    services.folder_revoke(actor=staff["manager"], access_id=grant.pk)
    assert selectors.folder_level(fresh(staff["manager"]), roads_folder) == Level.EDIT


def test_shared_folders_need_the_permission_and_are_open_to_all_staff(staff):
    from django.contrib.auth.models import Permission

    with pytest.raises(PermissionDenied):
        services.folder_create(actor=staff["staff"], name="Toată primăria", shared=True)
    staff["manager"].user_permissions.add(Permission.objects.get(codename="add_shared_folder"))
    manager = fresh(staff["manager"])
    folder = services.folder_create(actor=manager, name="Toată primăria", shared=True)
    assert folder.department_id is None
    for name in ["staff", "clerk", "crew", "operator"]:
        assert selectors.folder_level(fresh(staff[name]), folder) == Level.EDIT


def test_staff_without_a_department_cannot_create_a_department_folder(staff):
    with pytest.raises(ValidationError, match="not in a department"):
        services.folder_create(actor=staff["revenue"], name="X")


def test_folder_list_page_queries_are_bounded(client, staff, django_assert_max_num_queries):
    for i in range(30):
        services.folder_create(actor=staff["manager"], name=f"Dosar {i}")
    client.force_login(staff["staff"])
    with django_assert_max_num_queries(12):
        assert client.get("/staff/intranet/documents/").status_code == 200
