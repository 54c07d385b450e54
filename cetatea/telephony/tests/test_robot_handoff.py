"""From the phone robot to an operator: the operator's call carries the verified caller.

The robot cannot put a person on an operator's screen by itself: the PBX reports the
operator's call with a CTI ``newCall``. That call is matched to the robot call it
continues, by the robot's call id when the PBX passes it on (``robotCallId``) or by
the caller's number within two minutes of the transfer, and then shows the person
whose PIN the robot verified rather than whoever the number belongs to.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Interaction
from cetatea.revenue.tests.screens_data import MAY_15
from cetatea.telephony import services
from cetatea.telephony.models import Call, RobotCall
from cetatea.telephony.robot.engine import Hangup, Say, Transfer
from cetatea.telephony.tests.test_robot_flow import PIN, call, make_citizen
from conftest import make_person

pytestmark = pytest.mark.django_db

CALLER = "+40740000001"  # the number test_robot_flow.call() calls from


@pytest.fixture
def citizen():
    return make_citizen()


@pytest.fixture(autouse=True)
def may_15():
    with time_machine.travel(MAY_15, tick=True):
        yield


def new_call(call_id: str, number: str, **kwargs):
    return services.cti_event(
        event="newCall", call_id=call_id, from_number=number, to_number="0258811528", **kwargs
    )


def test_the_operator_call_shows_the_person_the_robot_identified(citizen, client, personas):
    # Someone else is on record with the caller's number: caller ID alone would guess them.
    make_person(last_name="Vecinul", phones=["0740000001"])
    dialog, actions, _ = call(f"1{citizen['cnp']}#{PIN}#1#0")
    assert isinstance(actions[-1], Transfer)

    # The PBX writes the number its own way; the hand-off still finds the robot call.
    operator_call = new_call("pbx-1", "0040740000001", users=["op"])
    assert operator_call.person_id == citizen["person"].id
    assert operator_call.caller_matches == 1
    assert operator_call.robot_call.call_id == dialog.call_id

    client.force_login(personas["operator"])
    html = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true").content.decode()
    assert citizen["person"].last_name in html and "Vecinul" not in html
    assert "Identified by the phone robot (PIN verified)" in html
    assert "taxes owed, operator" in html


def test_the_robot_call_id_from_the_pbx_matches_even_a_withheld_number(citizen):
    dialog, _, _ = call(f"1{citizen['cnp']}#{PIN}#0", caller="anonymous")
    assert new_call("pbx-2", "anonymous").robot_call is None  # nothing to match on
    matched = new_call("pbx-3", "anonymous", robot_call_id=dialog.call_id)
    assert matched.person_id == citizen["person"].id


def test_a_hand_off_is_taken_once_and_only_soon_after_the_transfer(citizen):
    make_person(last_name="Vecinul", phones=["0740000001"])
    call(f"1{citizen['cnp']}#{PIN}#0")
    first = new_call("pbx-4", CALLER)
    assert first.person_id == citizen["person"].id
    # The same newCall again (a PBX retry) changes nothing; another call is ordinary.
    assert new_call("pbx-4", CALLER).pk == first.pk
    second = new_call("pbx-5", CALLER)
    assert second.robot_call is None and second.person.last_name == "Vecinul"

    call(f"1{citizen['cnp']}#{PIN}#0")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        late = new_call("pbx-6", CALLER)
    assert late.robot_call is None and late.person.last_name == "Vecinul"


def test_an_unidentified_caller_is_linked_but_not_vouched_for(db):
    make_person(last_name="Vecinul", phones=["0740000001"])
    dialog, _, _ = call("0")
    operator_call = new_call("pbx-7", CALLER)
    assert operator_call.robot_call.call_id == dialog.call_id
    assert operator_call.person.last_name == "Vecinul"  # from the number, as usual


def test_a_transfer_nobody_takes_is_corrected_and_the_caller_gets_a_number(citizen, settings):
    settings.CETATEA_STATUS_PHONE = "0258 811 528"
    dialog, _, _ = call(f"1{citizen['cnp']}#{PIN}#0")
    actions = dialog.transfer_failed()
    assert actions[-1] == Hangup("transfer_failed")
    words = " ".join(dialog.prompt_text(p) for a in actions if isinstance(a, Say) for p in a.parts)
    assert "niciun operator nu poate prelua apelul" in words
    assert "zero doi cinci opt opt unu unu cinci doi opt" in words
    robot_call = RobotCall.objects.get(call_id=dialog.call_id)
    assert not robot_call.transferred and robot_call.outcome == "transfer_failed"
    summary = Interaction.objects.get(pk=robot_call.interaction_id).summary
    assert summary.endswith("outcome transfer_failed.")
    # Nobody is handed over: a later call from the number is an ordinary call.
    assert new_call("pbx-8", CALLER).robot_call is None


def test_the_greeting_names_the_institution(db, settings):
    settings.CETATEA_INSTITUTION_NAME = "Primăria Comunei Ciugud"
    _, _, words = call("")
    assert "Ați sunat la Primăria Comunei Ciugud" in words


def test_the_pbx_passes_the_robot_call_id_in_its_cti_event(citizen, client, settings):
    settings.CETATEA_CTI_TOKEN = "cti-token-for-the-hand-off"
    dialog, _, _ = call(f"1{citizen['cnp']}#{PIN}#0", caller="anonymous")
    answer = client.post(
        "/api/v1/cti/cti-token-for-the-hand-off",
        {
            "event": "newCall",
            "callId": "pbx-9",
            "from": "anonymous",
            "to": "0258811528",
            "direction": "in",
            "robotCallId": dialog.call_id,
        },
    )
    assert answer.status_code == 200
    assert Call.objects.get(call_id="pbx-9").person_id == citizen["person"].id
