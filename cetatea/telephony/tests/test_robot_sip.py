"""The SIP endpoint on loopback, called by a small SIP/RTP caller written here.

The endpoint runs in its own thread and event loop, as under the management command;
the caller uses plain blocking sockets. The dialog is a small test flow (prompts are
recorded WAV tones, so no speech synthesiser is needed), so these tests exercise the
transport: signalling, media, DTMF, timers and clean-up.
"""

from __future__ import annotations

import asyncio
import functools
import math
import secrets
import socket
import struct
import threading
import time
import wave

import pytest

from cetatea.telephony.robot import g711, sip
from cetatea.telephony.robot.audio import PromptAudio
from cetatea.telephony.robot.engine import Collect, Dialog, Hangup, Say, Transfer

RATE = 8000


def tone(freq: float, seconds: float) -> bytes:
    n = int(RATE * seconds)
    return struct.pack(
        f"<{n}h", *(int(8000 * math.sin(2 * math.pi * freq * i / RATE)) for i in range(n))
    )


GREETING = tone(440, 0.6)
BYE = tone(880, 0.3)
LONG = tone(660, 4.0)


def write_wav(path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)


class Recorder:
    """What the test flow saw, per call."""

    def __init__(self) -> None:
        self.digits: dict[str, list[tuple[str, str, bool, float]]] = {}
        self.hangups: list[str] = []
        self.transfers_failed: list[str] = []
        self.changed = threading.Condition()

    def wait(self, predicate, timeout: float = 5.0) -> None:
        with self.changed:
            assert self.changed.wait_for(predicate, timeout), "timed out waiting for the flow"


class EchoFlow:
    """Greets, collects up to 6 digits, says goodbye and hangs up; 0 asks for an operator."""

    def __init__(self, dialog: Dialog, recorder: Recorder, greeting: str = "greeting") -> None:
        self.dialog = dialog
        self.recorder = recorder
        self.greeting = greeting

    def start(self):
        return [
            Say((self.greeting,)),
            Collect("number", 1, 6, first_timeout=1.5, interdigit_timeout=1.0),
        ]

    def digits(self, name, value, *, timed_out):
        with self.recorder.changed:
            self.recorder.digits.setdefault(self.dialog.call_id, []).append(
                (name, value, timed_out, time.monotonic())
            )
            self.recorder.changed.notify_all()
        if value == "0":
            return [Transfer("operators", None)]
        return [Say(("bye",), bargein=False), Hangup("done")]

    def transfer_failed(self):
        with self.recorder.changed:
            self.recorder.transfers_failed.append(self.dialog.call_id)
            self.recorder.changed.notify_all()
        return [Say(("bye",), bargein=False), Hangup("no operator")]

    def hangup(self):
        with self.recorder.changed:
            self.recorder.hangups.append(self.dialog.call_id)
            self.recorder.changed.notify_all()


