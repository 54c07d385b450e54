"""The FastAGI server on loopback, called by a fake Asterisk that replays the protocol.

The fake connects over real TCP, sends the ``agi_*`` block Asterisk 20 sends for
``AGI(agi://127.0.0.1:4573/robot)`` and answers each command the way Asterisk does
(``200 result=0 endpos=...`` for a prompt played to the end, ``200 result=49`` for the
key 1, ``511`` on a dead channel, the asynchronous ``HANGUP`` line). The server runs in
its own thread and loop, as under the management command. Prompts come from a fake
`PromptAudio` that names a file per text, so the tests read what the robot streamed as
words; `PromptAudio.part_file` itself is tested at the end.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import re
import socket
import stat
import struct
import threading
import time
import wave
from collections import deque
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from cetatea.cases.models import Interaction
from cetatea.revenue.tests.screens_data import MAY_15, make_taxpayer
from cetatea.telephony.models import RobotCall
from cetatea.telephony.robot import agi, audio, identity, services, spoken
from cetatea.telephony.robot.engine import Collect, Dialog, Hangup, Say, Transfer
from cetatea.telephony.robot.prompts import prompt
from conftest import make_cnp

PIN = "482916"
UNIQUEID = "1747296000.42"

# What Asterisk 20 (res_agi.c, setup_env) sends for a call from a PJSIP trunk.
ENVIRONMENT = """\
agi_network: yes
agi_network_script: {script}
agi_request: agi://127.0.0.1:4573/{script}
agi_channel: PJSIP/trunk-telekom-0000002a
agi_language: en
agi_type: PJSIP
agi_uniqueid: {uniqueid}
agi_version: 20.7.0
agi_callerid: {callerid}
agi_calleridname: unknown
agi_callingpres: 0
agi_callingani2: 0
agi_callington: 0
agi_callingtns: 0
agi_dnid: 0258819462
agi_rdnis: unknown
agi_context: from-trunk
agi_extension: 100
agi_priority: 2
agi_enhanced: 0.0
agi_accountcode: 
agi_threadid: 139872541562432

"""  # noqa: W291 - Asterisk writes "agi_accountcode: " with the space

DEAD = "511 Command Not Permitted on a dead channel or intercept routine"


class FakeAudio:
    """A `PromptAudio` stand-in: one file name per (language, text), remembered."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.texts: dict[str, str] = {}

    def part_file(self, part, *, language, text):
        words = text() if callable(text) else text
        digest = hashlib.sha256(f"{language}\0{words}".encode()).hexdigest()[:16]
        path = self.directory / "cache" / f"{digest}.sln"
        self.texts[str(path.with_suffix(""))] = words
        return path


