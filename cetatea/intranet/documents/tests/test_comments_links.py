"""Comments with @mentions (only people who can see the document; e-mailed after the
commit), the home panel, and links to cases and registry entries."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cetatea.intranet.documents import selectors, services
from cetatea.intranet.documents.models import DocumentLink, Mention
from conftest import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(staff, roads_folder):
    return services.document_markdown_create(
        actor=staff["staff"], folder_id=roads_folder.pk, title="Caiet de sarcini", text="..."
    )


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_mentions_reach_only_people_who_can_see_the_document(
    client, staff, doc, django_capture_on_commit_callbacks
):
    client.force_login(staff["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/intranet/documents/{doc.pk}/comment/",
            {"body": "@manager verifică; @clerk nu vede; @nimeni nu există; mail@manager.ro"},
        )
    assert response.status_code == 302
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["manager"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["manager@primarie.test"]
    assert "Caiet de sarcini" in mail.outbox[0].subject
    assert f"/staff/intranet/documents/{doc.pk}/" in mail.outbox[0].body
    panel = selectors.home_panel(fresh(staff["manager"]))
    assert [m.document_id for m in panel["mentions"]] == [doc.pk]
    assert selectors.home_panel(fresh(staff["clerk"]))["mentions"] == []
    page = client.get(f"/staff/intranet/documents/{doc.pk}/").content.decode()
    assert "@manager verifică" in page


def test_mention_parsing():
    assert selectors.mentioned_usernames("@ana, @ion.pop. și @ana; x@y.ro (@maria-b)") == [
        "ana",
        "ion.pop",
        "maria-b",
    ]


def test_empty_comment_is_refused_with_a_linked_message(client, staff, doc):
    client.force_login(staff["staff"])
    response = client.post(f"/staff/intranet/documents/{doc.pk}/comment/", {"body": "  "})
    assert response.status_code == 400
    assert 'aria-describedby="id_body_error id_body_helptext"' in response.content.decode()


def test_home_panel_template_renders_a_labelled_section(staff, doc):
    from django.template.loader import render_to_string

    html = render_to_string(
        "documents/_home_panel.html", {"panel": selectors.home_panel(fresh(staff["staff"]))}
    )
    assert '<section aria-labelledby="documents-panel-heading"' in html
    assert '<h2 id="documents-panel-heading">' in html
    assert "Caiet de sarcini" in html


def test_home_panel_is_cheap(staff, roads_folder, django_assert_max_num_queries):
    for i in range(20):
        services.document_markdown_create(
            actor=staff["staff"], folder_id=roads_folder.pk, title=f"D{i}", text="x"
        )
    user = fresh(staff["staff"])
    # permissions (2, loaded once per request anyway), department, grants, two lists
    with django_assert_max_num_queries(6):
        panel = selectors.home_panel(user)
    assert len(panel["recent"]) == selectors.HOME_ROWS


def test_link_to_a_case_by_reference(client, staff, doc):
    case = make_case(address_text="Str. Mare 1")
    client.force_login(staff["staff"])
    response = client.post(
        f"/staff/intranet/documents/{doc.pk}/link/", {"reference": case.reference}
    )
    assert response.status_code == 302
    link = DocumentLink.objects.get(document=doc)
    assert (link.kind, link.case_id) == ("case", case.pk)
    page = client.get(f"/staff/intranet/documents/{doc.pk}/").content.decode()
    assert f'href="/staff/cases/{case.pk}/"' in page and case.reference in page
    # The same link twice is kept once.
    services.document_link_add(
        actor=staff["staff"], document_id=doc.pk, reference=case.reference.lower()
    )
    assert DocumentLink.objects.count() == 1
    response = client.post(
        f"/staff/intranet/documents/{doc.pk}/link/", {"reference": "AB-2020-999999"}
    )
    assert response.status_code == 400
    assert "There is no case with the reference AB-2020-999999." in response.content.decode()
    client.post(f"/staff/intranet/documents/{doc.pk}/unlink/", {"link": link.pk})
    assert DocumentLink.objects.count() == 0


def test_link_to_a_registry_entry_by_number(staff, doc, catalog):
    from cetatea.catalog.models import Category
    from cetatea.registry.models import DocumentType, RegistryPoint
    from cetatea.registry.services import registry_entry_register

    Category.objects.create(
        code="OTHER",
        name_ro="Altele",
        name_en="Other",
        department=catalog["public"],
        target_hours=720,
        regime="petition",
    )
    call_command("load_registry", stdout=io.StringIO())
    RegistryPoint.objects.filter(code="rg").update(department=catalog["public"])
    point = RegistryPoint.objects.get(code="rg")
    kind = DocumentType.objects.filter(case_category__isnull=True).exclude(code="petitie").first()
    entry = registry_entry_register(
        point=point,
        doc_type=kind,
        summary="Adresă privind avizul de execuție",
        sender_name="SC Drumuri SRL",
        sender_address="Str. Industriei 1",
    )
    link = services.document_link_add(
        actor=staff["staff"], document_id=doc.pk, reference=entry.display_number
    )
    assert (link.kind, link.entry_id) == ("entry", entry.pk)
    with pytest.raises(ValidationError, match="no registry entry"):
        services.document_link_add(
            actor=staff["staff"], document_id=doc.pk, reference="RG-99999/2020"
        )
    with pytest.raises(ValidationError, match="case reference"):
        services.document_link_add(actor=staff["staff"], document_id=doc.pk, reference="hello")