class Server:
    """The endpoint in a thread with its own loop."""

    def __init__(self, tmp_path, **options) -> None:
        write_wav(tmp_path / "recorded" / "ro" / "greeting.wav", GREETING)
        write_wav(tmp_path / "recorded" / "ro" / "bye.wav", BYE)
        write_wav(tmp_path / "recorded" / "ro" / "long.wav", LONG)
        self.recorder = Recorder()
        greeting = options.pop("greeting", "greeting")
        flow = functools.partial(EchoFlow, recorder=self.recorder, greeting=greeting)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.endpoint: sip.SipEndpoint = self.call_soon(
            sip.SipEndpoint.start(
                "127.0.0.1",
                0,
                audio=PromptAudio(tmp_path),
                dialog_factory=functools.partial(Dialog, flow=flow),
                **options,
            )
        )
        self.port = self.endpoint.port

    def call_soon(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def stop(self) -> None:
        self.call_soon(self.endpoint.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path, t1=0.05)
    yield server
    server.stop()


class Caller:
    """A SIP user agent client with an RTP socket that records what it receives."""

    def __init__(self, port: int, *, rtp_host: str = "127.0.0.1") -> None:
        self.target = ("127.0.0.1", port)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.sip.settimeout(5)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((rtp_host, 0))
        self.rtp.settimeout(0.2)
        self.call_id = secrets.token_hex(8) + "@test"
        self.tag = secrets.token_hex(4)
        self.to_tag = ""
        self.cseq = 1
        self.packets: list[tuple[float, int, int, int, bytes]] = []
        self.remote_rtp: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._record, daemon=True)
        self._thread.start()
        self.dtmf_timestamp = 1000

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sip.close()
        self.rtp.close()

    def _record(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.rtp.recv(2048)
            except (TimeoutError, OSError):
                continue
            parsed = sip.parse_rtp(data)
            if parsed:
                pt, _marker, seq, ts, payload = parsed
                self.packets.append((time.monotonic(), pt, seq, ts, payload))

    # --- signalling ---

    def offer(self, formats: str = "0 101") -> str:
        port = self.rtp.getsockname()[1]
        return (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {formats}\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
        )

    def request(self, method: str, *, body: str = "", content_type: str = "", cseq=None) -> None:
        port = self.sip.getsockname()[1]
        to = "<sip:robot@127.0.0.1>" + (f";tag={self.to_tag}" if self.to_tag else "")
        number = cseq if cseq is not None else self.cseq
        lines = [
            f"{method} sip:robot@127.0.0.1:{self.target[1]} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{secrets.token_hex(6)};rport",
            "Max-Forwards: 70",
            f"From: <sip:0722000111@127.0.0.1>;tag={self.tag}",
            f"To: {to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {number} {method}",
            f"Contact: <sip:caller@127.0.0.1:{port}>",
        ]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.target)

    def receive(self, timeout: float = 5.0) -> sip.SipMessage:
        self.sip.settimeout(timeout)
        data, _addr = self.sip.recvfrom(65536)
        return sip.parse_message(data)

    def expect(self, status: int, timeout: float = 5.0) -> sip.SipMessage:
        """Read until a response with ``status`` (provisional ones before it are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message.status == status:
                return message
            assert message.is_request is False and message.status < 200, (
                f"expected {status}, got {message.status or message.method}"
            )

    def invite(self, formats: str = "0 101") -> sip.SipMessage:
        self.request("INVITE", body=self.offer(formats), content_type="application/sdp")
        return self.receive()

    def answered(self, formats: str = "0 101") -> sip.SipMessage:
        """INVITE, 100, 180, 200 (with the SDP answer), ACK."""
        assert self.invite(formats).status == 100
        ok = self.expect(200)
        self.to_tag = sip._param(ok.get("to"), "tag") or ""
        media = sip.sdp.negotiate(sip.sdp.parse(ok.body.decode()))
        self.remote_rtp = (media.address, media.port)
        self.media = media
        self.request("ACK", cseq=self.cseq)
        self.cseq += 1
        return ok

    def bye(self) -> sip.SipMessage:
        self.request("BYE")
        self.cseq += 1
        return self.expect(200)

    def reply(self, request: sip.SipMessage, status: int, reason: str) -> None:
        lines = [
            f"SIP/2.0 {status} {reason}",
            *(f"Via: {v}" for v in request.get_all("via")),
            f"From: {request.get('from')}",
            f"To: {request.get('to')};tag={self.tag}",
            f"Call-ID: {request.call_id}",
            f"CSeq: {request.get('cseq')}",
            "Content-Length: 0",
        ]
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), self.target)

    def wait_request(self, method: str, timeout: float = 5.0) -> sip.SipMessage:
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message.method == method:
                return message

    def notify(self, sipfrag: str, *, state: str = "terminated;reason=noresource") -> None:
        """The progress of the REFER the robot sent (RFC 3515 NOTIFY with a sipfrag)."""
        self.request_in_dialog(
            "NOTIFY",
            [("Event", "refer"), ("Subscription-State", state)],
            body=sipfrag + "\r\n",
            content_type="message/sipfrag;version=2.0",
        )

    def request_in_dialog(self, method, extra, *, body="", content_type="") -> None:
        port = self.sip.getsockname()[1]
        lines = [
            f"{method} sip:robot@127.0.0.1:{self.target[1]} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{secrets.token_hex(6)};rport",
            "Max-Forwards: 70",
            f"From: <sip:0722000111@127.0.0.1>;tag={self.tag}",
            f"To: <sip:robot@127.0.0.1>;tag={self.to_tag}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} {method}",
            *(f"{name}: {value}" for name, value in extra),
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body.encode())}",
        ]
        self.cseq += 1
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.target)

    def answer_bye(self, timeout: float = 5.0) -> sip.SipMessage:
        """Wait for the robot's BYE and answer it 200 OK."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message.method == "BYE":
                break
        lines = [
            "SIP/2.0 200 OK",
            *(f"Via: {v}" for v in message.get_all("via")),
            f"From: {message.get('from')}",
            f"To: {message.get('to')}",
            f"Call-ID: {message.call_id}",
            f"CSeq: {message.get('cseq')}",
            "Content-Length: 0",
        ]
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), self.target)
        return message

    # --- media ---

    def press(self, keys: str, *, pause: float = 0.1, sock: socket.socket | None = None) -> None:
        """RFC 4733 events: a start packet with the marker, an update, three end packets."""
        assert self.remote_rtp is not None
        sender = sock or self.rtp
        for key in keys:
            code = "0123456789*#".index(key)
            self.dtmf_timestamp += 1600
            seq = self.dtmf_timestamp // 10
            for i, (marker, end, duration) in enumerate(
                [(True, False, 160), (False, False, 320)] + [(False, True, 480)] * 3
            ):
                payload = struct.pack("!BBH", code, (0x80 if end else 0) | 10, duration)
                packet = sip.rtp_packet(
                    payload_type=101,
                    seq=seq + i,
                    timestamp=self.dtmf_timestamp,
                    ssrc=1234,
                    payload=payload,
                    marker=marker,
                )
                sender.sendto(packet, self.remote_rtp)
            time.sleep(pause)

    def audio(self, payload_type: int = 0) -> bytes:
        """The received audio payload, in sequence order."""
        packets = sorted((p for p in self.packets if p[1] == payload_type), key=lambda p: p[2])
        return b"".join(p[4] for p in packets)

    def wait_for_audio(self, pcm: bytes, payload_type: int = 0, timeout: float = 5.0) -> None:
        encoded = g711.CODECS[payload_type][1](pcm)
        deadline = time.monotonic() + timeout
        while encoded not in self.audio(payload_type):
            assert time.monotonic() < deadline, "the prompt never arrived"
            time.sleep(0.05)