class Asterisk:
    """The fake Asterisk: one FastAGI connection, answered from a key script.

    ``keys`` is what the caller types: each WAIT FOR DIGIT takes one key ("_": the
    caller waits until the time runs out); with ``barge`` a key is also pressed during a
    prompt that can be interrupted. When the keys run out the caller hangs up: the
    ``hangup`` lines are what Asterisk then sends.
    """

    def __init__(self, port: int, *, keys: str = "", barge: bool = False,
                 hangup: tuple[str, ...] = ("HANGUP", "200 result=-1"),
                 exec_reply: tuple[str, ...] = ("HANGUP", "200 result=-1"),
                 variables: dict[str, str] | None = None) -> None:  # fmt: skip
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = self.sock.makefile("rb")
        self.keys = deque(keys)
        self.barge = barge
        self.hangup = hangup
        # By default the caller talks to an operator and the call ends in the bridge.
        self.exec_reply = exec_reply
        self.variables = variables or {}
        self.commands: list[str] = []
        self.closed_by_robot = False

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def environment(self, *, script: str = "robot", callerid: str = "0740000001") -> None:
        self.send(ENVIRONMENT.format(script=script, uniqueid=UNIQUEID, callerid=callerid))

    def read_command(self) -> str | None:
        line = self.reader.readline()
        if not line:
            self.closed_by_robot = True
            return None
        return line.decode().rstrip("\n")

    def answer(self, command: str) -> list[str] | None:
        """The reply lines to ``command``; None: the caller is gone (send ``hangup``)."""
        verb = " ".join(command.split()[:2])
        if command == "ANSWER":
            return ["200 result=0"]
        if verb == "STREAM FILE":
            escape = command.rsplit(" ", 1)[1]
            if self.barge and escape != '""' and self.keys and self.keys[0] != "_":
                return [f"200 result={ord(self.keys.popleft())} endpos=4000"]
            return ["200 result=0 endpos=12345"]
        if verb == "WAIT FOR":
            if not self.keys:
                return None
            key = self.keys.popleft()
            return ["200 result=0" if key == "_" else f"200 result={ord(key)}"]
        if verb in ("SET VARIABLE", "HANGUP"):
            return ["200 result=1"]
        if command.startswith("EXEC "):
            return list(self.exec_reply)
        if verb == "GET VARIABLE":
            value = self.variables.get(command.split()[2])
            return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
        return ["510 Invalid or unknown command"]

    def converse(self, **environment) -> list[str]:
        """Send the environment, answer every command until the robot closes."""
        self.environment(**environment)
        hung_up = False
        while (command := self.read_command()) is not None:
            self.commands.append(command)
            lines = self.answer(command) if not hung_up else [DEAD]
            hung_up = hung_up or lines is not None and lines[:1] == ["HANGUP"]
            if lines is None:
                hung_up = True
                lines = list(self.hangup)
            self.send("".join(f"{line}\n" for line in lines))
        self.close()
        return self.commands

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class Server:
    """An `AgiServer` in its own thread and event loop."""

    def __init__(self, audio_files, **kwargs) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        kwargs.setdefault("header_timeout", 1.0)
        kwargs.setdefault("reply_timeout", 2.0)
        self.agi = self.run(agi.AgiServer.start("127.0.0.1", 0, audio=audio_files, **kwargs))
        self.audio = audio_files

    def run(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def port(self) -> int:
        return self.agi.port

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until no call is being served (their tasks are gone)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.agi.calls:
                return True
            time.sleep(0.02)
        return False

    def text_of(self, command: str) -> str | None:
        """The words a STREAM FILE command plays (None for another command)."""
        match = re.match(r'STREAM FILE "(.*?)" ', command)
        return self.audio.texts[match.group(1)] if match else None

    def words(self, commands: list[str]) -> list[str]:
        """The texts the STREAM FILE commands played, in order."""
        return [text for c in commands if (text := self.text_of(c)) is not None]

    def stop(self) -> None:
        self.run(self.agi.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def start_server(tmp_path):
    servers: list[Server] = []

    def start(**kwargs) -> Server:
        server = Server(FakeAudio(tmp_path), **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- the citizen flow over FastAGI -----------------------------------------------------------


@pytest.fixture
def citizen(transactional_db):
    with time_machine.travel(MAY_15, tick=True):
        cnp = make_cnp()
        account = make_taxpayer(cnp=cnp, external_id=f"7{cnp[-6:]}")
        identity.robot_pin_set(person=account.person, pin=PIN, actor=None)
        yield {"cnp": cnp, "person": account.person}


def ro(key: str, **values: str) -> str:
    return prompt(key, "ro", **values)


def test_a_caller_is_identified_and_hears_the_taxes_owed(start_server, citizen):
    server = start_server(transfer="Queue,{queue}")
    cnp = citizen["cnp"]
    commands = Asterisk(server.port, keys=f"1{cnp}#{PIN}#1").converse()

    assert commands[0] == "ANSWER"
    assert commands[1].startswith('STREAM FILE "') and commands[1].endswith(' "0123456789*#"')
    words = server.words(commands)
    assert words[:3] == [ro("greeting"), ro("choose_language"), ro("choose_identification")]
    # The PIN prompt comes after the 13 CNP digits (the "#" after them is swallowed by the
    # PIN entry, as the engine's rules say), and nothing personal is said before the PIN.
    pin_prompt = [server.text_of(c) for c in commands].index(ro("enter_pin"))
    assert sum(c.startswith("WAIT FOR DIGIT") for c in commands[:pin_prompt]) == 1 + 13
    before_pin = words[: words.index(ro("identified"))]
    assert not any("lei" in text for text in before_pin)
    assert ro("enter_pin") in before_pin
    # The amount the seeded history makes due on 15 May, in Romanian words.
    due = services.taxes_owed(citizen["person"].id).due_today
    assert due == Decimal("510.00")
    assert ro("taxes_due_today", amount=spoken.amount(due, "ro")) in words
    assert ro("taxes_due_today", amount=spoken.amount(due + 1, "ro")) not in words
    # A first WAIT FOR DIGIT waits the first timeout (6 s), the next ones the
    # inter-digit timeout (3 s); the robot asks Asterisk, it does not sleep itself.
    waits = [int(c.split()[-1]) for c in commands if c.startswith("WAIT FOR DIGIT")]
    assert 5990 <= waits[0] <= 6000 and 2990 <= waits[2] <= 3000
    # The caller hung up at the menu: the call is logged once, as an AGI call.
    assert server.idle()
    robot_call = RobotCall.objects.get(call_id=UNIQUEID)
    assert robot_call.transport == "agi"
    assert robot_call.caller_hash == identity.caller_hash("0740000001")
    assert robot_call.identified and robot_call.options == ["taxes"]
    assert robot_call.outcome == "caller_hangup"
    interaction = Interaction.objects.get(person=citizen["person"])
    assert (interaction.pk, interaction.channel) == (robot_call.interaction_id, "robot")


def test_a_caller_hanging_up_in_the_pin_gets_511_and_the_call_is_logged_once(start_server, citizen):
    server = start_server()
    fake = Asterisk(server.port, keys=f"1{citizen['cnp']}#48", hangup=(DEAD,))
    commands = fake.converse()

    assert fake.closed_by_robot
    assert commands[-1].startswith("WAIT FOR DIGIT")  # nothing sent after the 511
    assert server.idle()
    robot_call = RobotCall.objects.get(call_id=UNIQUEID)
    assert robot_call.outcome == "caller_hangup" and robot_call.ended_at is not None
    assert not robot_call.identified
    assert not Interaction.objects.exists()  # an unidentified caller has no timeline


def test_an_identified_caller_asking_for_an_operator_is_handed_to_the_queue(start_server, citizen):
    server = start_server(transfer="Queue,{queue},,,300")
    commands = Asterisk(server.port, keys=f"1{citizen['cnp']}#{PIN}#0").converse()

    assert server.words(commands)[-1] == ro("transfer")
    assert commands[-4].endswith(' ""')  # the transfer notice cannot be interrupted
    assert commands[-3:] == [
        f'SET VARIABLE CETATEA_PERSON "{citizen["person"].id}"',
        f'SET VARIABLE CETATEA_ROBOT_CALL "{UNIQUEID}"',
        'EXEC Queue "operators,,,300"',
    ]
    assert server.idle()
    robot_call = RobotCall.objects.get(call_id=UNIQUEID)
    assert robot_call.transferred and robot_call.outcome == "transferred"


def test_a_queue_that_times_out_gives_the_call_back_to_the_flow(start_server, citizen):
    server = start_server()
    fake = Asterisk(
        server.port,
        keys=f"1{citizen['cnp']}#{PIN}#0",
        exec_reply=("200 result=0",),  # Queue gave up, the caller is still there
        variables={"QUEUESTATUS": "TIMEOUT"},
    )
    commands = fake.converse()

    exec_at = commands.index('EXEC Queue "operators"')
    assert commands[exec_at + 1] == "GET VARIABLE QUEUESTATUS"
    assert server.text_of(commands[exec_at + 2]) == ro("transfer_failed")
    assert commands[-1] == "HANGUP"
    assert server.idle()
    robot_call = RobotCall.objects.get(call_id=UNIQUEID)
    assert (robot_call.transferred, robot_call.outcome) == (False, "transfer_failed")


def test_three_wrong_pins_and_the_robot_hangs_up(start_server, citizen):
    server = start_server()
    cnp = citizen["cnp"]
    commands = Asterisk(server.port, keys=f"1{cnp}#111111#1{cnp}#222222#1{cnp}#333333#").converse()

    assert commands[-1] == "HANGUP"
    words = server.words(commands)
    assert words[-1] == ro("too_many_attempts")
    assert not any("lei" in text for text in words)
    assert RobotCall.objects.get(call_id=UNIQUEID).outcome == "identification_failed"


# --- the transport, with a small test flow ---------------------------------------------------


class EchoFlow:
    """Says three parts, collects up to six digits (# ends), says them back, hangs up."""

    def __init__(self, dialog: Dialog, seen: list) -> None:
        self.dialog = dialog
        self.seen = seen

    def start(self):
        self.seen.append(("start", self.dialog.caller, self.dialog.called, self.dialog.channel))
        return [Say(("text:one", "text:two", "text:three")), Collect("number", 1, 6)]

    def digits(self, name, value, *, timed_out):
        self.seen.append((name, value, timed_out))
        if value == "0":
            return [Say(("text:transfer",), bargein=False), Transfer("operators", None)]
        return [Say((f"text:you typed {value}",)), Hangup("done")]

    def hangup(self):
        self.seen.append(("hangup",))


@pytest.fixture
def echo(start_server):
    seen: list = []
    factory = functools.partial(Dialog, flow=functools.partial(EchoFlow, seen=seen))
    server = start_server(scripts={"robot": factory})
    server.seen = seen
    return server


def test_a_key_during_a_prompt_stops_the_rest_and_counts_as_type_ahead(echo):
    commands = Asterisk(echo.port, keys="12*345#", barge=True).converse()

    # "1" interrupted the first part: "two" and "three" are never played.
    assert echo.words(commands) == ["one", "you typed 345"]
    assert echo.seen[0] == ("start", "0740000001", "0258819462", "agi")
    # "12" then "*" cancels the entry; "345#" is the entry (the engine's rules).
    assert echo.seen[1] == ("number", "345", False)
    assert commands[-1] == "HANGUP"


def test_a_timeout_is_reported_by_asterisk_not_waited_for(echo):
    started = time.monotonic()
    Asterisk(echo.port, keys="_").converse()
    assert echo.seen[1] == ("number", "", True)  # the Collect's 6 s were Asterisk's
    assert time.monotonic() - started < 2


def test_a_transfer_without_a_person_sets_an_empty_person(start_server):
    seen: list = []
    factory = functools.partial(Dialog, flow=functools.partial(EchoFlow, seen=seen))
    server = start_server(scripts={"robot": factory}, transfer="Dial,PJSIP/{queue}@pbx,30")
    fake = Asterisk(
        server.port, keys="0#", exec_reply=("200 result=0",), variables={"DIALSTATUS": "ANSWER"}
    )
    commands = fake.converse()
    assert commands[-4:] == [
        'SET VARIABLE CETATEA_PERSON ""',
        f'SET VARIABLE CETATEA_ROBOT_CALL "{UNIQUEID}"',
        'EXEC Dial "PJSIP/operators@pbx,30"',
        "GET VARIABLE DIALSTATUS",  # ANSWER: the operator had the call (Dial's g option)
    ]
    assert server.idle()
    assert ("hangup",) not in seen  # the flow ended the call itself


def test_a_hangup_line_during_a_prompt_ends_the_dialog_once(echo):
    fake = Asterisk(echo.port)
    fake.environment()
    assert fake.read_command() == "ANSWER"
    fake.send("200 result=0\n")
    assert fake.read_command().startswith("STREAM FILE")
    fake.send("HANGUP\n200 result=-1 endpos=800\n")  # AGISIGHUP, then the reply
    assert fake.read_command() is None  # the robot closed the connection
    assert echo.idle()
    assert echo.seen.count(("hangup",)) == 1


def test_a_multi_line_520_reply_ends_the_call(echo):
    fake = Asterisk(echo.port)
    fake.environment()
    assert fake.read_command() == "ANSWER"
    fake.send("200 result=0\n")
    assert fake.read_command().startswith("STREAM FILE")
    fake.send(
        "520-Invalid command syntax.  Proper usage follows:\n"
        " Usage: STREAM FILE <filename> <escape_digits> [<sample offset>]\n"
        "        Send the given file, allowing playback to be interrupted by the given\n"
        "520 End of proper usage.\n"
    )
    assert fake.read_command() is None
    assert echo.idle()
    assert echo.seen.count(("hangup",)) == 1


def test_an_unknown_script_is_hung_up_without_a_dialog(echo):
    commands = Asterisk(echo.port).converse(script="voicemail")
    assert commands == ["HANGUP"]
    assert echo.seen == []


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: robot\r\n\r\n",
        b"agi_network: yes\n\n",  # no script
        b"agi_network_script: robot\n" + b"agi_x: " + b"x" * 9000 + b"\n\n",  # line > 8 KB
        b"\xff\xfe\x00garbage\n\n",
        b"agi_network: yes\n",  # then the connection closes
    ],
)
def test_garbage_is_refused_and_the_server_keeps_serving(echo, data):
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(100) == b""  # closed, no command sent
        except ConnectionResetError:
            pass  # closed with our bytes unread
    assert echo.idle()
    commands = Asterisk(echo.port, keys="7#").converse()
    assert echo.words(commands)[-1] == "you typed 7"


def test_a_silent_connection_is_closed_after_the_header_timeout(start_server):
    server = start_server(header_timeout=0.3)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        assert sock.recv(100) == b""
    assert 0.25 < time.monotonic() - started < 2
    assert server.idle()


def test_calls_over_the_limit_are_refused_at_once(start_server):
    server = start_server(max_calls=1, header_timeout=3.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as second:
            assert second.recv(100) == b""  # Asterisk goes on with the dialplan
        assert server.agi.refused == 1
        assert len(server.agi.calls) == 1
    assert server.idle()


def test_closing_the_server_ends_the_calls_in_progress(echo):
    fake = Asterisk(echo.port)
    fake.environment()
    assert fake.read_command() == "ANSWER"
    fake.send("200 result=0\n")
    assert fake.read_command().startswith("STREAM FILE")  # and the prompt plays on
    echo.run(echo.agi.close())
    assert fake.read_command() is None
    assert not echo.agi.calls
    assert echo.seen.count(("hangup",)) == 1


def test_reply_parsing():
    assert agi.parse_reply("200 result=0 endpos=12345") == agi.Reply(200, 0, "", 12345)
    assert agi.parse_reply("200 result=49") == agi.Reply(200, 49)
    assert agi.parse_reply("200 result=1 (timeout)") == agi.Reply(200, 1, "timeout")
    with pytest.raises(agi.AgiProtocolError):
        agi.parse_reply("100 result=0 Trying...")
    assert agi.quote('a "b" \\c') == '"a \\"b\\" \\\\c"'


# --- the command -----------------------------------------------------------------------------


def test_the_command_listens_and_stops():
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=("robot_agi", "--host", "127.0.0.1", "--port", "0", "--seconds", "1.5"),
        kwargs={"stdout": out, "stderr": io.StringIO()},
        daemon=True,
    )
    thread.start()
    end = time.monotonic() + 5
    while "robot FastAGI server on" not in out.getvalue() and time.monotonic() < end:
        time.sleep(0.02)
    port = int(re.search(r"tcp 127\.0\.0\.1:(\d+)", out.getvalue()).group(1))
    assert Asterisk(port).converse(script="nothing-here") == ["HANGUP"]
    thread.join(5)
    assert "robot FastAGI server stopped" in out.getvalue()


# --- prompt files for Asterisk ---------------------------------------------------------------

needs_tts = pytest.mark.skipif(
    bool(audio.programs_missing()),
    reason="espeak-ng/sox missing (scripts/robot-deps.sh installs them)",
)


def test_a_recording_is_given_to_asterisk_as_a_readable_sln_file(tmp_path):
    samples = [(i * 37) % 2000 - 1000 for i in range(800)]
    recording = tmp_path / "recorded" / "ro" / "greeting.wav"
    recording.parent.mkdir(parents=True)
    with wave.open(str(recording), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))

    path = audio.PromptAudio(tmp_path).part_file("greeting", language="ro", text="unused")

    assert path.suffix == ".sln" and path.is_relative_to(tmp_path / "cache")
    assert path.read_bytes() == struct.pack(f"<{len(samples)}h", *samples)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the PBX's group reads it


