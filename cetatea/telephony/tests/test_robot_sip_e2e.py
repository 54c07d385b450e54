"""A real call: sipp (Debian's sip-tester) calls the robot's SIP endpoint on loopback.

sipp sends the INVITE, then the CNP, the PIN and the menu choice as RFC 4733 DTMF
(the pcaps shipped with sip-tester), and hangs up. sipp cannot record what it hears,
so its SDP names a port of ours where a small socket records the robot's RTP; the test
then looks in that audio for the sentence the seeded data makes due, rendered by the
same espeak-ng + sox path at test time (never golden audio: voices differ between
espeak-ng versions), and checks that a wrong amount is not there. A second caller gets
the PIN wrong until the robot hangs up and, with the failures of a second call, locks
the identity. (Research §5.2 and §6.4 record what sipp can and cannot do.)
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from cetatea.cases.models import Interaction
from cetatea.revenue.tests.screens_data import MAY_15, make_taxpayer
from cetatea.telephony.models import RobotCall, RobotLock
from cetatea.telephony.robot import audio, g711, identity, services, sip, spoken
from cetatea.telephony.robot.engine import Dialog
from cetatea.telephony.robot.prompts import prompt
from conftest import make_cnp

PCAPS = Path("/usr/share/sip-tester")
PIN = "482916"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which("sipp") is None or not (PCAPS / "dtmf_2833_1.pcap").exists(),
        reason="sipp (sip-tester) missing: scripts/robot-deps.sh installs it",
    ),
    pytest.mark.skipif(
        bool(audio.programs_missing()),
        reason="espeak-ng/sox missing: scripts/robot-deps.sh installs them",
    ),
]

HEADERS = """\
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:0740000001@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:robot@[remote_ip]:[remote_port]>{to_tag}
      Call-ID: [call_id]
      CSeq: {cseq}
      Contact: <sip:0740000001@[local_ip]:[local_port]>
      Max-Forwards: 70"""

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="Cetatea robot caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:robot@[remote_ip]:[remote_port] SIP/2.0
{invite_headers}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {rtp_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:robot@[remote_ip]:[remote_port] SIP/2.0
{ack_headers}
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="500"/>
{keys}
{ending}
</scenario>
"""

CALLER_HANGS_UP = """\
  <pause milliseconds="{wait}"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:robot@[remote_ip]:[remote_port] SIP/2.0
{bye_headers}
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

ROBOT_HANGS_UP = """\
  <recv request="BYE" timeout="{wait}"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""

PCAP_NAMES = {"#": "pound", "*": "star"}


def scenario(*, rtp_port: int, keys: str, robot_hangs_up: bool, wait_ms: int) -> str:
    plays = "\n".join(
        f'  <nop><action><exec play_pcap_audio="{PCAPS}/dtmf_2833_{PCAP_NAMES.get(k, k)}.pcap"/>'
        f'</action></nop>\n  <pause milliseconds="200"/>'
        for k in keys
    )
    ending = (ROBOT_HANGS_UP if robot_hangs_up else CALLER_HANGS_UP).format(
        wait=wait_ms,
        bye_headers=HEADERS.format(to_tag="[peer_tag_param]", cseq="2 BYE"),
    )
    return SCENARIO.format(
        invite_headers=HEADERS.format(to_tag="", cseq="1 INVITE"),
        ack_headers=HEADERS.format(to_tag="[peer_tag_param]", cseq="1 ACK"),
        rtp_port=rtp_port,
        keys=plays,
        ending=ending,
    )


