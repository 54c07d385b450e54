"""The robot over the TwiML-style callback: recorded request/response exchanges."""

from __future__ import annotations

import pytest
import time_machine

from cetatea.revenue.tests.screens_data import MAY_15, make_taxpayer
from cetatea.telephony.models import RobotCall
from cetatea.telephony.robot import identity
from conftest import make_cnp

pytestmark = pytest.mark.django_db
URL = "/api/v1/robot/robot-secret"
PIN = "482916"


@pytest.fixture(autouse=True)
def setup(settings):
    settings.CETATEA_ROBOT_TOKEN = "robot-secret"
    with time_machine.travel(MAY_15, tick=False):
        yield


def post(client, query="", **data):
    data.setdefault("CallSid", "CA0001")
    data.setdefault("From", "+40740000001")
    data.setdefault("To", "+40258000000")
    response = client.post(URL + query, data)
    assert response["Content-Type"] == "application/xml"
    return response.status_code, response.content.decode()


def test_a_whole_call(client):
    cnp = make_cnp()
    account = make_taxpayer(cnp=cnp, external_id="7001")
    identity.robot_pin_set(person=account.person, pin=PIN, actor=None)

    status, xml = post(client, CallStatus="ringing")
    assert status == 200
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>'
        '<Gather input="dtmf" action="/api/v1/robot/robot-secret?name=id_kind" method="POST"'
        ' numDigits="1" timeout="6">'
        '<Say language="ro-RO">Bună ziua. Ați sunat la Primăria Municipiului Alba'
        " Iulia, serviciul telefonic automat.</Say>"
        '<Say language="ro-RO">For English, press 9.</Say>'
        '<Say language="ro-RO">Pentru identificare cu codul numeric personal, apăsați 1. '
        "Pentru identificare cu numărul de rol fiscal, apăsați 2. "
        "Pentru un operator, apăsați 0.</Say></Gather>"
        '<Redirect method="POST">/api/v1/robot/robot-secret?name=id_kind&amp;timeout=1'
        "</Redirect></Response>"
    )
    status, xml = post(client, "?name=id_kind", Digits="1")
    assert 'action="/api/v1/robot/robot-secret?name=cnp"' in xml
    assert 'numDigits="13" timeout="6" finishOnKey="#"' in xml
    status, xml = post(client, "?name=cnp", Digits=cnp)
    assert "Introduceți codul PIN" in xml and "lei" not in xml
    status, xml = post(client, "?name=pin", Digits=PIN)
    assert "V-ați identificat." in xml
    status, xml = post(client, "?name=menu", Digits="1")
    assert "Astăzi aveți de plată pentru impozite și taxe cinci sute zece lei." in xml
    status, xml = post(client, "?name=menu", Digits="0")
    assert xml.endswith(
        '<Say language="ro-RO">Vă transferăm la un operator. Vă rugăm să așteptați.</Say>'
        "<Enqueue>operators</Enqueue></Response>"
    )
    call = RobotCall.objects.get(call_id="CA0001")
    assert call.identified and call.transferred and call.options == ["taxes", "operator"]
    assert call.transport == "webhook"
    assert cnp not in str(call.state) and PIN not in str(call.state)
    # The platform's final status callback changes nothing more.
    status, xml = post(client, CallStatus="completed")
    assert status == 200 and call.interaction_id is not None


def test_no_key_falls_through_to_the_redirect(client):
    post(client)
    status, xml = post(client, "?name=id_kind&timeout=1")
    assert "Nu am primit nicio tastă." in xml


def test_caller_hangup_closes_the_call(client):
    post(client)
    post(client, CallStatus="completed")
    assert RobotCall.objects.get(call_id="CA0001").outcome == "caller_hangup"


def test_wrong_token_is_refused(client):
    response = client.post("/api/v1/robot/wrong", {"CallSid": "CA1"})
    assert response.status_code == 401
    assert not RobotCall.objects.exists()


def test_empty_token_setting_turns_it_off(client, settings):
    settings.CETATEA_ROBOT_TOKEN = ""
    assert client.post("/api/v1/robot/", {"CallSid": "CA1"}).status_code == 404
    assert client.post("/api/v1/robot/x", {"CallSid": "CA1"}).status_code == 401