@needs_tts
def test_speech_is_given_to_asterisk_as_its_cache_file(tmp_path):
    prompts = audio.PromptAudio(tmp_path)
    path = prompts.part_file("text:Bună ziua", language="ro", text="Bună ziua")
    assert path == prompts.cache_path("ro", "Bună ziua")
    assert path.read_bytes() == prompts.speak("Bună ziua", language="ro")


@needs_tts
def test_a_real_call_streams_the_rendered_amount_from_the_prompt_cache(tmp_path, citizen):
    prompts = audio.PromptAudio(tmp_path / "prompts")
    server = Server(prompts)
    try:
        commands = Asterisk(server.port, keys=f"1{citizen['cnp']}#{PIN}#1").converse()
    finally:
        server.stop()
    due = services.taxes_owed(citizen["person"].id).due_today
    expected = prompts.cache_path("ro", ro("taxes_due_today", amount=spoken.amount(due, "ro")))
    # Asterisk is given the cache file without its extension, and it is there to play.
    assert f'STREAM FILE "{expected.with_suffix("")}" "0123456789*#"' in commands
    assert expected.read_bytes() == prompts.speak(
        ro("taxes_due_today", amount=spoken.amount(due, "ro")), language="ro"
    )
    wrong = prompts.cache_path("ro", ro("taxes_due_today", amount=spoken.amount(due + 1, "ro")))
    assert not any(str(wrong.with_suffix("")) in c for c in commands)
