"""Every URL of the site, classified by who may use it, and proven to refuse the others.

``ACCESS`` names, for every URL name (or the route of an unnamed pattern), who may use
it:

- ``PUBLIC``: anyone;
- ``CITIZEN``: a signed-in citizen (a ``portal.CitizenAccount``);
- ``SIGNED_IN``: any signed-in account (staff or citizen), about itself;
- ``TOKEN``: whoever holds a token or key that is part of the request (e-mailed links,
  the PBX's webhooks, calendar feeds, the Open311 api_key);
- ``STAFF``: any staff role;
- ``role(perm)``: staff whose role gives ``perm``;
- ``DEPT``: staff of the department (or team, board, channel) that owns the object only;
- ``ADMIN``: the Django admin (``is_staff``).

The walk below visits every pattern of ``get_resolver()`` (namespaces, includes, re_path)
and builds a real URL for it, its ids those of objects of department A (Roads). Then:

* anonymous GET and POST of anything not PUBLIC is refused: a redirect to a sign-in page,
  or 401/403/404/405 (400 too for a TOKEN URL with a made-up token);
* a citizen (an account with no group) is refused every staff and admin URL;
* a worker of department B (Public relations), holding the same roles as department A's,
  is refused every DEPT URL of department A's objects.

A URL that is not in ``ACCESS`` fails the test with "classify this URL": a new view must
say who may use it before it ships.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cetatea.core import roles

pytestmark = [pytest.mark.django_db]

PUBLIC = "public"
CITIZEN = "citizen"
TOKEN = "token"
STAFF = "staff-any"
DEPT = "dept"
SIGNED_IN = "signed-in"
ADMIN = "admin"


def role(perm: str) -> str:
    return f"role:{perm}"


# fmt: off
ACCESS: dict[str, str] = {
    # --- the site, sign-in, languages, health --------------------------------------------
    "healthz": PUBLIC,
    "set_language": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "staff/": PUBLIC,  # only a redirect to the people search, which checks
    "admin:login": PUBLIC,
    "admin:logout": PUBLIC,
    # Sign-in's second step (cetatea/accounts): a visitor who has not given a password is
    # sent back to the sign-in page.
    "accounts:verify": PUBLIC,
    "accounts:setup": PUBLIC,
    # One's own sign-ins and second factor: any signed-in account, a citizen's too.
    "accounts:security": SIGNED_IN,
    "accounts:recovery_codes": STAFF,
    "accounts:account_list": role("accounts.manage_account_security"),
    "accounts:reset_2fa": role("accounts.manage_account_security"),
    "accounts:unlock": role("accounts.manage_account_security"),
    # --- machine interfaces ----------------------------------------------------------------
    "metrics": TOKEN,  # the bearer token or CETATEA_METRICS_ALLOW's addresses (none here)
    "open311": TOKEN,  # reads are public; filing needs an api_key (POST checked here)
    "cti": TOKEN,
    "robot_webhook": TOKEN,
    # --- the citizen's web -------------------------------------------------------------------
    "portal:home": PUBLIC,
    "portal:features": PUBLIC,
    "portal:streets": PUBLIC,
    "portal:report": PUBLIC,
    "portal:nearby": PUBLIC,
    "portal:photo_location": PUBLIC,
    "portal:thanks": PUBLIC,
    "portal:list": PUBLIC,
    "portal:case": PUBLIC,
    "portal:support": PUBLIC,
    "portal:alerts": PUBLIC,
    "portal:account": PUBLIC,  # the sign-in form, or the citizen's own page
    "portal:logout": PUBLIC,
    "portal:feed_case": PUBLIC,
    "portal:feed_area": PUBLIC,
    "portal:feed_around": PUBLIC,
    "portal:confirm": TOKEN,
    "portal:subscription_confirm": TOKEN,
    "portal:unsubscribe": TOKEN,
    "portal:feedback": TOKEN,
    "portal:login_verify": TOKEN,
    "portal:phone_pin": CITIZEN,
    "portal:moderate": role("cases.moderate_case"),
    "revenue_portal:link": CITIZEN,
    "revenue_portal:statement": CITIZEN,
    "registry_public:public_status": PUBLIC,
    "registry_public:online_petition": PUBLIC,
    "transparency:index": PUBLIC,
    "transparency:download": PUBLIC,
    # --- staff: people, cases, calls, mail ---------------------------------------------------
    "people:search": role("people.view_person"),
    "people:create": role("people.add_person"),
    "people:detail": role("people.view_person"),
    "people:timeline": role("people.view_person_360"),
    "people:reveal": role("people.reveal_national_id"),
    "people:merge": role("people.merge_person"),
    # Any case worker opens any case: operators and clerks answer about every department's
    # cases (docs/console.md); the queue itself starts at one's own department.
    "console:queue": role("cases.view_case"),
    "console:bulk": role("cases.change_case"),
    "console:saved_view_save": role("cases.view_case"),
    "console:saved_view_delete": role("cases.view_case"),
    "console:case": role("cases.view_case"),
    "console:history": role("cases.view_case"),
    "console:case_action": role("cases.view_case"),
    "notify:case": role("cases.view_case"),
    "notify:resend": role("cases.view_case"),
    "intake:intake": role("cases.add_case"),
    "intake:persons": role("cases.add_case"),
    "intake:panel": role("cases.add_case"),
    "intake:filed": role("cases.add_case"),
    "intake:field": role("cases.change_case"),
    "intake:field_case": DEPT,  # the worker the case is assigned to
    "telephony:console": role("telephony.view_call"),
    "telephony:live": role("telephony.view_call"),
    "telephony:log": role("telephony.view_call"),
    "telephony:robot": role("telephony.view_robotcall"),
    "telephony:robot_person": role("telephony.manage_robot_pin"),
    "telephony:robot_pin": role("telephony.manage_robot_pin"),
    "telephony:robot_unlock": role("telephony.manage_robot_pin"),
    "inbox:list": role("inbox.view_inboundmessage"),
    "inbox:detail": role("inbox.view_inboundmessage"),
    # --- staff: personal data (cetatea/privacy) --------------------------------------------
    "privacy:audit": role("core.view_auditlog"),
    "privacy:audit_csv": role("core.view_auditlog"),
    "privacy:person": role("privacy.export_person_data"),
    "privacy:export_json": role("privacy.export_person_data"),
    "privacy:export_pdf": role("privacy.export_person_data"),
    "privacy:erase": role("privacy.erase_person"),
    # --- staff: registry, revenue ------------------------------------------------------------
    "registry:list": role("registry.view_entry"),
    "registry:new": role("registry.add_entry"),
    "registry:entry": role("registry.view_entry"),
    "registry:entry_action": role("registry.view_entry"),
    "registry:file": role("registry.view_entryfile"),
    "registry:deadlines": role("registry.view_entry"),
    "registry:receipt": role("registry.view_entry"),
    "registry:register_print": role("registry.view_entry"),
    "registry:reports": role("registry.view_registry_reports"),
    "registry:petitions_report": role("registry.view_registry_reports"),
    "registry:info_544_report": role("registry.view_registry_reports"),
    "revenue:person_balance": role("revenue.view_balance"),
    "revenue:statement": role("revenue.view_balance"),
    # --- staff: overview and exports -------------------------------------------------------
    "insights:dashboard": role("insights.view_department_dashboard"),
    "insights:department": DEPT,
    "insights:department_report": DEPT,
    "insights:cases": role("insights.view_department_dashboard"),
    "insights_export:table": role("insights.export_insights"),
    "insights_export:department_report": DEPT,
    # --- staff: intranet ---------------------------------------------------------------------
    "intranet:home": STAFF,
    "intranet:announcements": STAFF,
    "intranet:announcement_new": role("intranet.publish_announcement"),
    "intranet:announcement": STAFF,
    "intranet:announcement_read": STAFF,
    "intranet:announcement_edit": role("intranet.publish_announcement"),
    "intranet:announcement_unpublish": role("intranet.publish_announcement"),
    "intranet:announcement_receipts": role("intranet.publish_announcement"),
    "intranet:directory": STAFF,
    "documents:index": STAFF,
    "documents:search": STAFF,
    "documents:folder": DEPT,
    "documents:upload": DEPT,
    "documents:new_markdown": DEPT,
    "documents:access": DEPT,
    "documents:folder_manage": DEPT,
    "documents:document": DEPT,
    "documents:document_upload": DEPT,
    "documents:edit": DEPT,
    "documents:preview": DEPT,
    "documents:versions": DEPT,
    "documents:diff": DEPT,
    "documents:download": DEPT,
    "documents:restore": DEPT,
    "documents:action": DEPT,
    "schedules:index": STAFF,
    "schedules:week": DEPT,
    "schedules:month": DEPT,
    "schedules:shift_new": DEPT,
    "schedules:generate": DEPT,
    "schedules:publish": DEPT,
    "schedules:setup": DEPT,
    "schedules:pattern": DEPT,
    "schedules:shift": DEPT,
    "schedules:shift_cancel": DEPT,
    "schedules:shift_offer": DEPT,
    "schedules:leave": STAFF,
    "schedules:leave_pending": role("schedules.approve_leave"),
    "schedules:leave_detail": DEPT,
    "schedules:swaps": STAFF,
    "schedules:swap": DEPT,
    "schedules:feeds": STAFF,
    "schedules:ical": TOKEN,
    "tasks:index": STAFF,
    "tasks:board_create": STAFF,
    "tasks:board": DEPT,
    "tasks:board_list": DEPT,
    "tasks:board_settings": DEPT,
    "tasks:task_create": DEPT,
    "tasks:create_from_case": STAFF,
    "tasks:task": DEPT,
    "tasks:task_move": DEPT,
    "tasks:checklist_add": DEPT,
    "tasks:checklist_set": DEPT,
    "tasks:comment_add": DEPT,
    "tasks:attachment_add": DEPT,
    "tasks:attachment": DEPT,
    "chat:index": STAFF,
    "chat:channel_create": STAFF,
    "chat:direct": STAFF,
    "chat:search": STAFF,
    "chat:settings": STAFF,
    "chat:channel": DEPT,
    "chat:poll": DEPT,
    "chat:post": DEPT,
    "chat:join": DEPT,
    "chat:leave": DEPT,
    "chat:member_add": DEPT,
    "chat:message_edit": DEPT,
    "chat:message_delete": DEPT,
    "chat:attachment": DEPT,
}
# fmt: on
NAMESPACE_ACCESS = {"admin": ADMIN}  # every URL of the Django admin

REFUSED = {401, 403, 404, 405}
# TOKEN URLs whose other methods are public: Open311 reads; the unsubscribe page's GET
# only shows the button (the POST checks the token).
TOKEN_METHODS = {"open311": ("POST",), "portal:unsubscribe": ("POST",)}
# A query string the page needs to show anything (the control test opens it).
QUERY_BY_URL = {"documents:diff": "?a=1&b=1"}


# --- the walk -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL's full name, or its route when it has none
    name: str | None
    route: str
    kwargs: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for item in resolver.url_patterns:
        route = prefix + str(item.pattern)
        if isinstance(item, URLResolver):
            inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _walk(item, route, inner)
        elif isinstance(item, URLPattern):
            name = f"{namespace}{item.name}" if item.name else None
            kwargs = tuple(item.pattern.regex.groupindex)
            yield Route(key=name or namespace + route, name=name, route=route, kwargs=kwargs)


def all_routes() -> list[Route]:
    seen: dict[str, Route] = {}
    for r in _walk(get_resolver()):
        seen.setdefault(r.key, r)  # the first pattern of a name is the one reverse() builds
    return list(seen.values())


def access_of(r: Route) -> str | None:
    if r.key in ACCESS:
        return ACCESS[r.key]
    namespace = r.key.split(":", 1)[0] if ":" in r.key else ""
    return NAMESPACE_ACCESS.get(namespace)


# --- the objects of department A ------------------------------------------------------------


@pytest.fixture
def world(catalog, personas, settings):
    """Department A (Roads) with a worker holding every working role, and its objects;
    a worker of department B (Public relations) with the same roles; a citizen."""
    from django.contrib.auth.models import Group, Permission

    from cetatea.catalog.models import StaffProfile, Team
    from cetatea.intranet.chat import services as chat
    from cetatea.intranet.chat.choices import ChannelKind
    from cetatea.intranet.documents import services as documents
    from cetatea.intranet.schedules import services as schedules
    from cetatea.intranet.schedules.models import Post, Shift, ShiftPattern
    from cetatea.intranet.services import announcement_publish
    from cetatea.intranet.tasks import services as tasks
    from cetatea.portal.models import CitizenAccount
    from conftest import make_case, make_person, make_user

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.CETATEA_METRICS_ALLOW = []  # /metrics: the test client's address is not allowed
    working = [roles.DEPARTMENT_STAFF, roles.MANAGER, roles.FIELD_CREW]
    roads, public = catalog["roads"], catalog["public"]

    def worker(username: str, department):
        user = make_user(username, working[0], email=f"{username}@primarie.test")
        user.groups.add(*Group.objects.filter(name__in=working[1:]))
        # A team lead's rights (given in the admin; no role of its own): plan and approve.
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="schedules",
                codename__in=["manage_roster", "approve_leave"],
            )
        )
        StaffProfile.objects.create(user=user, department=department)
        return type(user).objects.get(pk=user.pk)

    a, b = worker("worker_a", roads), worker("worker_b", public)
    citizen_user = make_user("citizen_only", email="cetatean@example.org")
    person = make_person()
    CitizenAccount.objects.create(user=citizen_user, person=person, email="cetatean@example.org")

    case = make_case(latitude=46.07, longitude=23.57, requester=person)
    from cetatea.cases.services import case_assign

    case_assign(case_id=case.pk, assignee=a, actor=a)

    folder = documents.folder_create(actor=a, name="Drumuri — contracte")
    document = documents.document_markdown_create(
        actor=a, folder_id=folder.pk, title="Plan de lucru", text="# Plan\n\nAsfaltare."
    )
    board = tasks.board_create(actor=a, name="Drumuri 2026", department_id=roads.pk)
    task = tasks.task_create(actor=a, board=board, title="Plombare")
    item = tasks.checklist_add(actor=a, task_id=task.pk, text="Asfalt")
    task_file = tasks.attachment_add(
        actor=a, task_id=task.pk, file=SimpleUploadedFile("deviz.txt", b"Deviz\n")
    )
    channel = chat.chat_channel_create(actor=a, kind=ChannelKind.DEPARTMENT, name="Drumuri")
    message = chat.chat_post(
        actor=a,
        channel_id=channel.pk,
        body="Bună dimineața",
        files=[SimpleUploadedFile("poza.txt", b"text\n")],
    )
    team = Team.objects.create(department=roads, code="crews", name_ro="Echipe", name_en="Crews")
    team.members.add(a)
    post = Post.objects.create(team=team, code="crew-1", name_ro="Echipa 1", name_en="Crew 1")
    pattern = ShiftPattern.objects.create(
        team=team, post=post, name="Dimineața", start_time=dt.time(8), end_time=dt.time(16)
    )
    start = timezone.now() + dt.timedelta(days=2)
    shift = Shift.objects.create(
        team=team,
        post=post,
        person=a,
        start=start,
        end=start + dt.timedelta(hours=8),
        published=True,
    )
    leave = schedules.leave_request(
        person=a,
        start_date=(start + dt.timedelta(days=7)).date(),
        end_date=(start + dt.timedelta(days=8)).date(),
        kind="annual",
    )
    swap = schedules.swap_offer(actor=a, shift=shift)
    announcement = announcement_publish(
        author=a, title="Asfaltare", body="Program de lucru", department=roads
    )
    return {
        "announcement": announcement,
        "a": a,
        "b": b,
        "citizen": citizen_user,
        "person": person,
        "case": case,
        "department": roads,
        "folder": folder,
        "document": document,
        "board": board,
        "task": task,
        "item": item,
        "task_file": task_file,
        "channel": channel,
        "message": message,
        "chat_file": message.attachments.first(),
        "team": team,
        "post": post,
        "pattern": pattern,
        "shift": shift,
        "leave": leave,
        "swap": swap,
    }


# --- building a URL -------------------------------------------------------------------------

# The object each keyword names, by URL (department A's), then by keyword alone.
KWARGS_BY_URL = {
    "inbox:detail": {"message_id": None},  # no message needed: refused before the lookup
    "chat:message_edit": {"message_id": "message"},
    "chat:message_delete": {"message_id": "message"},
    "chat:attachment": {"attachment_id": "chat_file"},
    "tasks:attachment": {"attachment_id": "task_file"},
    "intake:field_case": {"case_id": "case"},
    "notify:case": {"case_id": "case"},
    "insights_export:department_report": {"code": "department.code", "year": 2026, "month": 3},
    "insights:department": {"code": "department.code"},
    "insights:department_report": {"code": "department.code"},
    "transparency:download": {"name": "cases.csv"},
    "open311": {"path": "/requests.json"},
    "registry:petitions_report": {"fmt": "csv"},
    "registry:info_544_report": {"fmt": "csv"},
    "documents:download": {"number": 1},
    "documents:restore": {"number": 1},
    "documents:folder_manage": {"action": "rename"},
    "documents:action": {"action": "lock"},
    "registry:entry_action": {"action": "note"},
    "console:case_action": {"action": "note"},
    "schedules:ical": {"token": "not-a-token"},
    "portal:case": {"reference": "case.reference"},
    "portal:support": {"reference": "case.reference"},
    "portal:feed_case": {"reference": "case.reference"},
    "portal:thanks": {"reference": "case.reference"},
    "portal:moderate": {"reference": "case.reference"},
    "intake:filed": {"reference": "case.reference"},
}
KWARGS = {
    "person_id": "person",
    "case_id": "case",
    "folder_id": "folder",
    "document_id": "document",
    "board_id": "board",
    "task_id": "task",
    "item_id": "item",
    "attachment_id": "task_file",
    "channel_id": "channel",
    "message_id": "message",
    "team_id": "team",
    "pattern_id": "pattern",
    "shift_id": "shift",
    "leave_id": "leave",
    "swap_id": "swap",
    "announcement_id": "announcement",
    "token": "not-a-valid-token",
    "code": "cetate",
    "action": "x",
    "reference": "AB-2026-000001",
}


def _value(world: dict, source):
    if source is None:
        return 999_999  # no such object: the view must still refuse (or 404)
    if not isinstance(source, str) or source.startswith("not-") or source in ("x", "cetate"):
        return source
    head, _dot, attr = source.partition(".")
    if head not in world:
        return source
    obj = world[head]
    return getattr(obj, attr) if attr else obj.pk


def url_of(r: Route, world: dict) -> str:
    kwargs = {}
    for name in r.kwargs:
        source = KWARGS_BY_URL.get(r.key, {}).get(name, KWARGS.get(name, "1"))
        if r.key.startswith("admin:"):
            source = "auth" if name == "app_label" else "1"
        kwargs[name] = _value(world, source) if name in KWARGS or r.key in KWARGS_BY_URL else source
    if r.name is None:
        # An unnamed pattern: its route, when it takes no keywords (admin's catch-alls are
        # covered by its named URLs).
        return "" if r.kwargs or not r.route.isprintable() or "^" in r.route else "/" + r.route
    try:
        return reverse(r.name, kwargs=kwargs) + QUERY_BY_URL.get(r.key, "")
    except NoReverseMatch:
        if r.key.startswith("admin:"):
            return ""  # an admin pattern whose keywords take other shapes: the index covers it
        raise


def _login_pages() -> tuple[str, ...]:
    return (resolve_url(settings.LOGIN_URL), "/admin/login/", reverse("portal:account"))


def refused(response, *, token: bool = False) -> bool:
    """A refusal: 401/403/404/405 (400 for a bad token), or a redirect to a sign-in page."""
    if response.status_code in REFUSED or (token and response.status_code == 400):
        return True
    if response.status_code in (301, 302, 303):
        location = response["Location"].split("?")[0]
        return location.startswith(_login_pages()) or any(
            page in location for page in _login_pages()
        )
    return False


def _client(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


def _tries(client: Client, url: str, r: Route) -> list[tuple[str, object]]:
    out = []
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, (
            f"{method.upper()} {url} ({r.key}): {response.status_code}"
        )
        out.append((method.upper(), response))
    return out


# --- the tests ------------------------------------------------------------------------------


def test_every_url_is_classified():
    missing = [f"{r.key}  ({r.route})" for r in all_routes() if access_of(r) is None]
    assert missing == [], "classify this URL in ACCESS (test_url_permissions.py):\n" + "\n".join(
        missing
    )


def test_no_classification_names_a_url_that_is_gone():
    keys = {r.key for r in all_routes()}
    assert sorted(set(ACCESS) - keys) == []


def test_anonymous_visitor_is_refused_everything_but_public_urls(world):
    client = _client()
    holes = []
    for r in all_routes():
        access = access_of(r)
        if access in (None, PUBLIC):
            continue
        url = url_of(r, world)
        if not url:
            continue
        for method, response in _tries(client, url, r):
            if access == TOKEN and method not in TOKEN_METHODS.get(r.key, (method,)):
                continue
            if not refused(response, token=access == TOKEN):
                holes.append(f"{method} {url} ({r.key}, {access}): {response.status_code}")
    assert not holes, "\n".join(holes)


def test_citizen_is_refused_every_staff_url(world):
    client = _client(world["citizen"])
    holes = []
    for r in all_routes():
        access = access_of(r)
        if access in (None, PUBLIC, CITIZEN, SIGNED_IN, TOKEN):
            continue
        url = url_of(r, world)
        if not url:
            continue
        for method, response in _tries(client, url, r):
            if not refused(response):
                holes.append(f"{method} {url} ({r.key}, {access}): {response.status_code}")
    assert not holes, "\n".join(holes)


def test_staff_of_another_department_is_refused_department_objects(world):
    """Worker B holds the same roles as worker A, in another department: every URL of
    department A's folder, document, board, task, channel, team, shift, field case,
    announcement and overview refuses them."""
    client = _client(world["b"])
    holes = []
    for r in all_routes():
        if access_of(r) != DEPT:
            continue
        url = url_of(r, world)
        for method, response in _tries(client, url, r):
            if not refused(response):
                holes.append(f"{method} {url} ({r.key}): {response.status_code}")
    assert not holes, "\n".join(holes)


def test_the_owning_department_may_open_its_objects(world):
    """The control: worker A opens the same URLs (GET) without being refused, so the
    refusals above are about the department, not a broken URL."""
    client = _client(world["a"])
    refused_urls = []
    for r in all_routes():
        if access_of(r) != DEPT:
            continue
        url = url_of(r, world)
        response = client.get(url)
        if response.status_code in (403, 404):
            refused_urls.append(f"GET {url} ({r.key}): {response.status_code}")
    assert not refused_urls, "\n".join(refused_urls)


def test_staff_whose_role_lacks_the_permission_is_refused(world):
    """A revenue officer (a staff role with the intranet and balances only) is refused
    every URL whose classification names a permission that role does not give."""
    from conftest import make_user

    officer = make_user("officer_only", roles.REVENUE_OFFICER)
    client = _client(officer)
    holes = []
    for r in all_routes():
        access = access_of(r) or ""
        if not access.startswith("role:") or officer.has_perm(access.removeprefix("role:")):
            continue
        url = url_of(r, world)
        for method, response in _tries(client, url, r):
            if not refused(response):
                holes.append(f"{method} {url} ({r.key}, {access}): {response.status_code}")
    assert not holes, "\n".join(holes)