@pytest.fixture
def caller(server):
    callers = []

    def make(**kwargs):
        callers.append(Caller(server.port, **kwargs))
        return callers[-1]

    yield make
    for each in callers:
        each.close()


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_call_hears_the_prompt_sends_rfc4733_digits_and_the_robot_hangs_up(server, caller):
    call = caller()
    ok = call.answered()
    assert ok.get("content-type") == "application/sdp"
    assert (call.media.payload_type, call.media.dtmf_payload_type) == (0, 101)
    assert sip._param(ok.get_all("via")[0], "rport") == str(call.sip.getsockname()[1])

    call.wait_for_audio(GREETING)
    call.press("42#")
    bye = call.answer_bye()
    assert bye.call_id == call.call_id
    assert sip._param(bye.get("from"), "tag") == call.to_tag  # the robot's side of the dialog

    name, value, timed_out, _at = server.recorder.digits[call.call_id][0]
    assert (name, value, timed_out) == ("number", "42", False)
    # The goodbye was played in full before the BYE, in µ-law.
    assert g711.encode_ulaw(BYE) in call.audio(0)
    # One continuous stream: consecutive sequence numbers, timestamps 160 apart.
    packets = sorted(p for p in call.packets if p[1] == 0)
    for (_, _, seq1, ts1, _), (_, _, seq2, ts2, _) in zip(packets, packets[1:], strict=False):
        assert (seq2 - seq1) & 0xFFFF == 1
        assert (ts2 - ts1) & 0xFFFFFFFF == 160
    wait_until(lambda: not server.endpoint.calls)


def test_pcma_is_used_when_the_caller_prefers_it(server, caller):
    call = caller()
    call.answered("8 0 101")
    assert call.media.payload_type == 8
    call.wait_for_audio(GREETING, payload_type=8)
    call.bye()


def test_audio_is_paced_on_the_20ms_clock(server, caller):
    call = caller()
    call.answered()
    time.sleep(1.5)
    call.bye()
    times = [p[0] for p in call.packets if p[1] == 0]
    span = times[-1] - times[0]
    # As many packets as 20 ms slots (the sender's clock is absolute, so no drift).
    assert abs(len(times) - 1 - span / 0.02) <= 3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert sum(gaps) / len(gaps) == pytest.approx(0.02, abs=0.002)


