"""The staff page of inbound e-mail (/staff/inbox/): managers and administrators only,
newest first, by outcome, keyset pages that never skip or repeat a message."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cetatea.inbox import selectors
from cetatea.inbox.models import InboundMessage
from conftest import make_case

pytestmark = pytest.mark.django_db

LIST = "/staff/inbox/"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english(client):
    """The assertions read the English interface (Romanian is the default)."""
    client.cookies["django_language"] = "en"


def make_message(n: int, outcome: str = "created", *, at: dt.datetime | None = None, **extra):
    extra.setdefault("from_address", f"cetatean{n}@example.ro")
    extra.setdefault("subject", f"Mesaj {n}")
    return InboundMessage.objects.create(
        message_id=f"<m{n}@example.ro>",
        source="imap",
        outcome=outcome,
        received_at=at or T0 + dt.timedelta(minutes=n),
        **extra,
    )


@pytest.fixture
def messages(catalog):
    """One message of each outcome, newest last; a case for the two that filed one."""
    case = make_case(title="Groapă pe strada Mare")
    return {
        "created": make_message(1, "created", case=case, subject="Groapă pe strada Mare"),
        "attached": make_message(2, "attached", case=case, subject=f"Re: [{case.reference}]"),
        "auto_reply": make_message(3, "auto_reply", reason="Auto-Submitted: auto-replied"),
        "bounce": make_message(4, "bounce", from_address="mailer-daemon@mx.example.ro"),
        "rejected": make_message(5, "rejected", error="The category GONE does not exist."),
    }


def rows(response) -> list[str]:
    return [m.message_id for m in response.context["page"].messages]


# --- who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manager", 200),
        ("admin", 200),
        ("staff", 403),
        ("operator", 403),
        ("clerk", 403),
        ("crew", 403),
        ("citizen", 403),
    ],
)
def test_only_managers_and_administrators_see_the_mail_log(client, personas, who, status):
    client.force_login(personas[who])
    assert client.get(LIST).status_code == status
    message = make_message(1)
    assert client.get(reverse("inbox:detail", args=[message.pk])).status_code == status


def test_a_visitor_is_sent_to_sign_in(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_staff_menu_links_the_log_only_for_those_allowed(client, personas, catalog):
    link = f'href="{LIST}"'
    client.force_login(personas["manager"])
    assert link in client.get("/staff/queue/").content.decode()
    client.force_login(personas["staff"])
    assert link not in client.get("/staff/queue/").content.decode()


# --- what it shows -------------------------------------------------------------------------


def test_the_log_shows_each_message_newest_first_with_its_outcome_and_case(
    client, personas, messages, django_assert_max_num_queries
):
    client.force_login(personas["manager"])
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert response.status_code == 200
    assert rows(response) == [f"<m{n}@example.ro>" for n in (5, 4, 3, 2, 1)]
    html = response.content.decode()
    for label in (
        "Case created",
        "Attached to a case",
        "Ignored: automatic reply",
        "Delivery failure (bounce)",
        "Rejected",
    ):
        assert label in html
    assert "The category GONE does not exist." in html
    assert "Auto-Submitted: auto-replied" in html
    case = messages["created"].case
    assert f'href="{reverse("console:case", args=[case.pk])}">{case.reference}</a>' in html
    # The sender is personal data: the domain is shown, not the mailbox.
    assert "cetatean1@example.ro" not in html
    assert "c***@example.ro" in html


def test_the_log_is_in_romanian_by_default(client, personas, messages):
    client.cookies.pop("django_language")
    client.force_login(personas["admin"])
    html = client.get(LIST).content.decode()
    assert '<html lang="ro">' in html
    assert "E-mail primit" in html and "Solicitare creată" in html and "Respins" in html
    assert "c***@example.ro" in html and "Orice rezultat" in html


def test_the_filter_keeps_one_outcome(client, personas, messages):
    client.force_login(personas["manager"])
    response = client.get(LIST, {"outcome": "rejected"})
    assert rows(response) == ["<m5@example.ro>"]
    response = client.get(LIST, {"outcome": "attached"})
    assert rows(response) == ["<m2@example.ro>"]
    assert client.get(LIST, {"outcome": "nonsense"}).status_code == 400


def test_the_pages_cover_every_message_once_even_at_the_same_instant(
    client, personas, catalog, settings
):
    settings.CETATEA_PAGE_SIZE = 3
    for n in range(1, 6):
        make_message(n)
    for n in range(6, 10):  # four messages received in the same microsecond
        make_message(n, at=T0 + dt.timedelta(hours=1))
    make_message(10, "rejected", at=T0 + dt.timedelta(hours=1))
    client.force_login(personas["manager"])
    seen, query, pages = [], {}, 0
    while True:
        response = client.get(LIST, query)
        assert response.status_code == 200
        seen += rows(response)
        pages += 1
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
        html = response.content.decode()
        assert 'rel="next"' in html and "Older messages" in html
        query = {"cursor": cursor}
    assert pages == 4
    assert len(seen) == len(set(seen)) == 10
    assert seen == [m.message_id for m in InboundMessage.objects.order_by("-received_at", "-id")]
    assert "Newest messages" in response.content.decode()

    # The filter is kept from page to page.
    first = client.get(LIST, {"outcome": "created"})
    next_link = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1)
    assert "outcome=created" in next_link
    second = client.get(next_link.replace("&amp;", "&"))
    assert "<m10@example.ro>" not in rows(first) + rows(second)
    assert len(rows(first) + rows(second)) == 6


def test_a_broken_cursor_starts_from_the_newest(client, personas, catalog):
    make_message(1)
    client.force_login(personas["manager"])
    for cursor in ("nonsense", "2026-03-02T09:00:00|x", "2026-03-02T09:00:00|5"):
        response = client.get(LIST, {"cursor": cursor})
        assert rows(response) == ["<m1@example.ro>"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")
@pytest.mark.parametrize(
    ("outcome", "index"), [("", "inbound_received_idx"), ("bounce", "inbound_outcome_idx")]
)
def test_a_page_is_one_range_of_an_index_without_a_sort(catalog, outcome, index):
    """Nothing grows with the log: a page reads page size + 1 rows along an index."""
    for n in range(1, 8):
        make_message(n, "bounce" if n % 2 else "created")
    first = selectors.inbound_message_list(outcome=outcome, page_size=2)
    for cursor in ("", first.next_cursor):
        with CaptureQueriesContext(connection) as ctx:
            selectors.inbound_message_list(outcome=outcome, cursor=cursor, page_size=2)
        (sql,) = [q["sql"] for q in ctx.captured_queries if "inbox_inboundmessage" in q["sql"]]
        assert "LIMIT 3" in sql
        with connection.cursor() as cursor_:
            cursor_.execute("EXPLAIN QUERY PLAN " + sql)
            plan = " ".join(str(row[-1]) for row in cursor_.fetchall())
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan, plan


# --- one message ---------------------------------------------------------------------------


def test_the_detail_page_shows_the_metadata_and_the_attachments_names(client, personas, messages):
    message = messages["created"]
    message.attachments = [
        {"name": "groapa.jpg", "size": 120_000, "kept": True, "reason": ""},
        {"name": "film.mp4", "size": 30_000_000, "kept": False, "reason": "Larger than 20 MB."},
    ]
    message.sent_at = timezone.now()
    message.save(update_fields=["attachments", "sent_at"])
    client.force_login(personas["admin"])
    html = client.get(reverse("inbox:detail", args=[message.pk])).content.decode()
    assert "groapa.jpg" in html and "kept on the case" in html
    assert "film.mp4" in html and "not kept" in html and "Larger than 20 MB." in html
    assert "&lt;m1@example.ro&gt;" in html  # the Message-ID
    assert "cetatean1@example.ro" not in html and "c***@example.ro" in html
    assert message.case.reference in html
    assert client.get(reverse("inbox:detail", args=[999_999])).status_code == 404
