import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Case, CaseEvent
from cetatea.catalog.models import StaffProfile, Team
from cetatea.console import services
from cetatea.console.models import CannedResponse, SavedView
from cetatea.console.selectors import QueueFilters, case_queue, case_version
from conftest import INSIDE, make_case, make_cnp, make_person

pytestmark = pytest.mark.django_db

QUEUE = "/staff/queue/"


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Messages are asserted in English (the lead keeps the Romanian translations)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def staff(personas, catalog):
    user = personas["staff"]
    StaffProfile.objects.create(user=user, department=catalog["roads"])
    return user


def case_url(case, action=""):
    return f"/staff/cases/{case.pk}/" + (f"{action}/" if action else "")


def post_action(client, case, action, data, version=None):
    prefix = {"attach": "attach"}.get(action, action)
    payload = {f"{prefix}-{k}": v for k, v in data.items()}
    payload[f"{prefix}-version"] = version if version is not None else case_version(case)
    return client.post(case_url(case, action), payload)


def refs(response):
    return [c.reference for c in response.context["page"].cases]


# --- the queue --------------------------------------------------------------------------


def test_queue_shows_the_users_department_soonest_due_first(client, staff, catalog):
    late = make_case(title="late")
    soon = make_case(title="soon")
    Case.objects.filter(pk=soon.pk).update(due_at=timezone.now() + dt.timedelta(hours=2))
    make_case(category="INFO", title="other department")
    client.force_login(staff)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert refs(response) == [soon.reference, late.reference]
    assert "Drumuri" in response.content.decode() or "Roads" in response.content.decode()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("due=overdue", {"overdue"}),
        ("due=soon", {"soon"}),
        ("assigned=me", {"mine"}),
        ("assigned=none", {"overdue", "soon", "paused", "later"}),
        ("channel=phone", {"later"}),
        ("status=on_hold", {"paused"}),
        ("status=fixed", {"closed"}),
    ],
)
def test_queue_filters(client, staff, catalog, query, expected):
    now = timezone.now()
    overdue = make_case(title="overdue")
    Case.objects.filter(pk=overdue.pk).update(due_at=now - dt.timedelta(hours=1))
    soon = make_case(title="soon")
    Case.objects.filter(pk=soon.pk).update(due_at=now + dt.timedelta(hours=3))
    paused = make_case(title="paused")
    services.console_change_status(case_id=paused.pk, version=None, actor=staff, status="on_hold")
    Case.objects.filter(pk=paused.pk).update(due_at=now - dt.timedelta(hours=1))
    make_case(title="later", channel="phone")
    mine = make_case(title="mine")
    services.console_assign(case_id=mine.pk, version=None, actor=staff, assignee=staff)
    closed = make_case(title="closed")
    services.console_change_status(case_id=closed.pk, version=None, actor=staff, status="fixed")
    client.force_login(staff)
    response = client.get(f"{QUEUE}?{query}")
    assert {c.title for c in response.context["page"].cases} == expected


def test_queue_sorts_by_priority_and_registration(client, staff, catalog):
    low = make_case(title="low", priority=1)
    urgent = make_case(title="urgent", priority=4)
    normal = make_case(title="normal")
    client.force_login(staff)
    assert refs(client.get(f"{QUEUE}?sort=priority")) == [
        urgent.reference,
        normal.reference,
        low.reference,
    ]
    assert refs(client.get(f"{QUEUE}?sort=registered")) == [
        normal.reference,
        urgent.reference,
        low.reference,
    ]


@pytest.mark.parametrize("sort", ["due", "registered", "priority"])
def test_keyset_pages_cover_every_case_once(staff, catalog, sort):
    cases = []
    for i in range(13):
        case = make_case(title=f"c{i}", priority=1 + i % 4)
        cases.append(case)
        if i % 3 == 0:
            services.console_change_status(
                case_id=case.pk, version=None, actor=staff, status="in_progress"
            )
    Case.objects.filter(pk__in=[c.pk for c in cases[:5]]).update(due_at=cases[0].due_at)
    seen, cursor = [], ""
    filters = QueueFilters(department=catalog["roads"], sort=sort)
    for _ in range(10):
        page = case_queue(user=staff, filters=filters, cursor=cursor, page_size=4)
        seen += [c.pk for c in page.cases]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(c.pk for c in cases)
    assert len(seen) == len(set(seen))


