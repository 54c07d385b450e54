"""Creating and editing tasks, checklists, comments with mentions, attachments, home panel."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cetatea.intranet.tasks import selectors, services
from cetatea.intranet.tasks.models import Attachment, ChecklistItem, Mention, Task
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_double_submit_of_create_makes_one_task(office, client):
    client.force_login(office["staff"])
    url = reverse("tasks:task_create", args=[office["board"].pk])
    page = client.get(url)
    key = page.context["form"]["idempotency_key"].value()
    data = {"title": "Semnalizare", "priority": "3", "idempotency_key": str(key)}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Task.objects.filter(title="Semnalizare").count() == 1


def test_same_key_from_the_service_returns_the_same_task(office):
    key = uuid.uuid4()
    one = make_task(office["board"], office["staff"], idempotency_key=key)
    two = make_task(office["board"], office["staff"], idempotency_key=key)
    assert one.pk == two.pk
    other = make_task(office["board"], office["manager"], idempotency_key=key)
    assert other.pk != one.pk  # the key is per person


def test_create_form_shows_errors_linked_to_fields(office, client):
    client.force_login(office["staff"])
    url = reverse("tasks:task_create", args=[office["board"].pk])
    response = client.post(
        url, {"title": "", "priority": "2", "idempotency_key": str(uuid.uuid4())}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-describedby="id_title_error"' in body
    assert 'id="id_title_error"' in body
    assert not Task.objects.exists()


def test_edit_with_an_old_version_shows_a_clear_message_and_keeps_the_text(office, client):
    task = make_task(office["board"], office["staff"])
    client.force_login(office["staff"])
    url = reverse("tasks:task", args=[task.pk])
    form = {
        "title": "Titlul meu",
        "description": "textul meu",
        "priority": "2",
        "version": str(task.version),
    }
    services.task_move(
        actor=office["manager"], task_id=task.pk, version=task.version, status="done"
    )
    response = client.post(url, form)
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed this task at" in body
    assert "textul meu" in body  # nothing typed is lost
    task.refresh_from_db()
    assert task.title == "Plombare strada Unirii" and task.status == "done"
    # Sending it again, now at the current version, saves it.
    form["version"] = str(task.version)
    assert client.post(url, form).status_code == 302
    task.refresh_from_db()
    assert task.title == "Titlul meu" and task.status == "done"


def test_assigning_someone_else_mails_them(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_task(office["board"], office["manager"], assignee=office["staff"])
    assert [m.to for m in mail.outbox] == [["staff@example.org"]]


def test_checklist_add_and_toggle(office, client):
    task = make_task(office["board"], office["staff"])
    client.force_login(office["staff"])
    client.post(reverse("tasks:checklist_add", args=[task.pk]), {"text": "Măsurători"})
    client.post(reverse("tasks:checklist_add", args=[task.pk]), {"text": "Asfalt"})
    items = list(task.checklist.all())
    assert [i.text for i in items] == ["Măsurători", "Asfalt"]
    url = reverse("tasks:checklist_set", args=[items[0].pk])
    response = client.post(url, {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<s>Măsurători</s>" in response.content.decode()
    # A repeated submit asks for the same state: it stays done instead of flipping back.
    client.post(url, {"done": "1"})
    item = ChecklistItem.objects.get(pk=items[0].pk)
    assert item.done and item.done_by == office["staff"]
    client.post(url, {"done": "0"})
    assert not ChecklistItem.objects.get(pk=items[0].pk).done


def test_checklist_of_a_foreign_task_is_refused(office, client):
    task = make_task(office["board"], office["staff"])
    item = services.checklist_add(actor=office["staff"], task_id=task.pk, text="x")
    client.force_login(office["operator"])
    assert (
        client.post(reverse("tasks:checklist_set", args=[item.pk]), {"done": "1"}).status_code
        == 404
    )
    assert not ChecklistItem.objects.get(pk=item.pk).done


def test_comment_mentions_members_only_and_mails_after_commit(
    office, django_capture_on_commit_callbacks
):
    task = make_task(office["board"], office["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_add(
            actor=office["manager"],
            task_id=task.pk,
            body="Te rog verifică, @staff. @op nu e membru, @manager e autorul, @nimeni",
        )
    assert [m.user.username for m in Mention.objects.filter(comment=comment)] == ["staff"]
    assert [m.to for m in mail.outbox] == [["staff@example.org"]]
    assert "Te rog verifică" in mail.outbox[0].body


def test_mentions_show_on_the_home_panel_until_the_task_is_opened(office, client):
    task = make_task(office["board"], office["manager"], title="Borduri")
    services.comment_add(actor=office["manager"], task_id=task.pk, body="@Staff vezi aici")
    panel = selectors.home_panel(office["staff"])
    assert [m.task.title for m in panel["mentions"]] == ["Borduri"]
    client.force_login(office["staff"])
    client.get(reverse("tasks:task", args=[task.pk]))
    assert selectors.home_panel(office["staff"])["mentions"] == []


def test_home_panel_lists_my_open_tasks_by_due_overdue_marked(office):
    from django.template.loader import render_to_string

    now = timezone.now()
    make_task(
        office["board"],
        office["manager"],
        title="Later",
        assignee=office["staff"],
        due_at=now + dt.timedelta(days=3),
    )
    late = make_task(
        office["board"],
        office["manager"],
        title="Late",
        assignee=office["staff"],
        due_at=now - dt.timedelta(hours=2),
    )
    make_task(office["board"], office["manager"], title="Whenever", assignee=office["staff"])
    done = make_task(
        office["board"],
        office["manager"],
        title="Done",
        assignee=office["staff"],
        due_at=now - dt.timedelta(days=1),
    )
    services.task_move(actor=office["staff"], task_id=done.pk, version=done.version, status="done")
    make_task(office["board"], office["manager"], title="Not mine", due_at=now)
    panel = selectors.home_panel(office["staff"])
    assert [t.title for t in panel["tasks"]] == ["Late", "Later", "Whenever"]
    html = render_to_string("tasks/_home_panel.html", {"panel": panel})
    assert "<h2" in html and 'aria-labelledby="tasks-panel-h"' in html
    assert html.index("Late") < html.index("overdue") < html.index("Later")
    assert late.is_overdue


def test_comment_view_posts_and_links_the_anchor(office, client):
    task = make_task(office["board"], office["manager"])
    client.force_login(office["staff"])
    response = client.post(reverse("tasks:comment_add", args=[task.pk]), {"body": "gata"})
    assert response.status_code == 302 and "#comment-" in response["Location"]
    assert "gata" in client.get(reverse("tasks:task", args=[task.pk])).content.decode()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("program.exe", b"MZ\x90\x00" + b"\x00" * 100),
        ("program.pdf", b"MZ\x90\x00" + b"\x00" * 100),  # a renamed program
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("fake.pdf", b"<html>not a pdf</html>"),
        ("scan.png", b"\x7fELF\x02\x01" + b"\x00" * 64),  # a renamed Linux program
        ("macro.docm", b"PK\x03\x04" + b"\x00" * 64),  # an Office file with macros
        ("empty.txt", b""),
    ],
)
def test_forbidden_or_broken_files_are_refused(office, client, name, content):
    task = make_task(office["board"], office["staff"])
    client.force_login(office["staff"])
    response = client.post(
        reverse("tasks:attachment_add", args=[task.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 400
    assert 'id="id_file_error"' in response.content.decode()
    assert not Attachment.objects.exists()


def test_file_over_the_size_limit_is_refused(office, settings):
    settings.CETATEA_TASK_ATTACHMENT_MAX_BYTES = 1024
    task = make_task(office["board"], office["staff"])
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(
            actor=office["staff"],
            task_id=task.pk,
            file=SimpleUploadedFile("big.pdf", PDF + b"0" * 2048),
        )
    assert exc.value.code == "too_large"
    assert "larger than" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("deviz.pdf", PDF, "application/pdf"),
        ("notă.md", "# Notă\nșanț și țeavă".encode(), "text/markdown; charset=utf-8"),
        ("poză.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg"),
        (
            "raport.docx",
            b"PK\x03\x04" + b"\x00" * 64,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_allowed_files_are_kept_privately_once(office, settings, name, content, content_type):
    task = make_task(office["board"], office["staff"])
    upload = SimpleUploadedFile(name, content)
    row = services.attachment_add(actor=office["staff"], task_id=task.pk, file=upload)
    again = services.attachment_add(
        actor=office["staff"], task_id=task.pk, file=SimpleUploadedFile(name, content)
    )
    assert row.pk == again.pk and Attachment.objects.count() == 1
    assert row.content_type == content_type and row.original_name == name
    path = settings.CETATEA_PRIVATE_MEDIA_ROOT / row.file.name
    assert path.read_bytes() == content
    assert name not in row.file.name  # a random stored name
