"""Markdown documents: written in the browser, previewed (sanitised), saved as versions,
compared line by line; a save from an old version is refused and the text kept."""

from __future__ import annotations

import pytest

from cetatea.intranet.documents import selectors, services
from cetatea.intranet.documents.models import DocumentVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(staff, roads_folder):
    return services.document_markdown_create(
        actor=staff["staff"],
        folder_id=roads_folder.pk,
        title="Procedură",
        text="# Titlu\n\nPrimul rând\nAl doilea rând\n",
    )


def test_create_in_the_browser(client, staff, roads_folder):
    client.force_login(staff["staff"])
    response = client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/new/",
        {"title": "Ordine de zi", "text": "- punctul 1\n- punctul 2"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "<li>punctul 1</li>" in page
    response = client.post(
        f"/staff/intranet/documents/folders/{roads_folder.pk}/new/", {"text": "x"}
    )
    assert response.status_code == 400
    assert 'aria-describedby="id_title_error"' in response.content.decode()


def test_preview_is_rendered_and_sanitised(client, staff, note):
    client.force_login(staff["staff"])
    text = (
        "**gras** <script>alert(1)</script>\n\n"
        '<img src=x onerror="alert(2)">\n\n'
        "[link](javascript:alert(3)) [bun](https://primaria.test/)\n"
    )
    response = client.post(f"/staff/intranet/documents/{note.pk}/preview/", {"text": text})
    html = response.content.decode()
    assert "<strong>gras</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert 'href="https://primaria.test/"' in html
    # Raw HTML in a stored document is not passed through either.
    assert "<script" not in selectors.render_markdown("<script>alert(1)</script>")
    assert "<b>" not in selectors.render_markdown("<b onclick='x()'>b</b>")


def test_edit_saves_a_new_version_and_the_diff_marks_lines(client, staff, note):
    client.force_login(staff["staff"])
    edit = client.get(f"/staff/intranet/documents/{note.pk}/edit/").content.decode()
    assert 'name="base_version" value="1"' in edit
    response = client.post(
        f"/staff/intranet/documents/{note.pk}/edit/",
        {"text": "# Titlu\n\nPrimul rând\nRândul nou\n", "base_version": "1", "note": "corectură"},
    )
    assert response.status_code == 302
    assert DocumentVersion.objects.get(document=note, number=2).note == "corectură"
    diff = client.get(
        f"/staff/intranet/documents/{note.pk}/diff/", {"a": 1, "b": 2}
    ).content.decode()
    assert '<span aria-hidden="true">−</span><span class="visually-hidden">removed</span>' in diff
    assert "<code>Al doilea rând</code>" in diff
    assert (
        '<span class="visually-hidden">added</span></td>\n      <td><code>Rândul nou</code>' in diff
    )
    lines = selectors.diff_lines("a\nb\n", "a\nc\n", old_label="1", new_label="2")
    assert [(line.sign, line.text) for line in lines if line.sign in "+-"] == [
        ("-", "b"),
        ("+", "c"),
    ]


def test_saving_the_same_text_adds_no_version(staff, note):
    text = DocumentVersion.objects.get(document=note, number=1).text
    assert (
        services.document_markdown_save(
            actor=staff["staff"], document_id=note.pk, text=text, base_version=1
        )
        is None
    )
    assert DocumentVersion.objects.filter(document=note).count() == 1


def test_two_people_saving_the_same_version_second_keeps_their_text(client, staff, note):
    services.document_markdown_save(
        actor=staff["manager"],
        document_id=note.pk,
        text="# Titlu\n\nVersiunea lui manager\n",
        base_version=1,
    )
    client.force_login(staff["staff"])
    response = client.post(
        f"/staff/intranet/documents/{note.pk}/edit/",
        {"text": "# Titlu\n\nTextul meu lung\n", "base_version": "1"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "manager saved version 2 of this document meanwhile" in html
    assert "Textul meu lung\n</textarea>" in html
    # The diff against the current version is shown, and the next save compares with it.
    assert "<code>Versiunea lui manager</code>" in html
    assert 'name="base_version" value="2"' in html
    assert DocumentVersion.objects.filter(document=note).count() == 2
    response = client.post(
        f"/staff/intranet/documents/{note.pk}/edit/",
        {"text": "# Titlu\n\nTextul meu lung\n", "base_version": "2"},
    )
    assert response.status_code == 302
    assert (
        DocumentVersion.objects.get(document=note, number=3).text == "# Titlu\n\nTextul meu lung\n"
    )


def test_concurrent_saves_on_a_locked_row_never_both_win(staff, note):
    services.document_markdown_save(
        actor=staff["staff"], document_id=note.pk, text="one", base_version=1
    )
    with pytest.raises(services.VersionConflict):
        services.document_markdown_save(
            actor=staff["manager"], document_id=note.pk, text="two", base_version=1
        )
    assert list(DocumentVersion.objects.filter(document=note).values_list("number", flat=True)) == [
        2,
        1,
    ]


def test_restore_of_a_markdown_version(staff, note):
    services.document_markdown_save(
        actor=staff["staff"], document_id=note.pk, text="nou", base_version=1
    )
    version = services.document_restore(
        actor=staff["staff"], document_id=note.pk, number=1, base_version=2
    )
    assert version.number == 3 and version.text.startswith("# Titlu")
    assert version.note == "Restored from version 1"