def test_digits_by_sip_info_count_like_rfc4733(server, caller):
    call = caller()
    call.answered()
    for body, kind in [
        ("Signal=7\r\nDuration=160\r\n", "application/dtmf-relay"),
        ("3", "application/dtmf"),
        ("Signal=#\r\n", "application/dtmf-relay"),
    ]:
        call.request("INFO", body=body, content_type=kind)
        call.cseq += 1
        call.expect(200)
    call.answer_bye()
    assert server.recorder.digits[call.call_id][0][:3] == ("number", "73", False)


def test_typing_during_the_prompt_stops_it(tmp_path):
    server = Server(tmp_path, t1=0.05, greeting="long")
    try:
        call = Caller(server.port)
        call.answered()
        wait_until(lambda: len(call.packets) > 10)
        pressed = time.monotonic()
        call.press("5#")
        call.answer_bye()
        got = server.recorder.digits[call.call_id][0]
        assert got[:3] == ("number", "5", False)
        assert got[3] - pressed < 1.0  # not after the 4-second prompt
        assert g711.encode_ulaw(LONG) not in call.audio(0)
        call.close()
    finally:
        server.stop()


def test_no_digits_time_out_and_rtp_from_another_address_is_ignored(server, caller):
    call = caller()
    call.answered()
    intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    intruder.bind(("127.0.0.2", 0))
    try:
        call.press("99#", sock=intruder)
    finally:
        intruder.close()
    call.answer_bye(timeout=6)
    assert server.recorder.digits[call.call_id][0][:3] == ("number", "", True)


def test_caller_hanging_up_mid_prompt_ends_the_call_cleanly(tmp_path):
    server = Server(tmp_path, t1=0.05, greeting="long")
    try:
        call = Caller(server.port)
        call.answered()
        wait_until(lambda: len(call.packets) > 5)
        call.bye()
        server.recorder.wait(lambda: call.call_id in server.recorder.hangups)
        assert not server.endpoint.calls
        # The call is gone: its media stops and a second BYE is unknown.
        time.sleep(0.1)
        count = len(call.packets)
        time.sleep(0.2)
        assert len(call.packets) == count
        call.request("BYE")
        assert call.expect(481).call_id == call.call_id
        call.close()
    finally:
        server.stop()


def test_operator_request_without_a_pbx_to_transfer_to_is_handled_by_the_flow(server, caller):
    call = caller()
    call.answered()
    call.press("0")
    bye = call.answer_bye()
    assert "no operator" in bye.get("reason")  # no REFER was even tried
    assert server.recorder.digits[call.call_id][0][1] == "0"
    assert server.recorder.transfers_failed == [call.call_id]
    # The dialog ended the call itself, so it is not told of a caller's hang-up.
    wait_until(lambda: not server.endpoint.calls)
    assert call.call_id not in server.recorder.hangups


def test_200_is_retransmitted_until_the_ack_and_the_call_ends_without_it(tmp_path):
    server = Server(tmp_path, t1=0.02)
    call = Caller(server.port)
    try:
        _retransmissions_then_bye(server, call)
    finally:
        call.close()
        server.stop()


def _retransmissions_then_bye(server, call):
    assert call.invite().status == 100
    oks = [call.expect(200)]
    oks.append(call.expect(200, timeout=1))  # retransmitted
    assert oks[0].body == oks[1].body
    # The same INVITE again (our retransmission) gets the same 200, not a new call.
    call.request("INVITE", body=call.offer(), content_type="application/sdp")
    assert call.expect(200).body == oks[0].body
    assert len(server.endpoint.calls) == 1
    # 64*T1 (1.28 s here) without an ACK: the robot gives up with a BYE.
    call.to_tag = sip._param(oks[0].get("to"), "tag")
    call.answer_bye(timeout=6)
    wait_until(lambda: not server.endpoint.calls)


def test_cancel_before_the_answer_gets_487(tmp_path):
    server = Server(tmp_path, t1=0.05, answer_delay=2.0)
    try:
        call = Caller(server.port)
        assert call.invite().status == 100
        assert call.expect(180).status == 180
        call.request("CANCEL")
        responses = {call.receive().status, call.receive().status}
        assert responses == {200, 487}
        call.request("ACK")
        wait_until(lambda: not server.endpoint.calls)
        time.sleep(2.2)  # the delayed answer must not come back to life
        assert not server.endpoint.calls
        assert not call.packets
        call.close()
    finally:
        server.stop()