class RtpRecorder:
    """The caller's ears: records the RTP the robot sends to the port in sipp's SDP."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[tuple[int, int, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(2048)
            except (TimeoutError, OSError):
                continue
            parsed = sip.parse_rtp(data)
            if parsed:
                self.packets.append((parsed[0], parsed[2], parsed[4]))

    def audio(self, payload_type: int) -> bytes:
        """The payload in sequence order (unwrapping the 16-bit sequence number)."""
        ordered, base, last = [], 0, None
        for pt, seq, payload in self.packets:
            if pt != payload_type:
                continue
            if last is not None and seq < last and last - seq > 30000:
                base += 65536
            last = seq
            ordered.append((base + seq, payload))
        return b"".join(payload for _, payload in sorted(ordered))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def endpoint(tmp_path):
    """The robot's SIP endpoint with the citizen flow, in its own thread and loop."""
    import asyncio

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    prompts = audio.PromptAudio(tmp_path / "prompts")

    def run(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(10)

    server = run(
        sip.SipEndpoint.start(
            "127.0.0.1", 0, audio=prompts, dialog_factory=functools.partial(Dialog)
        )
    )
    server.prompts = prompts
    yield server
    run(server.close())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def citizen():
    with time_machine.travel(MAY_15, tick=True):
        cnp = make_cnp()
        account = make_taxpayer(cnp=cnp, external_id=f"7{cnp[-6:]}")
        identity.robot_pin_set(person=account.person, pin=PIN, actor=None)
        yield {"cnp": cnp, "person": account.person}


def call_with_sipp(endpoint, tmp_path, *, keys: str, robot_hangs_up: bool, wait_ms: int):
    recorder = RtpRecorder()
    try:
        xml = tmp_path / f"caller-{time.monotonic_ns()}.xml"
        xml.write_text(
            scenario(
                rtp_port=recorder.port, keys=keys, robot_hangs_up=robot_hangs_up, wait_ms=wait_ms
            )
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            sipp_port = probe.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own scenario, loopback only
            [
                shutil.which("sipp") or "sipp",
                f"127.0.0.1:{endpoint.port}",
                "-sf",
                str(xml),
                "-i",
                "127.0.0.1",
                "-p",
                str(sipp_port),
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "90",
                "-trace_err",
                "-error_file",
                str(tmp_path / "sipp-errors.log"),
            ],
            capture_output=True,
            timeout=120,
            cwd=tmp_path,
        )
        errors = (
            (tmp_path / "sipp-errors.log").read_text(errors="replace")[-2000:]
            if (tmp_path / "sipp-errors.log").exists()
            else ""
        )
        assert done.returncode == 0, (done.stdout[-1500:], done.stderr[-1500:], errors)
        time.sleep(0.3)
        return recorder.audio(0)
    finally:
        recorder.close()


def spoken_ulaw(endpoint, text: str) -> bytes:
    return g711.encode_ulaw(endpoint.prompts.speak(text, language="ro"))


def test_a_real_call_hears_the_taxes_owed_and_is_logged(endpoint, citizen, tmp_path):
    due = services.taxes_owed(citizen["person"].id).due_today
    assert due == Decimal("510.00")  # what the seeded history makes due on 15 May
    expected = prompt("taxes_due_today", "ro", amount=spoken.amount(due, "ro"))
    wrong = prompt("taxes_due_today", "ro", amount=spoken.amount(due + 1, "ro"))

    heard = call_with_sipp(
        endpoint,
        tmp_path,
        keys=f"1{citizen['cnp']}#{PIN}#1",
        robot_hangs_up=False,
        wait_ms=12000,
    )

    assert spoken_ulaw(endpoint, expected) in heard
    assert spoken_ulaw(endpoint, wrong) not in heard
    robot_call = RobotCall.objects.get(transport="sip")
    assert robot_call.identified and robot_call.options == ["taxes"]
    assert robot_call.outcome == "caller_hangup"
    interaction = Interaction.objects.get(pk=robot_call.interaction_id)
    assert (interaction.person_id, interaction.channel) == (citizen["person"].id, "robot")


def test_wrong_pins_end_the_call_and_a_second_call_is_locked_out(endpoint, citizen, tmp_path):
    cnp = citizen["cnp"]
    # Two failures from earlier calls today; this call's three make five.
    for wrong in ("000000", "999999"):
        claim = identity.claim(identity.CNP, cnp)
        assert identity.verify(claim, wrong, caller="0740000001", call_id="earlier") is None
    heard = call_with_sipp(
        endpoint,
        tmp_path,
        keys=f"1{cnp}#111111#1{cnp}#222222#1{cnp}#333333#",
        robot_hangs_up=True,
        wait_ms=30000,
    )
    assert spoken_ulaw(endpoint, prompt("too_many_attempts", "ro")) in heard
    first = RobotCall.objects.get(transport="sip")
    assert (first.outcome, first.identified) == ("identification_failed", False)
    assert RobotLock.objects.filter(unlocked_at__isnull=True).count() == 1

    # The second call types the right PIN: refused with the same generic words.
    heard = call_with_sipp(
        endpoint, tmp_path, keys=f"1{cnp}#{PIN}#", robot_hangs_up=False, wait_ms=7000
    )
    # The first three seconds of the (long) generic failure prompt.
    assert spoken_ulaw(endpoint, prompt("identification_failed", "ro"))[:24000] in heard
    assert spoken_ulaw(endpoint, prompt("identified", "ro")) not in heard
    second = RobotCall.objects.exclude(pk=first.pk).get(transport="sip")
    assert not second.identified and second.outcome == "caller_hangup"
    assert not Interaction.objects.filter(person=citizen["person"]).exists()
