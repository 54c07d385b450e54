"""The audit log viewer: who may read it, its filters and pages, its CSV; it is audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from cetatea.core.models import AuditLog

URL = reverse("privacy:audit")
CSV = reverse("privacy:audit_csv")
VIEW, REVEAL, EXPORT = (
    AuditLog.Action.VIEW_PERSON,
    AuditLog.Action.REVEAL_NATIONAL_ID,
    AuditLog.Action.EXPORT,
)


def log(actor, action, person_id, when=None, reason=""):
    if when is None:
        return AuditLog.objects.create(
            actor=actor, action=action, person_id=person_id, reason=reason, object_repr="P"
        )
    with time_machine.travel(when, tick=False):
        return AuditLog.objects.create(
            actor=actor, action=action, person_id=person_id, reason=reason, object_repr="P"
        )


@pytest.fixture
def trail(personas):
    op, clerk = personas["operator"], personas["clerk"]
    return [
        log(op, VIEW, 11, dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)),
        log(clerk, REVEAL, 11, dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC), reason="petition"),
        log(op, VIEW, 12, dt.datetime(2026, 3, 10, 10, tzinfo=dt.UTC)),
        log(clerk, EXPORT, 12, dt.datetime(2026, 3, 20, 10, tzinfo=dt.UTC)),
    ]


@pytest.mark.parametrize(
    ("who", "status"),
    [("dpo", 200), ("admin", 200), ("operator", 403), ("manager", 403), ("citizen", 403)],
)
def test_who_may_read_the_audit_log(client, personas, dpo, who, status):
    user = dpo if who == "dpo" else personas[who]
    client.force_login(user)
    assert client.get(URL).status_code == status


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_lists_newest_first(client, dpo, trail):
    client.force_login(dpo)
    response = client.get(URL)
    assert [r.pk for r in response.context["page"].rows] == [t.pk for t in reversed(trail)]
    assert "<td>National id revealed</td>" in response.content.decode()
    assert "<td>petition</td>" in response.content.decode()


def test_filters_by_person_and_the_look_is_audited(client, dpo, trail):
    client.force_login(dpo)
    response = client.get(URL, {"person": "11"})
    assert [r.pk for r in response.context["page"].rows] == [trail[1].pk, trail[0].pk]
    looked = AuditLog.objects.filter(action=AuditLog.Action.VIEW_AUDIT).get()
    assert looked.actor == dpo
    assert looked.person_id == 11


def test_a_page_without_a_person_filter_is_not_audited(client, dpo, trail):
    client.force_login(dpo)
    client.get(URL, {"action": VIEW})
    assert not AuditLog.objects.filter(action=AuditLog.Action.VIEW_AUDIT).exists()


def test_filters_by_staff_member_action_and_dates(client, dpo, personas, trail):
    client.force_login(dpo)
    by_clerk = client.get(URL, {"actor": personas["clerk"].pk}).context["page"].rows
    assert [r.pk for r in by_clerk] == [trail[3].pk, trail[1].pk]
    views = client.get(URL, {"action": VIEW}).context["page"].rows
    assert [r.pk for r in views] == [trail[2].pk, trail[0].pk]
    march = client.get(URL, {"since": "2026-03-05", "until": "2026-03-10"}).context["page"].rows
    assert [r.pk for r in march] == [trail[2].pk, trail[1].pk]


def test_a_name_lists_the_matching_persons(client, dpo, citizen):
    client.force_login(dpo)
    response = client.get(URL, {"person": "Popescu"})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert f"?person={citizen['person'].pk}" in response.content.decode()


def test_bad_filters_are_refused_with_a_clear_error(client, dpo, trail):
    client.force_login(dpo)
    response = client.get(URL, {"since": "2026-03-10", "until": "2026-03-01"})
    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()
    assert client.get(URL, {"action": "nonsense"}).status_code == 400


def test_pages_follow_each_other_without_gaps(client, dpo, personas, settings):
    settings.CETATEA_PAGE_SIZE = 2
    rows = [log(personas["operator"], VIEW, 20 + i) for i in range(5)]
    client.force_login(dpo)
    seen, query = [], {}
    for _ in range(5):
        page = client.get(URL, query).context["page"]
        seen += [r.pk for r in page.rows]
        if not page.next_cursor:
            break
        query = {"cursor": page.next_cursor}
    assert seen == [r.pk for r in reversed(rows)]


def test_a_page_costs_the_same_whatever_the_log_size(
    client, dpo, personas, django_assert_max_num_queries
):
    AuditLog.objects.bulk_create(
        [AuditLog(actor=personas["operator"], action=VIEW, person_id=i) for i in range(300)]
    )
    client.force_login(dpo)
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"actor": personas["operator"].pk})
    assert len(response.context["page"].rows) == 25


def test_the_csv_export_is_filtered_capped_and_audited(client, dpo, trail, settings):
    settings.CETATEA_AUDIT_EXPORT_MAX_ROWS = 2
    client.force_login(dpo)
    response = client.get(CSV, {"person": "11"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("time,staff_member,action")
    # The export's own audit row comes first (newest); then the person's trail, capped.
    assert len(lines) == 3
    assert ",dpo,export,11," in lines[1]
    assert "reveal_national_id" in lines[2]
    export = AuditLog.objects.filter(action=EXPORT, actor=dpo).get()
    assert export.person_id == 11
    assert export.details["max_rows"] == 2


def test_the_csv_export_needs_the_permission(client, personas, trail):
    client.force_login(personas["operator"])
    assert client.get(CSV).status_code == 403
    assert not AuditLog.objects.filter(actor=personas["operator"], action=EXPORT).exists()


def test_csv_cells_never_start_a_formula(client, dpo, personas):
    log(personas["clerk"], REVEAL, 30, reason="=HYPERLINK(1)")
    client.force_login(dpo)
    body = b"".join(client.get(CSV, {"person": "30"}).streaming_content).decode()
    assert "'=HYPERLINK(1)" in body


def test_nothing_on_the_viewer_edits(client, dpo, trail):
    client.force_login(dpo)
    assert client.post(URL, {"person": "11"}).status_code == 405
    html = client.get(URL).content.decode()
    posts = re.findall(r'<form method="post"[^>]*action="([^"]*)"', html)
    assert not [action for action in posts if action.startswith("/staff/")]