def test_queue_page_queries_do_not_grow(client, staff, catalog, django_assert_max_num_queries):
    for _ in range(30):
        make_case()
    client.force_login(staff)
    with django_assert_max_num_queries(20):
        response = client.get(QUEUE)
    assert len(response.context["page"].cases) == 25
    assert response.context["next_query"]
    second = client.get(f"{QUEUE}?{response.context['next_query']}")
    assert len(second.context["page"].cases) == 5


def test_bad_filter_or_cursor_is_a_clear_message_not_a_crash(client, staff, catalog):
    make_case()
    client.force_login(staff)
    response = client.get(f"{QUEUE}?status=nonsense")
    assert response.status_code == 400
    assert "nonsense" in response.content.decode()
    response = client.get(f"{QUEUE}?cursor=garbage")
    assert response.status_code == 200  # an unreadable cursor starts at the first page
    assert len(response.context["page"].cases) == 1


def test_queue_needs_a_staff_role(client, personas, catalog):
    assert client.get(QUEUE).status_code == 302
    client.force_login(personas["citizen"])
    assert client.get(QUEUE).status_code == 403


def test_team_filter(client, staff, catalog):
    team = Team.objects.create(department=catalog["roads"], code="crew1", name_ro="Echipa 1")
    team.members.add(staff)
    on_team = make_case(title="team")
    make_case(title="no team")
    services.console_assign_team(case_id=on_team.pk, version=None, actor=staff, team=team)
    client.force_login(staff)
    assert refs(client.get(f"{QUEUE}?team=mine")) == [on_team.reference]
    assert refs(client.get(f"{QUEUE}?team={team.pk}")) == [on_team.reference]


# --- saved views ------------------------------------------------------------------------


