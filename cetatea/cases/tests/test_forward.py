import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cetatea.cases.choices import EventKind
from cetatea.cases.models import Case, CaseEvent, MapCell
from cetatea.cases.services import case_assign, case_change_status, case_forward
from cetatea.catalog.models import Department, Team
from conftest import INSIDE, make_case

pytestmark = pytest.mark.django_db


def forwarded(case):
    return CaseEvent.objects.filter(case=case, kind=EventKind.FORWARDED)


def test_forward_moves_the_case_clears_team_and_assignee_and_keeps_the_due_time(catalog, personas):
    staff = personas["staff"]
    team = Team.objects.create(department=catalog["roads"], code="crew-a", name_ro="Echipa A")
    case = make_case()
    Case.objects.filter(pk=case.pk).update(team=team)
    case_assign(case_id=case.pk, assignee=personas["crew"], actor=staff)
    case.refresh_from_db()
    due_before = case.due_at

    result = case_forward(
        case_id=case.pk, department=catalog["public"], actor=staff, reason="  Nu e groapă  "
    )

    case.refresh_from_db()
    assert result.pk == case.pk
    assert case.department == catalog["public"]
    assert case.team is None and case.assignee is None
    assert case.due_at == due_before
    assert case.status == "new" and case.category == catalog["pothole"]
    event = forwarded(case).get()
    assert event.actor == staff
    assert event.is_public is False
    assert event.text == "Nu e groapă"
    assert event.data == {"from": "roads", "to": "public"}


def test_forward_by_code_and_from_a_case_with_no_department(catalog, personas):
    case = make_case(category="LEAK")  # an outside operator's category: no department
    assert case.department is None
    case_forward(case_id=case.pk, department="roads", actor=personas["staff"], reason="Spart")
    case.refresh_from_db()
    assert case.department == catalog["roads"]
    assert forwarded(case).get().data == {"from": "", "to": "roads"}


def test_a_case_can_be_forwarded_again(catalog, personas):
    case = make_case()
    case_forward(case_id=case.pk, department="public", actor=None, reason="Nu e la noi")
    case_forward(case_id=case.pk, department="roads", actor=None, reason="Ba da")
    case.refresh_from_db()
    assert case.department == catalog["roads"]
    assert [e.data for e in forwarded(case).order_by("id")] == [
        {"from": "roads", "to": "public"},
        {"from": "public", "to": "roads"},
    ]


def _refused(case, **kwargs):
    before = (Case.objects.values().get(pk=case.pk), CaseEvent.objects.count())
    kwargs.setdefault("reason", "motiv")
    with pytest.raises(ValidationError) as exc:
        case_forward(case_id=case.pk, actor=None, **kwargs)
    assert (Case.objects.values().get(pk=case.pk), CaseEvent.objects.count()) == before
    return " ".join(exc.value.messages)


def test_a_closed_case_is_refused(catalog, personas):
    case = make_case()
    case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"])
    assert "closed case cannot be forwarded" in _refused(case, department="public")


def test_the_same_department_is_refused(catalog):
    case = make_case()
    assert "already in the department" in _refused(case, department=catalog["roads"])


def test_an_unknown_department_is_refused(catalog):
    case = make_case()
    message = _refused(case, department="no-such-dept")
    assert "“no-such-dept” does not exist" in message


def test_an_inactive_department_is_refused_even_from_a_stale_instance(catalog):
    case = make_case()
    stale = catalog["public"]
    Department.objects.filter(pk=stale.pk).update(is_active=False)
    assert "is not active" in _refused(case, department=stale)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_a_reason_is_required_and_bounded(catalog, reason):
    case = make_case()
    with pytest.raises(ValidationError) as exc:
        case_forward(case_id=case.pk, department="public", actor=None, reason=reason)
    assert set(exc.value.message_dict) == {"reason"}
    assert not forwarded(case).exists()


def test_a_reason_of_2000_characters_is_accepted(catalog):
    case = make_case()
    case_forward(case_id=case.pk, department="public", actor=None, reason="x" * 2000)
    assert len(forwarded(case).get().text) == 2000


def test_an_unknown_case_is_refused(catalog):
    with pytest.raises(ValidationError, match="does not exist"):
        case_forward(case_id=987654, department="public", actor=None, reason="motiv")


def test_a_backdated_forward_is_recorded_at_its_time_and_not_before_the_last_event(catalog):
    case = make_case(registered_at=timezone.now() - dt.timedelta(days=3))
    at = timezone.now() - dt.timedelta(days=1)
    case_forward(case_id=case.pk, department="public", actor=None, reason="import", at=at)
    assert forwarded(case).get().created_at == at
    with pytest.raises(ValidationError, match="after the previous one"):
        case_forward(
            case_id=case.pk,
            department="roads",
            actor=None,
            reason="import",
            at=at - dt.timedelta(hours=1),
        )
    assert Case.objects.get(pk=case.pk).department == catalog["public"]


def test_forwarding_does_not_touch_the_public_map(catalog):
    case = make_case(publication="public", latitude=INSIDE[0], longitude=INSIDE[1])
    cells = list(MapCell.objects.order_by("pk").values())
    assert cells
    case_forward(case_id=case.pk, department="public", actor=None, reason="motiv")
    assert list(MapCell.objects.order_by("pk").values()) == cells
