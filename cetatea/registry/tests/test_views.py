"""The clerk's registry pages: register a document, the entry page and its actions, the
search over the register, the deadline watch, file downloads, and who may see what."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from cetatea.catalog.models import StaffProfile
from cetatea.people.models import Person
from cetatea.registry import selectors
from cetatea.registry.choices import Direction, EntryStatus, EventKind, SenderKind
from cetatea.registry.models import Entry, EntryFile, RegistryBook
from cetatea.registry.services import registry_entry_add_file, registry_entry_register
from conftest import make_cnp, make_person, make_user

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Bucharest")
NEW = "/staff/registry/new/"
LIST = "/staff/registry/"
DEADLINES = "/staff/registry/deadlines/"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Messages are asserted in English (the lead keeps the Romanian translations)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def users(registry, personas):
    """A clerk of the general registry, a clerk of no point, the staff of the roads
    department (the DV and DAS points' department here), a manager, an administrator."""
    clerk = personas["clerk"]
    registry["points"]["rg"].clerks.add(clerk)
    StaffProfile.objects.create(user=personas["staff"], department=registry["roads"])
    from cetatea.core import roles

    return {
        **personas,
        "pointless_clerk": make_user("clerk2", roles.REGISTRY_CLERK),
    }


def register(registry, point="rg", kind="petitie", **kwargs) -> Entry:
    kwargs.setdefault("summary", "Cerere privind repararea trotuarului de pe str. Trandafirilor")
    kwargs.setdefault("sender_name", "Popescu Ion")
    kwargs.setdefault("sender_address", "Str. Trandafirilor 3, Alba Iulia")
    return registry_entry_register(
        point=registry["points"][point], doc_type=registry["types"][kind], **kwargs
    )


def form(registry, **changes) -> dict:
    data = {
        "submit_token": uuid.uuid4().hex,
        "point": registry["points"]["rg"].pk,
        "direction": "in",
        "doc_type": registry["types"]["petitie"].pk,
        "channel": "counter",
        "sender_kind": "person",
        "person": "",
        "sender_name": "Popescu Ion",
        "sender_address": "Str. Trandafirilor 3, Alba Iulia",
        "sender_email": "",
        "sender_phone": "",
        "pages": 2,
        "annexes": 1,
        "summary": "Sesizare privind groapa din fața blocului A3",
        "link_kind": "",
        "link_number": "",
    }
    data.update(changes)
    return data


def last_number(registry, point="rg") -> int:
    book = RegistryBook.objects.filter(point=registry["points"][point]).first()
    return book.last_number if book else 0


def field_errors(response, name) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


# --- the register form --------------------------------------------------------------------


def test_register_form_offers_only_the_clerks_points_and_a_one_time_token(client, users):
    client.force_login(users["clerk"])
    response = client.get(NEW)
    assert response.status_code == 200
    form_ = response.context["form"]
    assert [p.code for p in form_.fields["point"].queryset] == ["rg"]
    assert form_.initial["point"] == form_.fields["point"].queryset[0].pk
    assert len(form_.initial["submit_token"]) == 32
    html = response.content.decode()
    assert 'name="submit_token"' in html and 'enctype="multipart/form-data"' in html


def test_administrators_register_at_every_point(client, users):
    client.force_login(users["admin"])
    response = client.get(NEW)
    assert response.status_code == 200
    assert {p.code for p in response.context["form"].fields["point"].queryset} == {
        "rg",
        "dv",
        "das",
    }


def test_registering_a_petition_at_the_counter_opens_a_case_and_offers_the_receipt(
    client, users, registry
):
    client.force_login(users["clerk"])
    with time_machine.travel(at(2026, 11, 25), tick=False):
        response = client.post(NEW, form(registry))
    entry = Entry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/registry/{entry.pk}/"
    assert entry.display_number == "RG-1/2026"
    assert entry.channel == "counter" and entry.pages == 2 and entry.annexes == 1
    assert entry.registered_by == users["clerk"]
    assert entry.department == registry["public"]  # the point's, by default
    assert entry.due_date == dt.date(2026, 12, 28)
    assert entry.case is not None and entry.case.channel == "counter"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Registered as RG-1/2026. Term: 28.12.2026." in html
    assert f'href="/staff/registry/{entry.pk}/receipt.pdf"' in html
    assert 'id="receipt-link"' in html


def test_a_new_sender_is_recorded_as_a_person_with_a_checked_cnp(client, users, registry):
    client.force_login(users["clerk"])
    cnp = make_cnp()
    response = client.post(
        NEW,
        form(
            registry,
            person="new",
            sender_name="",
            new_last_name="Ionescu",
            new_first_name="Maria",
            new_national_id=cnp,
            sender_email="maria@example.ro",
            sender_phone="0722 123 456",
        ),
    )
    assert response.status_code == 302
    entry = Entry.objects.get()
    person = Person.objects.get()
    assert entry.person == person and entry.sender_name == "Ionescu Maria"
    assert entry.sender_phone == "+40722123456"
    assert person.national_id_masked and person.national_id_masked != cnp
    page = client.get(response["Location"]).content.decode()
    assert cnp not in page  # the national id is only ever shown masked
    assert person.national_id_masked in page


def test_a_cnp_with_a_wrong_check_digit_is_refused_and_nothing_is_kept(client, users, registry):
    client.force_login(users["clerk"])
    cnp = make_cnp()
    wrong = cnp[:-1] + str((int(cnp[-1]) + 1) % 10)
    response = client.post(
        NEW,
        form(registry, person="new", new_last_name="Ionescu", new_national_id=wrong),
    )
    assert response.status_code == 400
    assert field_errors(response, "new_national_id")
    assert "Nothing was saved" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert Person.objects.count() == 0 and Entry.objects.count() == 0
    assert last_number(registry) == 0  # the number taken to check the rest was given back


def test_an_existing_person_found_by_the_search_is_the_sender(client, users, registry):
    person = make_person(last_name="Ștefănescu", first_name="Ana", phones=["0722 111 222"])
    client.force_login(users["clerk"])
    found = client.get(NEW, {"q": "stefanescu", "person": ""}, HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert f'value="{person.pk}"' in found.content.decode()
    # Without JavaScript: the search button shows the same list in the page.
    plain = client.post(NEW, {**form(registry), "q": "stefanescu", "search": "1"})
    assert plain.status_code == 200 and f'value="{person.pk}"' in plain.content.decode()
    assert Entry.objects.count() == 0
    response = client.post(NEW, form(registry, person=str(person.pk), sender_name=""))
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert entry.person == person and entry.sender_name == "Ștefănescu Ana"


def test_a_document_dated_in_the_future_is_refused(client, users, registry):
    client.force_login(users["clerk"])
    with time_machine.travel(at(2026, 11, 25), tick=False):
        response = client.post(NEW, form(registry, sender_date="2026-12-01"))
    assert response.status_code == 400
    assert field_errors(response, "sender_date") == ["The sender's date is in the future."]
    assert Entry.objects.count() == 0 and last_number(registry) == 0


def test_an_answer_linked_to_a_missing_entry_is_refused(client, users, registry):
    client.force_login(users["clerk"])
    response = client.post(
        NEW,
        form(
            registry,
            direction="out",
            doc_type=registry["types"]["corespondenta"].pk,
            addressee="Popescu Ion",
            link_kind="answers",
            link_number="RG-999/2026",
        ),
    )
    assert response.status_code == 400
    assert "There is no registry entry" in field_errors(response, "link_number")[0]
    assert Entry.objects.count() == 0
    malformed = client.post(NEW, form(registry, link_kind="joined_to", link_number="nouăsprezece"))
    assert malformed.status_code == 400
    assert "RG-12/2026" in field_errors(malformed, "link_number")[0]


def test_an_outgoing_answer_registered_from_the_form_closes_the_entry(client, users, registry):
    incoming = register(registry)
    client.force_login(users["clerk"])
    response = client.post(
        NEW,
        form(
            registry,
            direction="out",
            doc_type=registry["types"]["corespondenta"].pk,
            sender_name="",
            addressee="Popescu Ion",
            link_kind="answers",
            link_number=incoming.display_number.lower(),
        ),
    )
    assert response.status_code == 302
    incoming.refresh_from_db()
    assert incoming.status == EntryStatus.ANSWERED
    assert Entry.objects.get(answers=incoming).direction == Direction.OUTGOING


def test_a_double_submit_returns_the_same_entry(client, users, registry):
    client.force_login(users["clerk"])
    data = form(registry, person="new", new_last_name="Dublu", sender_name="")
    first = client.post(NEW, data)
    second = client.post(NEW, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Entry.objects.count() == 1 and Person.objects.count() == 1
    assert last_number(registry) == 1


def test_scans_are_stored_privately_with_their_hash(client, users, registry, settings):
    client.force_login(users["clerk"])
    scan = SimpleUploadedFile("cerere.pdf", PDF, content_type="application/pdf")
    photo = SimpleUploadedFile("anexa.png", PNG, content_type="image/png")
    response = client.post(NEW, {**form(registry), "files": [scan, photo]})
    assert response.status_code == 302
    files = list(EntryFile.objects.order_by("id"))
    assert [(f.original_name, f.content_type) for f in files] == [
        ("cerere.pdf", "application/pdf"),
        ("anexa.png", "image/png"),
    ]
    import hashlib

    assert files[0].sha256 == hashlib.sha256(PDF).hexdigest()
    from django.core.files.storage import storages

    path = storages["private"].path(files[0].file.name)
    assert path.startswith(str(settings.CETATEA_PRIVATE_MEDIA_ROOT))
    assert open(path, "rb").read() == PDF
    assert "cerere" not in path  # the sender's file name never becomes a path
    assert Entry.objects.get().events.filter(kind=EventKind.FILE).count() == 2
    download = client.get(f"/staff/registry/files/{files[0].pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content) == PDF


def test_a_renamed_executable_is_refused_and_nothing_is_registered(client, users, registry):
    client.force_login(users["clerk"])
    exe = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")
    response = client.post(NEW, {**form(registry), "files": [exe]})
    assert response.status_code == 400
    assert field_errors(response, "files") == [
        "The file “scan.pdf” is not a PDF, JPEG or PNG scan."
    ]
    assert Entry.objects.count() == 0 and EntryFile.objects.count() == 0
    assert last_number(registry) == 0


def test_a_file_over_the_size_limit_is_refused(client, users, registry, monkeypatch):
    from cetatea.registry import services

    monkeypatch.setattr(services, "MAX_FILE_BYTES", 100)
    client.force_login(users["clerk"])
    big = SimpleUploadedFile("mare.pdf", PDF + b"x" * 200, "application/pdf")
    response = client.post(NEW, {**form(registry), "files": [big]})
    assert response.status_code == 400
    assert "larger than" in field_errors(response, "files")[0]
    assert Entry.objects.count() == 0


def test_missing_fields_are_listed_in_a_summary_linked_to_them(client, users, registry):
    client.force_login(users["clerk"])
    response = client.post(NEW, form(registry, summary="", doc_type=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_summary"' in html and 'href="#id_doc_type"' in html
    assert 'aria-describedby="id_summary_error"' in html


# --- who may open the pages ----------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, NEW, DEADLINES])
def test_anonymous_visitors_go_to_the_login_page(client, registry, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["citizen", "operator", "crew"])
@pytest.mark.parametrize("url", [LIST, NEW, DEADLINES])
def test_accounts_without_the_registry_role_are_refused(client, users, who, url):
    client.force_login(users[who])
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("who", ["staff", "manager"])
def test_readers_cannot_register(client, users, registry, who):
    client.force_login(users[who])
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form(registry)).status_code == 403
    assert Entry.objects.count() == 0


def test_a_clerk_of_no_point_is_told_so(client, users, registry):
    client.force_login(users["pointless_clerk"])
    response = client.get(NEW)
    assert response.status_code == 403
    assert "not a clerk of any registry point" in response.content.decode()
    assert client.post(NEW, form(registry)).status_code == 403
    assert Entry.objects.count() == 0


def test_the_staff_menu_links_the_registry_for_its_readers(client, users):
    for who, shown in [("clerk", True), ("staff", True), ("manager", True), ("operator", False)]:
        client.force_login(users[who])
        html = client.get("/staff/people/" if who != "staff" else LIST).content.decode()
        assert ('href="/staff/registry/"' in html) is shown, who


# --- access_entry, exhaustively ------------------------------------------------------------


@pytest.fixture
def entries(registry, users):
    """One entry per (point, department) combination that matters."""
    return {
        "rg_public": register(registry, point="rg"),  # RG's department: public relations
        "rg_roads": register(registry, point="rg", department=registry["roads"]),
        "dv_roads": register(registry, point="dv", kind="cerere"),
        "das_public": register(registry, point="das", kind="cerere", department=registry["public"]),
    }


ACCESS = {
    # user: the entries they may read
    "clerk": {"rg_public", "rg_roads"},  # the clerk of RG: RG's book, whatever the department
    "staff": {"rg_roads", "dv_roads"},  # roads staff: entries assigned to roads
    "manager": {"rg_public", "rg_roads", "dv_roads", "das_public"},
    "admin": {"rg_public", "rg_roads", "dv_roads", "das_public"},
    "pointless_clerk": set(),
}


@pytest.mark.parametrize("who", sorted(ACCESS))
def test_access_entry(users, entries, who):
    user = users[who]
    for name, entry in entries.items():
        if name in ACCESS[who]:
            assert selectors.access_entry(user, entry.pk) == entry, name
        else:
            with pytest.raises(PermissionDenied):
                selectors.access_entry(user, entry.pk)


@pytest.mark.parametrize("who", ["citizen", "operator", "crew"])
def test_access_entry_refuses_accounts_without_the_registry_role(users, entries, who):
    with pytest.raises(PermissionDenied):
        selectors.access_entry(users[who], entries["rg_public"].pk)


def test_access_entry_refuses_inactive_and_anonymous_users(users, entries):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        selectors.access_entry(AnonymousUser(), entries["rg_public"].pk)
    users["clerk"].is_active = False
    with pytest.raises(PermissionDenied):
        selectors.access_entry(users["clerk"], entries["rg_public"].pk)


def test_access_entry_of_a_missing_entry_is_404(users, entries):
    with pytest.raises(Http404):
        selectors.access_entry(users["manager"], 987654)


def test_a_clerk_removed_from_the_role_no_longer_reads_the_points_book(users, entries):
    clerk = users["clerk"]
    clerk.groups.clear()
    with pytest.raises(PermissionDenied):
        selectors.access_entry(clerk, entries["rg_public"].pk)
    from django.contrib.auth.models import Group

    from cetatea.core import roles

    # Reading rights without the clerk's role: the points no longer count.
    clerk = type(clerk).objects.get(pk=clerk.pk)
    clerk.groups.add(Group.objects.get(name=roles.DEPARTMENT_STAFF))
    with pytest.raises(PermissionDenied):
        selectors.access_entry(clerk, entries["rg_public"].pk)


@pytest.mark.parametrize("who", sorted(ACCESS))
def test_entry_pages_follow_access_entry(client, users, entries, who):
    client.force_login(users[who])
    for name, entry in entries.items():
        expected = 200 if name in ACCESS[who] else 403
        assert client.get(f"/staff/registry/{entry.pk}/").status_code == expected, name


def test_file_downloads_follow_the_entrys_access(client, users, entries):
    stored = registry_entry_add_file(
        entry_id=entries["rg_public"].pk,
        file=SimpleUploadedFile("a.pdf", PDF, "application/pdf"),
        actor=users["clerk"],
    )
    url = f"/staff/registry/files/{stored.pk}/"
    for who, expected in [
        ("clerk", 200),
        ("manager", 200),
        ("staff", 403),
        ("citizen", 403),
        ("operator", 403),
    ]:
        client.force_login(users[who])
        assert client.get(url).status_code == expected, who
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(users["manager"])
    assert client.get("/staff/registry/files/987654/").status_code == 404


# --- the entry page and its actions --------------------------------------------------------


def post_action(client, entry, action, data, version=None):
    payload = {f"{action}-{k}": v for k, v in data.items()}
    payload[f"{action}-version"] = entry.version if version is None else version
    return client.post(f"/staff/registry/{entry.pk}/{action}/", payload)


def test_the_entry_page_shows_every_register_field_and_the_term_in_words(client, users, registry):
    person = make_person(last_name="Vlad", first_name="Elena", national_id=make_cnp())
    with time_machine.travel(at(2026, 11, 2), tick=False):
        entry = register(
            registry,
            person=person,
            sender_reference="12/A",
            sender_date=dt.date(2026, 10, 30),
            pages=3,
            annexes=2,
            sender_email="elena@example.ro",
        )
    with time_machine.travel(at(2026, 11, 29), tick=False):
        client.force_login(users["clerk"])
        html = client.get(f"/staff/registry/{entry.pk}/").content.decode()
    for text in [
        "RG-1/2026",
        "02.11.2026 10:00",
        "12/A / 30.10.2026",
        "3 pages, 2 annexes",
        "Popescu Ion",
        "Vlad Elena",
        person.national_id_masked,
        "Str. Trandafirilor 3",
        "02.12.2026",
        "3 days left",
        entry.case.reference,
        f'href="/staff/cases/{entry.case_id}/"',
        "Registered",  # the history
    ]:
        assert text in html, text
    with time_machine.travel(at(2026, 12, 4), tick=False):
        client.force_login(users["clerk"])  # a staff session lasts a working day
        late = client.get(f"/staff/registry/{entry.pk}/").content.decode()
    assert "overdue by 2 days" in late


def test_the_entry_page_reads_a_bounded_number_of_rows(
    client, users, registry, django_assert_max_num_queries
):
    entry = register(registry)
    for i in range(5):
        register(registry, joined_to=entry)
        registry_entry_add_file(
            entry_id=entry.pk,
            file=SimpleUploadedFile(f"{i}.pdf", PDF + bytes([i]), "application/pdf"),
            actor=None,
        )
    client.force_login(users["clerk"])
    with django_assert_max_num_queries(25):
        response = client.get(f"/staff/registry/{entry.pk}/")
    assert response.status_code == 200
    assert len(response.context["joined_entries"]) == 5
    assert len(response.context["files"]) == 5


def test_answering_from_the_entry_page(client, users, registry):
    entry = register(registry)
    client.force_login(users["clerk"])
    token = uuid.uuid4().hex
    data = {"summary": "Groapa a fost astupată.", "channel": "post", "pages": 1}
    response = post_action(client, entry, "answer", {**data, "submit_token": token})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.ANSWERED
    answer = Entry.objects.get(answers=entry)
    assert answer.addressee == "Popescu Ion"  # the sender, when no addressee is written
    # The same form sent again: the same answer, no second number.
    again = post_action(
        client, entry, "answer", {**data, "submit_token": token}, version=entry.version - 1
    )
    assert again.status_code == 302
    assert Entry.objects.filter(answers=entry).count() == 1


def test_a_manager_extends_a_petition_once(client, users, registry):
    with time_machine.travel(at(2026, 11, 2), tick=False):
        entry = register(registry)
    client.force_login(users["manager"])
    with time_machine.travel(at(2026, 11, 20), tick=False):
        response = post_action(client, entry, "extend", {"days": 15, "reason": "Anchetă"})
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.due_date == dt.date(2026, 12, 17) and entry.extended_days == 15
        # A second extension, on the current version: a clear error, nothing changed.
        twice = post_action(client, entry, "extend", {"days": 5, "reason": "Încă una"})
    assert twice.status_code == 400
    assert "already extended once" in twice.content.decode()
    entry.refresh_from_db()
    assert entry.extended_days == 15 and entry.due_date == dt.date(2026, 12, 17)
    assert entry.events.filter(kind=EventKind.EXTENDED).count() == 1


def test_a_clerk_may_not_extend_a_term(client, users, registry):
    entry = register(registry)
    client.force_login(users["clerk"])
    page = client.get(f"/staff/registry/{entry.pk}/").content.decode()
    assert "Only the head of the institution" in page
    assert f"/staff/registry/{entry.pk}/extend/" not in page
    response = post_action(client, entry, "extend", {"days": 5, "reason": "x"})
    assert response.status_code == 403
    assert "Your role does not allow this action." in response.content.decode()
    entry.refresh_from_db()
    assert entry.extended_days == 0


def test_a_stale_version_is_a_conflict_and_changes_nothing(client, users, registry):
    entry = register(registry)
    seen = entry.version
    client.force_login(users["manager"])
    post_action(client, entry, "extend", {"days": 10, "reason": "Anchetă"})
    client.force_login(users["clerk"])
    response = post_action(client, entry, "file", {"reason": "Retrasă"}, version=seen)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this entry meanwhile" in html
    assert "Retrasă" in html  # the clerk's text is kept
    entry.refresh_from_db()
    assert entry.status == EntryStatus.OPEN
    # The form now carries the current version: sending it again is a decision.
    assert response.context["file_form"]["version"].value() == str(entry.version)


def test_forwarding_filing_and_the_actions_of_a_closed_entry(client, users, registry):
    forwarded = register(registry)
    filed = register(registry)
    client.force_login(users["clerk"])
    response = post_action(client, forwarded, "forward", {"to": "Prefectura Alba", "reason": ""})
    assert response.status_code == 302
    forwarded.refresh_from_db()
    assert forwarded.status == EntryStatus.FORWARDED
    assert forwarded.forwarded_to == "Prefectura Alba"
    missing = post_action(client, filed, "forward", {"to": "", "reason": ""})
    assert missing.status_code == 400
    assert post_action(client, filed, "file", {"reason": "Retrasă"}).status_code == 302
    filed.refresh_from_db()
    assert filed.status == EntryStatus.FILED
    again = post_action(client, filed, "file", {"reason": "Retrasă"})
    assert again.status_code == 400
    assert "no longer being solved" in again.content.decode()


def test_only_a_public_information_request_is_refused(client, users, registry):
    petition = register(registry)
    request_544 = register(registry, kind="info-544")
    client.force_login(users["clerk"])
    assert (
        f"/{petition.pk}/refuse/"
        not in client.get(f"/staff/registry/{petition.pk}/").content.decode()
    )
    assert (
        f"/{request_544.pk}/refuse/"
        in client.get(f"/staff/registry/{request_544.pk}/").content.decode()
    )
    refused = post_action(client, petition, "refuse", {"reason": "Nu"})
    assert refused.status_code == 400
    assert "no refusal procedure" in refused.content.decode()
    ok = post_action(client, request_544, "refuse", {"reason": "Informație clasificată."})
    assert ok.status_code == 302
    request_544.refresh_from_db()
    assert request_544.status == EntryStatus.REFUSED


def test_department_staff_read_but_do_not_act(client, users, registry):
    entry = register(registry, department=registry["roads"])
    client.force_login(users["staff"])
    page = client.get(f"/staff/registry/{entry.pk}/")
    assert page.status_code == 200
    assert f"/{entry.pk}/file/" not in page.content.decode()
    response = post_action(client, entry, "file", {"reason": "x"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.status == EntryStatus.OPEN


def test_attaching_a_file_on_the_entry_page(client, users, registry):
    entry = register(registry)
    client.force_login(users["clerk"])
    url = f"/staff/registry/{entry.pk}/attach/"
    bad = client.post(
        url,
        {
            "attach-version": entry.version,
            "attach-file": SimpleUploadedFile("x.pdf", b"<html>", "application/pdf"),
        },
    )
    assert bad.status_code == 400
    assert "is not a PDF, JPEG or PNG scan" in bad.content.decode()
    good = {
        "attach-version": entry.version,
        "attach-file": SimpleUploadedFile("x.pdf", PDF, "application/pdf"),
    }
    assert client.post(url, good).status_code == 302
    same = {
        "attach-version": entry.version,
        "attach-file": SimpleUploadedFile("x.pdf", PDF, "application/pdf"),
    }
    assert client.post(url, same).status_code == 302
    assert entry.files.count() == 1  # the same content twice is stored once


def test_an_unknown_action_is_404(client, users, registry):
    entry = register(registry)
    client.force_login(users["clerk"])
    assert client.post(f"/staff/registry/{entry.pk}/delete/", {}).status_code == 404
    assert client.get(f"/staff/registry/{entry.pk}/file/").status_code == 405


# --- the register: search and pages --------------------------------------------------------


def numbers(response) -> list[str]:
    return [e.display_number for e in response.context["page"].entries]


def test_search_by_number_sender_words_status_and_direction(client, users, registry):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        a = register(registry, sender_name="Mureșan Dan", summary="Iluminat stradal defect")
    with time_machine.travel(at(2026, 3, 5), tick=False):
        b = register(registry, sender_name="Pop Ana", summary="Groapă în asfalt")
        register(
            registry,
            kind="corespondenta",
            direction=Direction.OUTGOING,
            sender_name="",
            addressee="Prefectura",
            summary="Adresă",
        )
    client.force_login(users["clerk"])
    assert numbers(client.get(LIST, {"number": a.display_number})) == ["RG-1/2026"]
    assert numbers(client.get(LIST, {"sender": "muresan"})) == ["RG-1/2026"]
    assert numbers(client.get(LIST, {"text": "groapa asfalt"})) == ["RG-2/2026"]
    assert numbers(client.get(LIST, {"direction": "out"})) == ["RG-3/2026"]
    assert numbers(client.get(LIST, {"date_from": "2026-03-03", "direction": "in"})) == [
        b.display_number
    ]
    assert numbers(client.get(LIST, {"date_to": "2026-03-02"})) == ["RG-1/2026"]
    assert numbers(client.get(LIST, {"status": "done"})) == ["RG-3/2026"]
    bad = client.get(LIST, {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert bad.status_code == 400
    assert "before its start" in bad.content.decode()


def test_the_register_print_link_carries_the_period_and_point(client, users, registry):
    client.force_login(users["clerk"])
    response = client.get(LIST, {"date_from": "2026-01-01", "date_to": "2026-01-31"})
    point = registry["points"]["rg"].pk
    assert (
        f"/staff/registry/register.pdf?date_from=2026-01-01&amp;date_to=2026-01-31&amp;point={point}"
        in response.content.decode()
    )


def test_the_list_is_scoped_to_what_the_user_may_read(client, users, registry):
    register(registry, point="rg")  # public relations
    register(registry, point="rg", department=registry["roads"])
    register(registry, point="dv", kind="cerere")  # roads
    register(registry, point="das", kind="cerere", department=registry["public"])
    client.force_login(users["clerk"])
    assert sorted(numbers(client.get(LIST))) == ["RG-1/2026", "RG-2/2026"]
    other_point = client.get(LIST, {"point": registry["points"]["dv"].pk})
    assert other_point.status_code == 400 and other_point.context["page"] is None
    client.force_login(users["staff"])
    assert sorted(numbers(client.get(LIST))) == ["DV-1/2026", "RG-2/2026"]
    # Their department is the only one offered; another one asked for is not shown.
    other_department = client.get(LIST, {"department": registry["public"].pk})
    assert sorted(numbers(other_department)) == ["DV-1/2026", "RG-2/2026"]
    client.force_login(users["manager"])
    assert len(numbers(client.get(LIST))) == 4
    client.force_login(users["pointless_clerk"])
    nothing = client.get(LIST)
    assert nothing.status_code == 200 and nothing.context["page"] is None
    assert "not a clerk of any registry point" in nothing.content.decode()


def test_keyset_pages_forward_and_back_with_bounded_queries(
    client, users, registry, settings, django_assert_max_num_queries
):
    settings.CETATEA_PAGE_SIZE = 10
    base = at(2026, 2, 2)
    for i in range(25):
        with time_machine.travel(base + dt.timedelta(minutes=i), tick=False):
            register(registry)
    client.force_login(users["clerk"])
    with django_assert_max_num_queries(15):
        first = client.get(LIST)
    assert numbers(first)[0] == "RG-25/2026" and len(numbers(first)) == 10
    assert not first.context["has_previous"]
    with django_assert_max_num_queries(15):
        second = client.get(f"{LIST}?{first.context['next_query']}")
    assert numbers(second)[0] == "RG-15/2026"
    third = client.get(f"{LIST}?{second.context['next_query']}")
    assert numbers(third) == [f"RG-{n}/2026" for n in range(5, 0, -1)]
    assert third.context["next_query"] == ""
    back = client.get(f"{LIST}?{third.context['previous_query']}")
    assert numbers(back) == numbers(second)
    back_again = client.get(f"{LIST}?{back.context['previous_query']}")
    assert numbers(back_again) == numbers(first)
    assert 'rel="prev"' in third.content.decode()


# --- the deadline watch ---------------------------------------------------------------------


def test_deadlines_overdue_and_due_soon_per_department(client, users, registry):
    with time_machine.travel(at(2026, 10, 1), tick=False):
        late = register(registry)  # term 2 Nov (31 Oct is a Saturday, 1 Nov a Sunday)
        other = register(registry, department=registry["roads"])
    with time_machine.travel(at(2026, 10, 30), tick=False):
        soon = register(registry, kind="info-544")  # term 9 Nov
    with time_machine.travel(at(2026, 11, 6), tick=False):
        register(registry)  # far off
        client.force_login(users["manager"])
        response = client.get(DEADLINES)
        assert response.status_code == 200
        watch = response.context["watch"]
        assert [e.pk for e in watch["overdue"]] == [late.pk, other.pk]
        assert [e.pk for e in watch["soon"]] == [soon.pk]
        html = response.content.decode()
        assert "overdue by 4 days" in html and "3 days left" in html
        roads = client.get(DEADLINES, {"department": registry["roads"].pk}).context["watch"]
        assert [e.pk for e in roads["overdue"]] == [other.pk] and roads["soon"] == []
        client.force_login(users["staff"])
        mine = client.get(DEADLINES).context["watch"]
        assert [e.pk for e in mine["overdue"]] == [other.pk] and mine["soon"] == []


def test_deadlines_of_a_clerk_are_those_of_their_points(client, users, registry):
    with time_machine.travel(at(2026, 10, 1), tick=False):
        mine = register(registry, point="rg")
        register(registry, point="dv", kind="cerere")
    with time_machine.travel(at(2026, 11, 6), tick=False):
        client.force_login(users["clerk"])
        watch = client.get(DEADLINES).context["watch"]
    assert [e.pk for e in watch["overdue"]] == [mine.pk]


def test_a_sender_kind_anonymous_petition_is_filed_from_the_form(client, users, registry):
    client.force_login(users["clerk"])
    response = client.post(
        NEW, form(registry, sender_kind=SenderKind.ANONYMOUS, sender_name="", sender_address="")
    )
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert entry.status == EntryStatus.FILED and entry.case is None
    page = client.get(response["Location"]).content.decode()
    assert "Registered as RG-1/" in page and "OG 27/2002 art. 7" in page