def test_saved_views_are_per_user(client, staff, personas, catalog):
    client.force_login(staff)
    response = client.post(
        reverse("console:saved_view_save"), {"name": "Overdue", "query": "due=overdue&sort=due"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?due=overdue&sort=due")
    view = SavedView.objects.get(user=staff)
    assert "Overdue" in client.get(QUEUE).content.decode()
    # Saving the same name again replaces the filters; an empty name is refused.
    client.post(reverse("console:saved_view_save"), {"name": "Overdue", "query": "due=soon"})
    assert SavedView.objects.get(user=staff).query == "due=soon"
    client.post(reverse("console:saved_view_save"), {"name": "", "query": "x=1"})
    assert SavedView.objects.count() == 1
    # Another user neither sees nor deletes it.
    client.force_login(personas["manager"])
    assert client.get(QUEUE).context["saved_views"] == []
    client.post(reverse("console:saved_view_delete", args=[view.pk]))
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(staff)
    client.post(reverse("console:saved_view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


# --- bulk actions -----------------------------------------------------------------------


def test_bulk_status_reports_per_case_what_worked_and_what_was_refused(client, staff, catalog):
    open_case = make_case(title="open")
    closed = make_case(title="closed")
    services.console_change_status(case_id=closed.pk, version=None, actor=staff, status="fixed")
    client.force_login(staff)
    response = client.post(
        reverse("console:bulk"),
        {"cases": [open_case.pk, closed.pk], "action": "status", "status": "in_progress"},
    )
    assert response.status_code == 200
    results = {r.reference: r for r in response.context["results"]}
    assert results[open_case.reference].ok
    assert not results[closed.reference].ok
    assert "cannot become" in results[closed.reference].message
    open_case.refresh_from_db()
    closed.refresh_from_db()
    assert (open_case.status, closed.status) == ("in_progress", "fixed")


def test_bulk_assign_and_merge(client, staff, personas, catalog):
    a, b, c = make_case(title="a"), make_case(title="b"), make_case(title="c")
    client.force_login(staff)
    response = client.post(
        reverse("console:bulk"),
        {"cases": [a.pk, b.pk], "action": "assign", "assignee": personas["crew"].pk},
    )
    assert all(r.ok for r in response.context["results"])
    assert set(Case.objects.filter(assignee=personas["crew"]).values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }
    # Department staff may not merge: each case says so, nothing changes.
    response = client.post(
        reverse("console:bulk"), {"cases": [a.pk, b.pk], "action": "merge", "into": c.reference}
    )
    assert not any(r.ok for r in response.context["results"])
    assert not Case.objects.filter(status="duplicate").exists()
    client.force_login(personas["manager"])
    response = client.post(
        reverse("console:bulk"),
        {"cases": [a.pk, b.pk, c.pk], "action": "merge", "into": c.reference},
    )
    assert all(r.ok for r in response.context["results"])
    assert set(Case.objects.filter(merged_into=c).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_bulk_with_bad_input_changes_nothing(client, staff, catalog):
    a = make_case()
    client.force_login(staff)
    response = client.post(reverse("console:bulk"), {"cases": [a.pk], "action": "status"})
    assert response.status_code == 400
    assert "Choose a status" in response.content.decode()
    response = client.post(reverse("console:bulk"), {"action": "assign"})
    assert response.status_code == 400
    response = client.post(
        reverse("console:bulk"), {"cases": [a.pk], "action": "merge", "into": "nonsense"}
    )
    assert response.status_code == 400
    assert "not a case reference" in response.content.decode()
    a.refresh_from_db()
    assert a.status == "new" and a.assignee is None


# --- the case page ----------------------------------------------------------------------


def test_case_page_shows_header_history_and_masked_requester(client, staff, personas, catalog):
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    case = make_case(requester=person, latitude=INSIDE[0], longitude=INSIDE[1])
    services.console_add_note(
        case_id=case.pk, version=None, actor=staff, text="Verificat", public=False
    )
    client.force_login(staff)
    response = client.get(case_url(case))
    body = response.content.decode()
    assert response.status_code == 200
    assert case.reference in body
    assert cnp not in body and person.national_id_masked in body
    assert reverse("people:detail", args=[person.pk]) in body
    assert "Verificat" in body
    assert "46.07000" in body
    history = response.context["history"].items
    assert history[0].kind == "event" and history[0].obj.text == "Verificat"


def test_case_history_is_paginated(client, staff, catalog, settings):
    settings.CETATEA_PAGE_SIZE = 3
    case = make_case()
    for i in range(5):
        services.console_add_note(
            case_id=case.pk, version=None, actor=staff, text=f"n{i}", public=False
        )
    client.force_login(staff)
    response = client.get(case_url(case))
    assert [i.obj.text for i in response.context["history"].items] == ["n4", "n3", "n2"]
    cursor = response.context["history"].next_cursor
    response = client.get(f"{case_url(case)}history/", {"cursor": cursor})
    items = response.context["history"].items
    assert [i.obj.text for i in items if i.kind == "event"][:2] == ["n1", "n0"]


def test_waiting_for_the_citizen_shows_the_clock_paused(client, staff, catalog):
    case = make_case()
    response_post = post_action(client_login(client, staff), case, "status", {"status": "on_hold"})
    assert response_post.status_code == 302
    case.refresh_from_db()
    assert case.paused_since is not None
    assert "clock paused" in client.get(case_url(case)).content.decode()


def client_login(client, user):
    client.force_login(user)
    return client


def test_refused_transition_is_a_clear_message_and_nothing_changes(client, staff, catalog):
    case = make_case()
    services.console_change_status(case_id=case.pk, version=None, actor=staff, status="fixed")
    case.refresh_from_db()
    events = CaseEvent.objects.count()
    response = post_action(client_login(client, staff), case, "status", {"status": "in_progress"})
    assert response.status_code == 400
    assert "cannot become" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "fixed" and CaseEvent.objects.count() == events


def test_public_reply_and_internal_note(client, staff, catalog):
    case = make_case()
    client_login(client, staff)
    post_action(client, case, "note", {"text": "Echipa vine mâine", "public": "on"})
    case.refresh_from_db()
    post_action(client, case, "note", {"text": "doar intern"})
    reply, note = CaseEvent.objects.filter(case=case).order_by("id")[1:]
    assert (reply.kind, reply.is_public) == ("public_reply", True)
    assert (note.kind, note.is_public, note.actor) == ("internal_note", False, staff)


def test_assign_person_and_team(client, staff, personas, catalog):
    team = Team.objects.create(department=catalog["public"], code="ghiseu", name_ro="Ghișeu")
    case = make_case()
    client_login(client, staff)
    assert post_action(client, case, "assign", {"assignee": personas["crew"].pk}).status_code == 302
    case.refresh_from_db()
    assert post_action(client, case, "team", {"team": team.pk}).status_code == 302
    case.refresh_from_db()
    assert case.assignee == personas["crew"]
    assert (case.team, case.department) == (team, catalog["public"])
    assert CaseEvent.objects.filter(case=case, kind="assignment").count() == 2


def test_canned_response_fills_the_reply_box(client, staff, catalog):
    case = make_case()
    mine = CannedResponse.objects.create(
        category=catalog["pothole"],
        title_ro="Programat",
        text_ro="Reparăm groapa săptămâna aceasta.",
    )
    general = CannedResponse.objects.create(title_ro="Mulțumim", text_ro="Vă mulțumim.")
    other = CannedResponse.objects.create(
        category=catalog["info"], title_ro="Altă categorie", text_ro="Nu."
    )
    client_login(client, staff)
    response = client.get(case_url(case))
    assert set(response.context["canned"]) == {mine, general}
    response = client.get(case_url(case), {"canned": mine.pk})
    assert response.context["note_form"]["text"].value() == "Reparăm groapa săptămâna aceasta."
    response = client.get(case_url(case), {"canned": other.pk})
    assert not response.context["note_form"]["text"].value()


def test_attachment_is_kept_and_recorded(client, staff, catalog):
    case = make_case()
    client_login(client, staff)
    upload = SimpleUploadedFile("aviz.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(
        case_url(case, "attach"), {"attach-version": case_version(case), "attach-file": upload}
    )
    assert response.status_code == 302
    assert case.attachments.get().original_name == "aviz.pdf"
    assert CaseEvent.objects.filter(case=case, data__name="aviz.pdf").exists()


def test_merge_by_reference_and_the_public_page_points_to_the_survivor(
    client, staff, personas, catalog
):
    keep = make_case(publication="public", latitude=INSIDE[0], longitude=INSIDE[1])
    dup = make_case(publication="public", latitude=INSIDE[0], longitude=INSIDE[1])
    client_login(client, staff)
    assert post_action(client, dup, "merge", {"reference": keep.reference}).status_code == 403
    client_login(client, personas["manager"])
    response = post_action(client, dup, "merge", {"reference": "XX-1"})
    assert response.status_code == 400 and "not a case reference" in response.content.decode()
    assert post_action(client, dup, "merge", {"reference": keep.reference}).status_code == 302
    dup.refresh_from_db()
    assert dup.merged_into == keep and dup.status == "duplicate"
    public = client.get(reverse("portal:case", args=[dup.reference]))
    assert public.status_code == 302
    assert public["Location"] == reverse("portal:case", args=[keep.reference])


def test_forward_to_the_outside_operator(
    client, staff, catalog, django_capture_on_commit_callbacks
):
    catalog["water"].email = "dispecerat@apa.example"
    catalog["water"].save()
    case = make_case(category="LEAK", title="Țeavă spartă", description="Curge apa pe stradă")
    client_login(client, staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, case, "forward", {"note": "Urgent, vă rog"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dispecerat@apa.example"]
    assert case.reference in message.subject
    assert "Curge apa pe stradă" in message.body and "Urgent, vă rog" in message.body
    events = CaseEvent.objects.filter(case=case).order_by("id")
    assert events.filter(data__forwarded_to="dispecerat@apa.example", is_public=False).exists()
    notice = events.get(kind="public_reply")
    assert notice.is_public and "forwarded" in notice.text


def test_forward_without_operator_is_refused(
    client, staff, catalog, django_capture_on_commit_callbacks
):
    case = make_case()  # potholes: a city department, no outside operator
    client_login(client, staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, case, "forward", {})
    assert response.status_code == 400
    assert "no outside operator" in response.content.decode()
    assert not mail.outbox
    assert CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    "persona, action, data",
    [
        ("operator", "status", {"status": "in_progress"}),
        ("operator", "assign", {"assignee": ""}),
        ("crew", "merge", {"reference": "X"}),
        ("staff", "merge", {"reference": "X"}),
    ],
)
def test_actions_are_checked_by_role(client, personas, catalog, persona, action, data):
    case = make_case()
    before = CaseEvent.objects.count()
    response = post_action(client_login(client, personas[persona]), case, action, data)
    assert response.status_code == 403
    assert CaseEvent.objects.count() == before


def test_case_page_needs_a_role(client, personas, catalog):
    case = make_case()
    client_login(client, personas["citizen"])
    assert client.get(case_url(case)).status_code == 403
    assert post_action(client, case, "note", {"text": "x"}).status_code == 403


# --- no lost update ---------------------------------------------------------------------


def test_two_submits_with_the_same_version_the_second_sees_a_conflict(client, staff, catalog):
    case = make_case()
    version = case_version(case)
    client_login(client, staff)
    first = post_action(client, case, "note", {"text": "Prima", "public": "on"}, version=version)
    assert first.status_code == 302
    second = post_action(client, case, "note", {"text": "A doua, păstrată"}, version=version)
    assert second.status_code == 409
    body = second.content.decode()
    assert "Someone else changed this case at" in body
    assert "Prima" in body  # what changed
    assert "A doua, păstrată" in body  # your text is kept
    assert not CaseEvent.objects.filter(text="A doua, păstrată").exists()
    # The kept form carries the new version: sending it again is a deliberate decision.
    retry = second.context["note_form"]["version"].value()
    again = post_action(client, case, "note", {"text": "A doua, păstrată"}, version=retry)
    assert again.status_code == 302
    assert CaseEvent.objects.filter(text="A doua, păstrată").exists()


def test_a_status_change_by_someone_else_blocks_a_stale_assign(client, staff, personas, catalog):
    case = make_case()
    version = case_version(case)
    services.console_change_status(
        case_id=case.pk, version=version, actor=personas["manager"], status="in_progress"
    )
    with pytest.raises(services.CaseConflict) as exc:
        services.console_assign(case_id=case.pk, version=version, actor=staff, assignee=staff)
    assert [e.kind for e in exc.value.events] == ["status"]
    case.refresh_from_db()
    assert case.assignee is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_staff_at_once_only_one_write_wins(personas, catalog):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    staff = personas["staff"]
    case = make_case()
    version = case_version(case)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def worker(text):
        from django.db import connections

        try:
            barrier.wait()
            services.console_add_note(
                case_id=case.pk, version=version, actor=staff, text=text, public=False
            )
            results.append("ok")
        except services.CaseConflict:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert CaseEvent.objects.filter(case=case, kind="internal_note").count() == 1


def test_services_refuse_without_permission(personas, catalog):
    case = make_case()
    with pytest.raises(PermissionDenied):
        services.console_change_status(
            case_id=case.pk, version=None, actor=personas["operator"], status="in_progress"
        )
    with pytest.raises(ValidationError):
        services.saved_view_create(user=personas["staff"], name="  ", query="")


def test_queue_reads_are_index_ranges_on_the_existing_indexes(staff, catalog):
    """Each status of a department queue is one range of case_queue_idx read in due order
    (no sort of the department's cases); every department uses case_status_due_idx."""
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    for _ in range(3):
        make_case()
    for department, index in ((catalog["roads"], "case_queue_idx"), (None, "case_status_due_idx")):
        with CaptureQueriesContext(connection) as ctx:
            case_queue(user=staff, filters=QueueFilters(department=department), page_size=5)
        reads = [q["sql"] for q in ctx.captured_queries if "LIMIT 6" in q["sql"]]
        assert len(reads) == 6  # one per open status
        for sql in reads:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert index in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def test_queue_options_are_read_once_and_follow_catalogue_changes(client, staff, catalog):
    """The select options come from a per-process cache; a saved category drops it."""
    from django.test.utils import CaptureQueriesContext

    from cetatea.catalog.models import Category

    client.force_login(staff)
    assert client.get(QUEUE).status_code == 200
    with CaptureQueriesContext(connection) as second:
        client.get(QUEUE)
    assert not [q for q in second.captured_queries if '"catalog_category"' in q["sql"]]
    Category.objects.create(
        code="NEWCAT",
        name_ro="Categorie nouă",
        name_en="Brand-new category",
        department=catalog["roads"],
        target_hours=24,
    )
    assert "Brand-new category" in client.get(QUEUE).content.decode()
    catalog["pothole"].name_en = "Holes in the road"
    catalog["pothole"].save()
    assert "Holes in the road" in client.get(QUEUE).content.decode()
