"""Search in titles and text: PDF, DOCX, ODT, Markdown and text files, diacritics
folded, words matched by their beginning, only documents the user may see, newest
first, paginated; the text follows the current version."""

from __future__ import annotations

import re

import pytest

from cetatea.intranet.documents import selectors, services
from cetatea.intranet.documents.choices import Level

from .conftest import docx_bytes, odt_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db


def found(user, query, **kwargs):
    fresh = type(user).objects.get(pk=user.pk)
    return [d.title for d in selectors.document_search(fresh, query, **kwargs).items]


def add(staff, folder, name, data, title=""):
    return services.document_upload(
        actor=staff["staff"], folder_id=folder.pk, file=upload(name, data), title=title
    )


def test_text_of_pdf_docx_odt_and_markdown_is_found(
    staff, roads_folder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add(
            staff,
            roads_folder,
            "contract.pdf",
            pdf_bytes("Contract de asfaltare\nStrada Closca nr. 4"),
        )
        add(
            staff,
            roads_folder,
            "memoriu.docx",
            docx_bytes("Memoriu tehnic\nReabilitarea podului Mureș"),
        )
        add(
            staff,
            roads_folder,
            "aviz.odt",
            odt_bytes("Aviz de principiu\nIluminat stradal în Cetate"),
        )
        services.document_markdown_create(
            actor=staff["staff"],
            folder_id=roads_folder.pk,
            title="Minută",
            text="Ședința a hotărât bugetul",
        )
    user = staff["manager"]
    assert found(user, "closca") == ["contract.pdf"]
    assert found(user, "asfaltare contract") == ["contract.pdf"]
    assert found(user, "mures pod") == ["memoriu.docx"]  # diacritics folded, "pod" a prefix
    assert found(user, "ILUMINAT cetate") == ["aviz.odt"]
    assert found(user, "sedinta") == ["Minută"]
    assert found(user, "şedinţa") == ["Minută"]  # cedilla spelling
    assert found(user, "minuta") == ["Minută"]  # the title
    assert found(user, "closca mures") == []


def test_results_only_from_folders_the_user_may_see(
    staff, roads_folder, django_capture_on_commit_callbacks
):
    public = services.folder_create(actor=staff["clerk"], name="Relații cu publicul")
    with django_capture_on_commit_callbacks(execute=True):
        add(staff, roads_folder, "r.txt", b"raport anual drumuri", title="Raport drumuri")
        services.document_upload(
            actor=staff["clerk"],
            folder_id=public.pk,
            file=upload("p.txt", b"raport anual audiente"),
            title="Raport public",
        )
    assert found(staff["staff"], "raport anual") == ["Raport drumuri"]
    assert found(staff["clerk"], "raport anual") == ["Raport public"]
    assert found(staff["crew"], "raport") == []
    services.folder_grant(
        actor=staff["clerk"], folder_id=public.pk, level=Level.VIEW, user_id=staff["staff"].pk
    )
    assert found(staff["staff"], "raport anual") == ["Raport public", "Raport drumuri"]


def test_new_version_replaces_the_text_and_rename_the_title(
    staff, roads_folder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = add(staff, roads_folder, "a.txt", b"trotuar vechi", title="Deviz")
    with django_capture_on_commit_callbacks(execute=True):
        services.document_upload_version(
            actor=staff["staff"],
            document_id=document.pk,
            file=upload("a.txt", b"parcare noua"),
            base_version=1,
        )
    assert found(staff["staff"], "trotuar") == []
    assert found(staff["staff"], "parcare") == ["Deviz"]
    services.document_rename(
        actor=staff["staff"], document_id=document.pk, title="Estimare costuri"
    )
    assert found(staff["staff"], "deviz") == []
    assert found(staff["staff"], "estimare parcare") == ["Estimare costuri"]
    services.document_delete(actor=staff["manager"], document_id=document.pk)
    assert found(staff["staff"], "parcare") == []


def test_a_stale_extraction_does_not_overwrite_a_newer_version(
    staff, roads_folder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = add(staff, roads_folder, "a.txt", b"prima", title="Doc")
    with django_capture_on_commit_callbacks(execute=True):
        services.document_upload_version(
            actor=staff["staff"],
            document_id=document.pk,
            file=upload("a.txt", b"secunda"),
            base_version=1,
        )
    assert services.document_text_extract(document.pk, 1) is False
    assert found(staff["staff"], "secunda") == ["Doc"]
    assert found(staff["staff"], "prima") == []


def test_pages_newest_first_without_repeats(client, staff, roads_folder):
    for i in range(7):
        services.document_markdown_create(
            actor=staff["staff"],
            folder_id=roads_folder.pk,
            title=f"Nota {i}",
            text="ordin de serviciu",
        )
    user = type(staff["staff"]).objects.get(pk=staff["staff"].pk)
    first = selectors.document_search(user, "ordin", page_size=3)
    second = selectors.document_search(user, "ordin", cursor=first.next_cursor, page_size=3)
    third = selectors.document_search(user, "ordin", cursor=second.next_cursor, page_size=3)
    titles = [d.title for p in (first, second, third) for d in p.items]
    assert titles == [f"Nota {i}" for i in range(6, -1, -1)]
    assert third.next_cursor == ""
    client.force_login(staff["staff"])
    page = client.get("/staff/intranet/documents/search/", {"q": "o"}).content.decode()
    assert "at least one word of two letters" in page


def test_search_page_queries_are_bounded(
    client, staff, roads_folder, django_assert_max_num_queries
):
    for i in range(30):
        services.document_markdown_create(
            actor=staff["staff"], folder_id=roads_folder.pk, title=f"Nota {i}", text="ordin"
        )
    client.force_login(staff["staff"])
    with django_assert_max_num_queries(10):
        response = client.get("/staff/intranet/documents/search/", {"q": "ordin"})
    links = re.findall(r'<li><a href="/staff/intranet/documents/\d+/"', response.content.decode())
    assert len(links) == 25


def test_a_damaged_file_is_stored_with_no_text(
    staff, roads_folder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = add(staff, roads_folder, "broken.pdf", b"%PDF-1.4 not really", title="Scan")
    assert document.version == 1
    assert found(staff["staff"], "scan") == ["Scan"]
