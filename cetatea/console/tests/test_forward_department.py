"""Forwarding a case to another department from the staff console."""

import pytest

from cetatea.cases.models import Case, CaseEvent
from cetatea.catalog.models import Department, StaffProfile, Team
from cetatea.console import services
from cetatea.console.selectors import case_version
from conftest import make_case

pytestmark = pytest.mark.django_db

ACTION = "forward_department"


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def staff(personas, catalog):
    user = personas["staff"]
    StaffProfile.objects.create(user=user, department=catalog["roads"])
    return user


def case_url(case, action=""):
    return f"/staff/cases/{case.pk}/" + (f"{action}/" if action else "")


def forward(client, case, department, reason="Nu ține de drumuri", version=None):
    return client.post(
        case_url(case, ACTION),
        {
            f"{ACTION}-department": department.pk if hasattr(department, "pk") else department,
            f"{ACTION}-reason": reason,
            f"{ACTION}-version": version if version is not None else case_version(case),
        },
    )


def snapshot(case):
    return Case.objects.values().get(pk=case.pk), CaseEvent.objects.count()


def test_the_case_page_offers_the_other_active_departments(client, staff, catalog):
    Department.objects.create(code="old", name_ro="Desființat", name_en="Closed", is_active=False)
    case = make_case()
    client.force_login(staff)
    response = client.get(case_url(case))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Forward to another department" in body
    field = response.context["forward_department_form"].fields["department"]
    assert list(field.queryset) == [catalog["public"]]
    assert f'action="/staff/cases/{case.pk}/{ACTION}/"' in body
    assert f'<label for="id_{ACTION}-reason">' in body


def test_department_staff_forward_the_case_and_the_timeline_names_both_departments(
    client, staff, personas, catalog
):
    team = Team.objects.create(department=catalog["roads"], code="crew-a", name_ro="Echipa A")
    case = make_case()
    services.console_assign_team(case_id=case.pk, version=None, actor=staff, team=team)
    services.console_assign(case_id=case.pk, version=None, actor=staff, assignee=personas["crew"])
    case.refresh_from_db()
    due = case.due_at
    client.force_login(staff)

    response = forward(client, case, catalog["public"], reason="E o cerere de informații")

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.department == catalog["public"]
    assert (case.team, case.assignee, case.due_at) == (None, None, due)
    event = CaseEvent.objects.get(case=case, kind="forwarded")
    assert (event.actor, event.is_public, event.text) == (staff, False, "E o cerere de informații")
    assert event.data == {"from": "roads", "to": "public"}
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "The case was forwarded to the department “Public relations”." in body
    assert "Forwarded to another department" in body
    assert "Forwarded from Roads to Public relations." in body
    assert "was merged into this case" not in body
    # The history's own pages (and htmx's "older entries") name them too.
    history = client.get(f"{case_url(case)}history/")
    assert "Forwarded from Roads to Public relations." in history.content.decode()
    partial = client.get(f"{case_url(case)}history/", HTTP_HX_REQUEST="true")
    assert "Forwarded from Roads to Public relations." in partial.content.decode()


@pytest.mark.parametrize("persona", ["operator", "citizen"])
def test_forwarding_is_refused_without_the_permission(client, personas, catalog, persona):
    case = make_case()
    before = snapshot(case)
    client.force_login(personas[persona])
    response = forward(client, case, catalog["public"])
    assert response.status_code == 403
    assert snapshot(case) == before


def test_the_form_is_not_shown_without_the_permission(client, personas, catalog):
    case = make_case()
    client.force_login(personas["operator"])
    response = client.get(case_url(case))
    assert response.status_code == 200
    assert "Forward to another department" not in response.content.decode()


def test_the_service_refuses_without_the_permission(personas, catalog):
    case = make_case()
    with pytest.raises(services.PermissionDenied):
        services.console_forward_department(
            case_id=case.pk,
            version=None,
            actor=personas["operator"],
            department=catalog["public"],
            reason="motiv",
        )
    assert Case.objects.get(pk=case.pk).department == catalog["roads"]


@pytest.mark.parametrize(
    "department, reason, message",
    [
        ("public", "", "Say why the case goes to another department."),
        ("public", "x" * 2001, "at most 2000 characters"),
        ("", "motiv", "Choose the department the case goes to."),
        ("roads", "motiv", "The case is already in the department “Roads”."),
        ("inactive", "motiv", "Choose one of the active departments."),
        ("999999", "motiv", "Choose one of the active departments."),
        ("abc", "motiv", "Choose one of the active departments."),
    ],
)
def test_bad_input_shows_the_error_in_the_form_and_changes_nothing(
    client, staff, catalog, department, reason, message
):
    catalog["inactive"] = Department.objects.create(
        code="old", name_ro="Desființat", is_active=False
    )
    case = make_case()
    before = snapshot(case)
    client.force_login(staff)
    response = forward(client, case, catalog.get(department, department), reason=reason)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["failed_action"] == ACTION
    assert response.context["forward_department_form"].errors
    assert snapshot(case) == before


def test_a_closed_case_is_refused_with_a_message_in_the_form(client, staff, catalog):
    case = make_case()
    services.console_change_status(case_id=case.pk, version=None, actor=staff, status="fixed")
    case.refresh_from_db()
    before = snapshot(case)
    client.force_login(staff)
    response = forward(client, case, catalog["public"])
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        '<div role="alert" class="errors"><p>A closed case cannot be forwarded.</p></div>' in body
    )
    assert snapshot(case) == before


def test_a_double_submit_forwards_once_and_the_second_sees_the_conflict(client, staff, catalog):
    case = make_case()
    version = case_version(case)
    client.force_login(staff)
    assert forward(client, case, catalog["public"], version=version).status_code == 302
    case.refresh_from_db()
    before = snapshot(case)

    second = forward(client, case, catalog["public"], version=version)

    assert second.status_code == 409
    body = second.content.decode()
    assert "Someone else changed this case at" in body
    assert "Forwarded to another department" in body  # what changed
    assert snapshot(case) == before
    # Sent again with the new version, it is refused: the case is already there.
    retry = second.context["forward_department_form"]["version"].value()
    again = forward(client, case, catalog["public"], version=retry)
    assert again.status_code == 400
    assert "The case is already in the department “Public relations”." in again.content.decode()
    assert snapshot(case) == before
    assert CaseEvent.objects.filter(case=case, kind="forwarded").count() == 1


def test_a_change_by_someone_else_blocks_a_stale_forward(client, staff, personas, catalog):
    case = make_case()
    version = case_version(case)
    services.console_change_status(
        case_id=case.pk, version=None, actor=personas["manager"], status="in_progress"
    )
    client.force_login(staff)
    response = forward(client, case, catalog["public"], reason="Păstrat", version=version)
    assert response.status_code == 409
    assert "Păstrat" in response.content.decode()  # the reason is kept in the form
    case.refresh_from_db()
    assert case.department == catalog["roads"]
    assert not CaseEvent.objects.filter(case=case, kind="forwarded").exists()
