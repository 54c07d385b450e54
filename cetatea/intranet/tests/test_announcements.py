"""Announcements: who sees them, who publishes, edits and withdraws, read receipts."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from cetatea.intranet import selectors, services
from cetatea.intranet.models import Announcement, AnnouncementRead


def publish(author, title="Anunț", department=None, **extra):
    return services.announcement_publish(
        author=author, title=title, body=extra.pop("body", "Text"), department=department, **extra
    )


def titles(response) -> str:
    return response.content.decode()


# --- visibility ---------------------------------------------------------------------------


def test_department_announcements_reach_only_that_department(client, staffed):
    publish(staffed["manager"], title="Pentru toți")
    roads = publish(staffed["manager"], title="Doar drumuri", department=staffed["roads"])
    client.force_login(staffed["crew"])
    page = titles(client.get(reverse("intranet:announcements")))
    assert "Pentru toți" in page and "Doar drumuri" in page
    assert client.get(reverse("intranet:announcement", args=[roads.pk])).status_code == 200

    client.force_login(staffed["clerk"])  # public relations
    page = titles(client.get(reverse("intranet:announcements")))
    assert "Pentru toți" in page and "Doar drumuri" not in page
    assert client.get(reverse("intranet:announcement", args=[roads.pk])).status_code == 404

    client.force_login(staffed["revenue"])  # no department: only the ones for everyone
    page = titles(client.get(reverse("intranet:announcements")))
    assert "Pentru toți" in page and "Doar drumuri" not in page


def test_pinned_come_first_then_newest(staffed):
    old_pinned = publish(staffed["manager"], title="Fixat", pinned=True)
    first = publish(staffed["manager"], title="Primul")
    second = publish(staffed["manager"], title="Al doilea")
    page = selectors.announcement_page(staffed["staff"], page_size=2)
    assert [a.pk for a in page.items] == [old_pinned.pk, second.pk]
    assert page.has_next
    page2 = selectors.announcement_page(staffed["staff"], number=2, page_size=2)
    assert [a.pk for a in page2.items] == [first.pk] and not page2.has_next


def test_the_list_costs_the_same_for_many_announcements(
    client, staffed, django_assert_max_num_queries
):
    for i in range(40):
        publish(
            staffed["manager"], title=f"Anunț {i}", department=staffed["roads"] if i % 2 else None
        )
    client.force_login(staffed["staff"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("intranet:announcements"))
    assert response.content.decode().count('class="unread"') == 20


# --- publishing ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["operator", "clerk", "staff", "crew", "revenue"])
def test_only_managers_and_administrators_publish(client, staffed, persona):
    client.force_login(staffed[persona])
    assert client.get(reverse("intranet:announcement_new")).status_code == 403
    data = {"title": "X", "body": "Y", "body_format": "text"}
    assert client.post(reverse("intranet:announcement_new"), data).status_code == 403
    assert not Announcement.objects.exists()
    with pytest.raises(PermissionDenied):
        publish(staffed[persona])


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_a_manager_publishes_through_the_form(client, staffed, persona):
    client.force_login(staffed[persona])
    form = client.get(reverse("intranet:announcement_new"))
    assert form.status_code == 200
    token = form.context["form"].initial["submit_token"]
    data = {
        "title": "Ședință",
        "body": "Mâine la **9**.",
        "body_format": "markdown",
        "department": staffed["roads"].pk,
        "pinned": "on",
        "submit_token": str(token),
    }
    response = client.post(reverse("intranet:announcement_new"), data)
    announcement = Announcement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intranet:announcement", args=[announcement.pk])
    assert announcement.department == staffed["roads"] and announcement.pinned
    assert announcement.author == staffed[persona]
    # A double submit of the same form gives back the same announcement.
    again = client.post(reverse("intranet:announcement_new"), data)
    assert again["Location"] == response["Location"]
    assert Announcement.objects.count() == 1


def test_a_form_without_title_says_so_and_saves_nothing(client, staffed):
    client.force_login(staffed["manager"])
    data = {"title": " ", "body": "Text", "body_format": "markdown"}
    response = client.post(reverse("intranet:announcement_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert 'aria-describedby="id_title_error"' in html
    assert "Text" in html  # what was typed is kept
    assert not Announcement.objects.exists()


def test_markdown_is_rendered_and_sanitised(client, staffed):
    body = (
        "## Titlu\n\n**gros** <script>alert(1)</script> [rău](javascript:alert(1)) "
        "[bun](https://primaria.example/)\n\n- unu"
    )
    a = publish(staffed["manager"], body=body)
    client.force_login(staffed["staff"])
    html = client.get(reverse("intranet:announcement", args=[a.pk])).content.decode()
    assert "<h2>Titlu</h2>" in html and "<strong>gros</strong>" in html and "<li>unu</li>" in html
    assert "<script>alert" not in html
    assert 'href="javascript:' not in html
    assert 'href="https://primaria.example/" rel="noopener noreferrer nofollow">bun</a>' in html


def test_plain_text_keeps_line_breaks_and_escapes(client, staffed):
    a = publish(staffed["manager"], body="rând unu\nrând <b>doi</b>", body_format="text")
    client.force_login(staffed["staff"])
    html = client.get(reverse("intranet:announcement", args=[a.pk])).content.decode()
    assert "rând unu<br>rând &lt;b&gt;doi&lt;/b&gt;" in html


# --- editing and withdrawing --------------------------------------------------------------


def _edit_data(a, **extra):
    data = {
        "title": a.title,
        "body": a.body,
        "body_format": a.body_format,
        "department": a.department_id or "",
        "version": a.version,
    }
    data.update(extra)
    return data


def test_the_author_edits_and_a_stale_edit_is_refused(client, staffed):
    a = publish(staffed["manager"], title="Vechi")
    client.force_login(staffed["manager"])
    url = reverse("intranet:announcement_edit", args=[a.pk])
    assert client.post(url, _edit_data(a, title="Nou")).status_code == 302
    a.refresh_from_db()
    assert a.title == "Nou" and a.version == 2 and a.updated_at is not None
    # A second editor who started from version 1 is told, and their text is kept on screen.
    stale = client.post(url, _edit_data(a, title="Altceva", version=1))
    assert stale.status_code == 400
    errors = stale.context["form"].non_field_errors().as_data()
    assert [e.code for e in errors] == ["stale"]
    assert 'role="alert"' in stale.content.decode()
    assert "Altceva" in stale.content.decode()
    a.refresh_from_db()
    assert a.title == "Nou"


def test_only_the_author_or_an_administrator_edits(client, staffed, django_user_model):
    from conftest import make_user

    other_manager = make_user("manager2", "manager")
    a = publish(staffed["manager"])
    client.force_login(other_manager)
    url = reverse("intranet:announcement_edit", args=[a.pk])
    assert client.get(url).status_code == 403
    assert client.post(reverse("intranet:announcement_unpublish", args=[a.pk])).status_code == 403
    client.force_login(staffed["admin"])
    assert client.get(url).status_code == 200
    assert client.post(url, _edit_data(a, title="Corectat")).status_code == 302


def test_a_withdrawn_announcement_leaves_the_lists_but_not_its_author(client, staffed):
    a = publish(staffed["manager"], title="Greșit")
    client.force_login(staffed["manager"])
    response = client.post(reverse("intranet:announcement_unpublish", args=[a.pk]))
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.unpublished_at is not None
    assert client.get(reverse("intranet:announcement", args=[a.pk])).status_code == 200
    client.force_login(staffed["staff"])
    assert "Greșit" not in titles(client.get(reverse("intranet:announcements")))
    assert client.get(reverse("intranet:announcement", args=[a.pk])).status_code == 404


# --- read receipts ------------------------------------------------------------------------


def test_opening_and_marking_record_one_receipt(client, staffed):
    a = publish(staffed["manager"])
    client.force_login(staffed["staff"])
    client.get(reverse("intranet:announcement", args=[a.pk]))
    first = AnnouncementRead.objects.get(announcement=a, user=staffed["staff"]).read_at
    client.get(reverse("intranet:announcement", args=[a.pk]))
    client.post(reverse("intranet:announcement_read", args=[a.pk]))
    client.post(reverse("intranet:announcement_read", args=[a.pk]))
    receipts = AnnouncementRead.objects.filter(announcement=a, user=staffed["staff"])
    assert receipts.count() == 1 and receipts.get().read_at == first


def test_mark_as_read_from_the_list(client, staffed):
    a = publish(staffed["manager"], title="De citit")
    client.force_login(staffed["crew"])
    html = titles(client.get(reverse("intranet:announcements")))
    assert reverse("intranet:announcement_read", args=[a.pk]) in html
    response = client.post(
        reverse("intranet:announcement_read", args=[a.pk]),
        {"next": reverse("intranet:announcements")},
    )
    assert response.status_code == 302
    assert AnnouncementRead.objects.filter(announcement=a, user=staffed["crew"]).exists()
    assert 'class="unread"' not in titles(client.get(reverse("intranet:announcements")))


def test_a_reader_outside_the_department_cannot_mark_it(client, staffed):
    a = publish(staffed["manager"], department=staffed["roads"])
    client.force_login(staffed["clerk"])
    assert client.post(reverse("intranet:announcement_read", args=[a.pk])).status_code == 404
    assert not AnnouncementRead.objects.filter(user=staffed["clerk"]).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_click_writes_one_receipt(catalog, personas):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    a = publish(personas["manager"])
    reader = personas["staff"]
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            services.announcement_mark_read(announcement=a, user=reader)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AnnouncementRead.objects.filter(announcement=a, user=reader).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_publishes_once(catalog, personas):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    token = uuid.uuid4()
    barrier = threading.Barrier(3)
    results: list[int] = []
    errors: list[Exception] = []

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            results.append(publish(personas["manager"], submit_token=token).pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Announcement.objects.count() == 1
    assert set(results) == {Announcement.objects.get().pk}


def test_who_read_and_who_has_not_among_the_audience(client, staffed):
    a = publish(staffed["manager"], title="Drumuri", department=staffed["roads"])
    services.announcement_mark_read(announcement=a, user=staffed["staff"])
    # Someone outside the audience (an administrator opening it) is not counted.
    services.announcement_mark_read(announcement=a, user=staffed["admin"])
    summary = selectors.receipt_summary(a)
    # Roads: staff, crew, manager (the author has read what they wrote).
    assert (summary.audience, summary.read, summary.unread) == (3, 2, 1)

    client.force_login(staffed["manager"])
    response = client.get(reverse("intranet:announcement_receipts", args=[a.pk]))
    assert response.status_code == 200
    read_names = {r.user.username for r in response.context["readers"]}
    unread_names = {u.username for u in response.context["non_readers"]}
    assert read_names == {"staff", "manager"}
    assert unread_names == {"crew"}
    # The counts are on the announcement's page for its author too.
    page = client.get(reverse("intranet:announcement", args=[a.pk]))
    assert page.context["summary"].read == 2


def test_receipts_of_an_announcement_for_everyone_list_all_staff_but_citizens(client, staffed):
    a = publish(staffed["manager"])
    client.force_login(staffed["admin"])
    response = client.get(reverse("intranet:announcement_receipts", args=[a.pk]))
    unread = {u.username for u in response.context["non_readers"]}
    assert unread == {"op", "clerk", "staff", "crew", "revenue", "admin"}
    assert "citizen" not in response.content.decode()


def test_receipts_are_not_for_ordinary_staff(client, staffed):
    a = publish(staffed["manager"])
    client.force_login(staffed["staff"])
    assert client.get(reverse("intranet:announcement_receipts", args=[a.pk])).status_code == 403
    page = client.get(reverse("intranet:announcement", args=[a.pk]))
    assert page.context["summary"] is None


def test_receipts_pages_are_paginated(client, staffed, django_assert_max_num_queries):
    from cetatea.catalog.models import StaffProfile
    from conftest import make_user

    for i in range(120):
        user = make_user(f"angajat{i:03d}", "department_staff", last_name=f"Nume{i:03d}")
        StaffProfile.objects.create(user=user, department=staffed["roads"])
    a = publish(staffed["manager"], department=staffed["roads"])
    client.force_login(staffed["manager"])
    url = reverse("intranet:announcement_receipts", args=[a.pk])
    with django_assert_max_num_queries(14):
        response = client.get(url, {"unread": 3})
    page = response.context["non_readers"]
    assert page.number == 3 and len(page.object_list) == 122 - 100
