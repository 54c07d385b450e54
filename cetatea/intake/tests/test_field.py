"""The field crews' pages: my assignments only, status updates with a note and photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cetatea.cases.models import Case, Photo
from cetatea.cases.services import case_assign, case_change_status
from conftest import INSIDE, make_case


def jpeg(**exif_tags) -> bytes:
    image = Image.new("RGB", (320, 240), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "FieldCamera"  # Make
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(data: bytes, name: str = "dupa.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.fixture
def crew(client, personas, catalog):
    client.force_login(personas["crew"])
    client.cookies["django_language"] = "en"
    return personas["crew"]


@pytest.fixture
def mine(crew, personas):
    case = make_case(latitude=INSIDE[0], longitude=INSIDE[1], title="Groapa mea")
    case_assign(case_id=case.pk, assignee=crew, actor=personas["manager"])
    return Case.objects.get(pk=case.pk)


def test_the_list_shows_only_my_open_cases(
    client, crew, mine, personas, django_assert_max_num_queries
):
    other = make_case(title="Groapa altcuiva")
    case_assign(case_id=other.pk, assignee=personas["staff"], actor=None)
    closed = make_case(title="Groapa închisă")
    case_assign(case_id=closed.pk, assignee=crew, actor=None)
    case_change_status(case_id=closed.pk, status="fixed", actor=None)
    with django_assert_max_num_queries(8):
        response = client.get("/staff/field/")
    html = response.content.decode()
    assert mine.reference in html
    assert other.reference not in html and closed.reference not in html
    assert 'id="field-pins"' in html and str(INSIDE[0]) in html


def test_the_list_is_paged_in_small_pages(client, crew):
    for i in range(17):
        case = make_case(title=f"Caz {i}")
        case_assign(case_id=case.pk, assignee=crew, actor=None)
    first = client.get("/staff/field/").content.decode()
    second = client.get("/staff/field/?page=2").content.decode()
    assert first.count('class="card"') == 15 and 'rel="next"' in first
    assert second.count('class="card"') == 2 and 'rel="next"' not in second


def test_status_update_with_a_note_and_an_after_photo(
    client, crew, mine, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    page = client.get(f"/staff/field/{mine.pk}/").content.decode()
    assert 'value="in_progress"' in page and 'value="reopened"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/field/{mine.pk}/",
            {"status": "fixed", "note": "Astupată.", "photos": [upload(jpeg())]},
        )
    assert response.status_code == 302 and response.url == "/staff/field/"
    mine.refresh_from_db()
    assert mine.status == "fixed"
    event = mine.events.get(kind="status")
    assert event.actor == crew and event.text == "Astupată."
    photo = Photo.objects.get(case=mine)
    assert photo.uploaded_by == crew and photo.status == "ready"
    with photo.full.open("rb") as f:
        data = f.read()
    assert b"FieldCamera" not in data  # the pipeline stripped the metadata


def test_a_bad_photo_changes_nothing(client, crew, mine):
    response = client.post(
        f"/staff/field/{mine.pk}/",
        {"status": "fixed", "note": "x", "photos": [upload(b"%PDF-1.4 not a photo", "a.jpg")]},
    )
    assert response.status_code == 400
    assert "is not a photo (JPEG, PNG, WebP or HEIC)" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "new" and not Photo.objects.exists()
    assert not mine.events.filter(kind="status").exists()


def test_a_move_not_allowed_changes_nothing(client, crew, mine):
    case_change_status(case_id=mine.pk, status="fixed", actor=None)
    response = client.post(f"/staff/field/{mine.pk}/", {"status": "in_progress"})
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.status == "fixed"


def test_an_empty_update_is_refused(client, crew, mine):
    response = client.post(f"/staff/field/{mine.pk}/", {"status": "", "note": ""})
    assert response.status_code == 400
    assert "Choose a new status" in response.content.decode()


def test_someone_elses_case_is_forbidden(client, crew, personas):
    case = make_case()
    case_assign(case_id=case.pk, assignee=personas["staff"], actor=None)
    assert client.get(f"/staff/field/{case.pk}/").status_code == 403
    assert client.post(f"/staff/field/{case.pk}/", {"status": "fixed"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "new"


@pytest.mark.parametrize("who", ["operator", "citizen"])
def test_roles_without_case_work_cannot_open_the_field_view(client, personas, catalog, who):
    client.force_login(personas[who])
    assert client.get("/staff/field/").status_code == 403