def test_unsupported_codec_gets_488_and_malformed_offer_gets_400(server, caller):
    call = caller()
    assert call.invite("18 101").status == 488
    other = caller()
    other.request("INVITE", body="v=0\r\nnonsense\r\n", content_type="application/sdp")
    assert other.receive().status == 400
    third = caller()
    third.request("INVITE")  # no offer (late offer is not supported)
    assert third.receive().status == 488
    time.sleep(0.1)
    assert not server.endpoint.calls


def test_malformed_messages_are_refused_and_the_endpoint_keeps_working(server, caller):
    call = caller()
    call.sip.sendto(b"\x00\xff garbage \r\n\r\n", call.target)
    call.sip.sendto(b"\r\n\r\n", call.target)  # keep-alive
    # A request with the headers a response needs, but a CSeq for another method.
    port = call.sip.getsockname()[1]
    bad = (
        "INVITE sip:robot@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKx\r\n"
        f"From: <sip:a@b>;tag=1\r\nTo: <sip:robot@127.0.0.1>\r\nCall-ID: bad-1\r\n"
        "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
    )
    call.sip.sendto(bad.encode(), call.target)
    assert call.receive().status == 400
    call.request("OPTIONS")
    options = call.receive()
    assert options.status == 200
    assert "INVITE" in options.get("allow")
    call.request("SUBSCRIBE")
    assert call.receive().status == 405
    call.request("INFO", body="Signal=1", content_type="application/dtmf-relay")
    assert call.receive().status == 481


def test_several_calls_at_once_each_get_their_own_digits(server, caller):
    calls = [caller() for _ in range(5)]
    for call in calls:
        call.answered()
    threads = [
        threading.Thread(target=call.press, args=(f"{index + 1}{index + 1}#",))
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, call in enumerate(calls):
        call.answer_bye()
        assert server.recorder.digits[call.call_id][0][1] == f"{index + 1}{index + 1}"
    wait_until(lambda: not server.endpoint.calls)


def test_a_full_endpoint_answers_503(tmp_path):
    server = Server(tmp_path, t1=0.05, max_calls=1)
    try:
        first, second = Caller(server.port), Caller(server.port)
        first.answered()
        assert second.invite().status == 503
        first.bye()
        first.close()
        second.close()
    finally:
        server.stop()


def test_operator_request_is_a_refer_and_the_robot_leaves_when_the_operator_answers(tmp_path):
    server = Server(tmp_path, t1=0.05, transfer_uri="sip:{queue}@pbx.example")
    call = Caller(server.port)
    try:
        call.answered()
        call.press("0")
        refer = call.wait_request("REFER")
        refer_to = refer.get("refer-to")
        assert refer_to.startswith("<sip:operators@pbx.example?X-Cetatea-Robot-Call=")
        assert call.call_id.replace("@", "%40") in refer_to
        assert sip._param(refer.get("from"), "tag") == call.to_tag  # inside the dialog
        call.reply(refer, 202, "Accepted")
        call.notify("SIP/2.0 100 Trying", state="active;expires=60")
        time.sleep(0.2)
        assert server.endpoint.calls  # still waiting for the operator
        call.notify("SIP/2.0 200 OK")
        bye = call.answer_bye()
        assert "transfer:operators" in bye.get("reason")
        wait_until(lambda: not server.endpoint.calls)
        assert server.recorder.transfers_failed == []
    finally:
        call.close()
        server.stop()


@pytest.mark.parametrize("refused", ["refer", "busy", "silence"])
def test_a_transfer_nobody_takes_goes_back_to_the_flow(tmp_path, refused):
    server = Server(tmp_path, t1=0.02, transfer_uri="sip:operators@pbx", transfer_wait=0.5)
    call = Caller(server.port)
    try:
        call.answered()
        call.press("0")
        refer = call.wait_request("REFER")
        if refused == "refer":
            call.reply(refer, 603, "Decline")
        else:
            call.reply(refer, 202, "Accepted")
            if refused == "busy":
                call.notify("SIP/2.0 486 Busy Here")
        bye = call.answer_bye()
        assert "no operator" in bye.get("reason")  # the flow's own ending
        assert server.recorder.transfers_failed == [call.call_id]
        call.wait_for_audio(BYE)  # the caller heard the flow's words
    finally:
        call.close()
        server.stop()


def test_notify_for_an_unknown_call_gets_481(server, caller):
    call = caller()
    call.to_tag = "nosuch"
    call.notify("SIP/2.0 200 OK")
    assert call.receive().status == 481
