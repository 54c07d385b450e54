"""`manage.py robot_sip`: the endpoint with the citizen flow, called on loopback."""

import io
import re
import threading

import pytest
from django.core.management import call_command

from cetatea.telephony.models import RobotCall
from cetatea.telephony.robot import audio
from cetatea.telephony.robot.prompts import prompt
from cetatea.telephony.tests.test_robot_sip import Caller, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(audio.programs_missing()),
        reason="espeak-ng/sox missing (scripts/robot-deps.sh installs them)",
    ),
]


@pytest.fixture
def command(transactional_db, settings, tmp_path):
    """The command in a thread for 10 seconds (it stops itself), once the database is up."""
    settings.CETATEA_ROBOT_PROMPT_DIR = tmp_path
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=("robot_sip", "--host", "127.0.0.1", "--port", "0", "--seconds", "10"),
        kwargs={"stdout": out},
        daemon=True,
    )
    thread.start()
    wait_until(lambda: "robot SIP endpoint on" in out.getvalue())
    port = int(re.search(r"udp 127\.0\.0\.1:(\d+)", out.getvalue()).group(1))
    yield port
    thread.join(10)
    assert "robot SIP endpoint stopped" in out.getvalue()


def test_the_command_answers_with_the_romanian_greeting_and_records_the_call(command, tmp_path):
    call = Caller(command)
    try:
        call.request("OPTIONS")
        assert call.receive().status == 200
        call.answered()
        greeting = audio.PromptAudio(tmp_path).speak(prompt("greeting", "ro"), language="ro")
        call.wait_for_audio(greeting[:16000], timeout=5)  # its first second
        call.bye()
    finally:
        call.close()
    wait_until(lambda: RobotCall.objects.filter(call_id=call.call_id, ended_at__isnull=False))
    robot_call = RobotCall.objects.get(call_id=call.call_id)
    assert (robot_call.transport, robot_call.outcome) == ("sip", "caller_hangup")
    assert not robot_call.identified
