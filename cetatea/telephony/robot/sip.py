"""The robot's own SIP endpoint: an asyncio UDP user agent server with G.711 RTP.

It answers calls routed to it (a PBX or trunk treats it as a SIP peer; there is no
registration), plays the dialog's prompts as paced RTP and reads DTMF as RFC 4733
telephone-events or SIP INFO. One `SipEndpoint` serves many calls at once, keyed by
Call-ID; each call has its own RTP socket, sender clock and dialog runner.

What it handles (RFC 3261 over UDP): INVITE (100, 180, 200 with the SDP answer; the 200
is retransmitted on T1/T2 until the ACK arrives, and the call is ended with a BYE when
it never does), ACK, BYE in both directions, CANCEL before the answer (487), OPTIONS,
INFO; 488 for an offer without G.711, 400 for a malformed request, 481 for an unknown
call, 503 when the endpoint is full. It is meant to sit behind a PBX or SBC, not on the
internet: no authentication, no TCP/TLS, no SRTP, and in-dialog requests it sends go
back to the address the INVITE came from (no Record-Route handling).

The dialog (`engine.Dialog`) is synchronous and may query the database, so its methods
run in worker threads; so does prompt rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from django.db import connections

from cetatea.telephony.robot import g711, sdp
from cetatea.telephony.robot.engine import Collect, Dialog, DigitCollector, Hangup, Say, Transfer

log = logging.getLogger(__name__)

T1, T2 = 0.5, 4.0
FRAME_SECONDS = 0.020
FRAME_SAMPLES = 160  # 20 ms at 8 kHz, one byte per sample in G.711
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"
DTMF_EVENTS = "0123456789*#ABCD"
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
}
CANONICAL = {
    "via": "Via",
    "from": "From",
    "to": "To",
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "contact": "Contact",
    "content-type": "Content-Type",
    "content-length": "Content-Length",
}


class SipParseError(ValueError):
    """A datagram that is not a well-formed SIP message."""

    def __init__(self, message: str, partial: SipMessage | None = None) -> None:
        super().__init__(message)
        self.partial = partial


# --- messages ------------------------------------------------------------------------------


@dataclass
class SipMessage:
    method: str = ""  # a request's method; "" for a response
    uri: str = ""
    status: int = 0  # a response's status code
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, value)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def call_id(self) -> str:
        return self.get("call-id")

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self.get("cseq").partition(" ")
        return int(number), method.strip().upper()


def parse_message(data: bytes) -> SipMessage:
    """Parse one datagram; raises `SipParseError` (with what could be read) if malformed."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    message = SipMessage()
    words = start.split(" ", 2)
    if start.startswith("SIP/2.0 "):
        if len(words) < 2 or not words[1].isdigit() or len(words[1]) != 3:
            raise SipParseError(f"bad status line {start[:60]!r}")
        message.status = int(words[1])
        message.reason = words[2] if len(words) > 2 else ""
    elif len(words) == 3 and words[2] == "SIP/2.0" and words[0].isalpha() and words[1]:
        message.method, message.uri = words[0].upper(), words[1]
    else:
        raise SipParseError(f"bad start line {start[:60]!r}")
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and message.headers:  # folded continuation
            name, value = message.headers[-1]
            message.headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name or " " in name:
            raise SipParseError(f"bad header line {line[:60]!r}", message)
        name = COMPACT.get(name, name)
        if name == "via":  # several Vias may share a line
            message.headers += [("via", v.strip()) for v in value.split(",") if v.strip()]
        else:
            message.headers.append((name, value.strip()))
    if message.is_request:
        for required in ("via", "from", "to", "call-id", "cseq"):
            if not message.get(required):
                raise SipParseError(f"missing {required} header", message)
        try:
            number, method = message.cseq
        except ValueError as exc:
            raise SipParseError("bad CSeq", message) from exc
        if method != message.method or number < 0:
            raise SipParseError("CSeq method does not match the request", message)
    length = message.get("content-length")
    if length:
        if not length.isdigit() or int(length) > len(body):
            raise SipParseError("bad Content-Length", message)
        body = body[: int(length)]
    message.body = body
    return message


def _param(header: str, name: str) -> str | None:
    for part in header.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _uri_of(header: str) -> str:
    """The URI inside a From/To/Contact value (``"A" <sip:a@b>;tag=x`` -> ``sip:a@b``)."""
    if "<" in header:
        return header.split("<", 1)[1].split(">", 1)[0]
    return header.split(";", 1)[0].strip()


def _user_of(header: str) -> str:
    uri = _uri_of(header)
    uri = uri.split(":", 1)[1] if ":" in uri else uri
    return uri.split("@", 1)[0] if "@" in uri else ""


def _branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


# --- RTP -----------------------------------------------------------------------------------


def rtp_packet(*, payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes,
               marker: bool = False) -> bytes:  # fmt: skip
    return (
        struct.pack(
            "!BBHII",
            0x80,
            (0x80 if marker else 0) | payload_type,
            seq & 0xFFFF,
            timestamp & 0xFFFFFFFF,
            ssrc,
        )
        + payload
    )


def parse_rtp(data: bytes) -> tuple[int, bool, int, int, bytes] | None:
    """(payload type, marker, sequence, timestamp, payload), or None if not RTP v2."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    first, second, seq, timestamp, _ssrc = struct.unpack("!BBHII", data[:12])
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack("!H", data[offset + 2 : offset + 4])[0]
    end = len(data)
    if first & 0x20:  # padding
        end -= data[-1]
    if offset > end:
        return None
    return second & 0x7F, bool(second & 0x80), seq, timestamp, data[offset:end]


class TelephoneEvents:
    """RFC 4733 DTMF: one key per event, whatever the number of packets.

    An event is one timestamp; its packets (and the three copies of the end packet) are
    reported once. A caller that replays a recorded key (sipp's pcaps) repeats the same
    timestamp, so a marker bit after an ended event also starts a new one: "00" is two
    keys.
    """

    def __init__(self) -> None:
        self._timestamp: int | None = None
        self._ended = False

    def packet(self, marker: bool, timestamp: int, payload: bytes) -> str | None:
        if len(payload) < 4 or payload[0] >= len(DTMF_EVENTS):
            return None
        end = bool(payload[1] & 0x80)
        new = timestamp != self._timestamp or (marker and self._ended)
        if not new:
            self._ended = self._ended or end
            return None
        self._timestamp, self._ended = timestamp, end
        return DTMF_EVENTS[payload[0]]


class Pacer:
    """One 20 ms clock for every call's sender: one wake-up per frame for all calls.

    Twenty calls with a timer each wake the loop a thousand times a second, and each
    wake-up may wait for the GIL; one clock wakes it fifty times and sends every call's
    frame in the same pass. Ticks are on absolute deadlines from the start, so lateness
    does not accumulate; after a stall of more than 200 ms the clock restarts rather
    than burst. ``max_late`` is the worst lateness seen, in seconds.
    """

    def __init__(self) -> None:
        self.streams: set[RtpStream] = set()
        self.max_late = 0.0
        self._task: asyncio.Task | None = None

    def add(self, stream: RtpStream) -> None:
        self.streams.add(stream)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, stream: RtpStream) -> None:
        self.streams.discard(stream)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while self.streams:
            deadline = start + n * FRAME_SECONDS
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            late = loop.time() - deadline
            if late > 0.2:
                start, n = loop.time(), 0
            late = min(max(late, 0.0), 0.2)
            self.max_late = max(self.max_late, late)
            for stream in list(self.streams):
                stream.max_late = max(stream.max_late, late)
                stream.tick()
            n += 1


class RtpStream(asyncio.DatagramProtocol):
    """One call's media: its frames on the endpoint's 20 ms clock, and a receiver for
    telephone-events.

    The sender always runs (silence between prompts keeps the stream, and its
    timestamps, continuous). ``max_late`` is the worst lateness of the clock while this
    call was on it, in seconds.
    """

    def __init__(self, call: Call, pacer: Pacer | None = None) -> None:
        self.call = call
        self.pacer = pacer or Pacer()
        self.transport: asyncio.DatagramTransport | None = None
        self.frames: deque[bytes] = deque()
        self.done = asyncio.Event()
        self.done.set()
        self.ssrc = secrets.randbits(32)
        self.seq = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.sent = 0
        self.max_late = 0.0
        self.ignored = 0
        self.events = TelephoneEvents()
        self._started = False
        self._first = True
        self._silence = g711.SILENCE[call.media.payload_type] * FRAME_SAMPLES

    def connection_made(self, transport) -> None:
        self.transport = transport

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.pacer.add(self)

    def play(self, pcm: bytes) -> asyncio.Event:
        """Queue ``pcm`` (8 kHz 16-bit) after what is playing; the event is set when sent."""
        encode = g711.CODECS[self.call.media.payload_type][1]
        data = encode(pcm[: len(pcm) - len(pcm) % 2])
        self.frames.extend(data[i : i + FRAME_SAMPLES] for i in range(0, len(data), FRAME_SAMPLES))
        if self.frames:
            self.done.clear()
        return self.done

    def stop_playing(self) -> None:
        self.frames.clear()
        self.done.set()

    def tick(self) -> None:
        """Send this call's next frame (the pacer calls it every 20 ms)."""
        if self.frames:
            payload = self.frames.popleft()
            if len(payload) < FRAME_SAMPLES:
                payload += self._silence[: FRAME_SAMPLES - len(payload)]
            if not self.frames:
                self.done.set()
        else:
            payload = self._silence
        self._send(payload, marker=self._first)
        self._first = False

    def _send(self, payload: bytes, *, marker: bool) -> None:
        media = self.call.media
        if self.transport is None or self.transport.is_closing():
            return
        packet = rtp_packet(
            payload_type=media.payload_type,
            seq=self.seq,
            timestamp=self.timestamp,
            ssrc=self.ssrc,
            payload=payload,
            marker=marker,
        )
        self.transport.sendto(packet, (media.address, media.port))
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        self.sent += 1

    def datagram_received(self, data: bytes, addr) -> None:
        # Only the caller's media address may press keys (the port may differ: callers
        # often send from another socket than the one they receive on).
        if addr[0] != self.call.media.address:
            self.ignored += 1
            return
        parsed = parse_rtp(data)
        if parsed is None:
            return
        payload_type, marker, _seq, timestamp, payload = parsed
        if payload_type != self.call.media.dtmf_payload_type:
            return
        key = self.events.packet(marker, timestamp, payload)
        if key is not None:
            self.call.key(key)

    def close(self) -> None:
        self.pacer.remove(self)
        self.done.set()
        if self.transport is not None:
            self.transport.close()


# --- calls ---------------------------------------------------------------------------------

WORKER_NICE = 10
_worker = threading.local()


def _yield_to_loop() -> None:
    """Run this worker thread below the event loop's priority (once per thread).

    The dialog's steps (database, PIN hashing) and prompt rendering run in worker
    threads; when 20 calls check their PINs at once they fill both cores, and the loop
    that sends every call's 20 ms frames must still get the CPU on time. On Linux a
    thread has its own nice value (espeak-ng and sox inherit it); elsewhere nothing.
    """
    if getattr(_worker, "niced", False) or sys.platform != "linux":
        return
    _worker.niced = True
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)


class Call:
    """One call: its SIP dialog state, media and the runner that drives the Dialog."""

    def __init__(self, endpoint: SipEndpoint, invite: SipMessage, addr, media: sdp.Media):
        self.endpoint = endpoint
        self.invite = invite
        self.addr = addr
        self.media = media
        self.call_id = invite.call_id
        self.local_tag = secrets.token_hex(6)
        self.state = "ringing"  # -> answered (200 sent) -> confirmed (ACK) -> ended
        self.final_response: bytes | None = None
        self.rtp: RtpStream | None = None
        self.collector = DigitCollector()
        self.key_arrived = asyncio.Event()
        self.dialog: Dialog | None = None
        self.tasks: list[asyncio.Task] = []
        self.local_cseq = 1 + secrets.randbelow(10000)
        self.ended = asyncio.Event()
        self.end_reason = ""
        # The dialog's methods run in worker threads, one at a time: a hang-up arriving
        # while digits are being handled waits for them.
        self._dialog_lock = threading.Lock()
        self.hung_up = False
        self.refer_outcome: asyncio.Future | None = None

    async def in_dialog(self, method: str, *args, final: bool = False, **kwargs):
        """Call a Dialog method in a worker thread (it may use the database).

        The dialog is made on first use, in the thread too (a flow may read the
        database when it starts). Once the call has ended only the ``final`` call (the
        hang-up) still runs, after whatever was running, so a caller who hangs up while
        the robot is busy is still logged, and nothing starts after it.
        """

        def locked():
            _yield_to_loop()
            with self._dialog_lock:
                if self.hung_up and not final:
                    return []
                try:
                    if self.dialog is None:
                        if final:
                            return None
                        self.dialog = self.endpoint.dialog_factory(
                            caller=_user_of(self.invite.get("from")),
                            called=_user_of(self.invite.get("to")),
                            call_id=self.call_id,
                            channel="sip",
                        )
                    return getattr(self.dialog, method)(*args, **kwargs)
                finally:
                    # Worker threads come and go with the executor: a connection left
                    # open in one would outlive it (and block dropping a test database).
                    connections.close_all()

        return await asyncio.to_thread(locked)

    # keys from RTP or INFO
    def key(self, key: str) -> None:
        if self.state != "confirmed":
            return
        self.collector.feed(key, asyncio.get_running_loop().time())
        self.key_arrived.set()
        if self.rtp is not None and self.collector.pending() and self._bargein:
            self.rtp.stop_playing()

    _bargein = False

    async def run(self) -> None:
        """Run the dialog's actions until it hangs up, transfers or the caller leaves."""
        loop = asyncio.get_running_loop()
        assert self.rtp is not None
        actions = list(await self.in_dialog("start"))
        while actions and self.state == "confirmed":
            action = actions.pop(0)
            if isinstance(action, Say):
                await self._say(action)
            elif isinstance(action, Collect):
                self.collector.start(action, loop.time())
                while True:
                    self.key_arrived.clear()
                    result = self.collector.poll(loop.time())
                    if result is not None:
                        break
                    deadline = self.collector.deadline() or loop.time()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.key_arrived.wait(), max(0.0, deadline - loop.time())
                        )
                    if self.state != "confirmed":
                        return
                actions += await self.in_dialog(
                    "digits", result.name, result.value, timed_out=result.timed_out
                )
            elif isinstance(action, Transfer):
                if await self.endpoint.transfer(self, action.queue):
                    await self.endpoint.hang_up(self, f"transfer:{action.queue}")
                    return
                if self.state != "confirmed":
                    return  # the caller hung up while waiting
                # No operator took the call (or no PBX to transfer to): the flow says so
                # (a phone number to call) and the call stays a robot call.
                actions = list(await self.in_dialog("transfer_failed"))
                if not actions:
                    await self.endpoint.hang_up(self, f"transfer:{action.queue}")
                    return
            elif isinstance(action, Hangup):
                await self.endpoint.hang_up(self, action.reason)
                return
        if self.state == "confirmed":  # the flow said nothing more: end politely
            await self.endpoint.hang_up(self, "flow ended")

    async def _say(self, say: Say) -> None:
        """Play the parts in order; the next part renders while the current one plays."""
        assert self.dialog is not None and self.rtp is not None
        self._bargein = say.bargein
        parts = say.parts
        upcoming: asyncio.Future | None = None
        try:
            for index, part in enumerate(parts):
                if say.bargein and self.collector.pending():
                    return
                pcm = await (upcoming if upcoming is not None else self._render(part))
                upcoming = None
                if say.bargein and self.collector.pending():
                    return
                if index + 1 < len(parts):
                    upcoming = asyncio.ensure_future(self._render(parts[index + 1]))
                await self.rtp.play(pcm).wait()
                if self.state != "confirmed":
                    return
        finally:
            self._bargein = False
            if upcoming is not None:
                upcoming.cancel()  # the worker finishes and its audio is cached for next time

    async def _render(self, part: str) -> bytes:
        """A part's audio: straight from memory when rendered before (most prompts, on
        the loop: no thread hop), else rendered or read in a worker thread."""
        assert self.dialog is not None
        dialog = self.dialog
        pcm = self.endpoint.audio.in_memory(
            part, language=dialog.language, text=lambda: dialog.prompt_text(part)
        )
        if pcm is not None:
            return pcm
        return await asyncio.to_thread(self._audio, part)

    def _audio(self, part: str) -> bytes:
        _yield_to_loop()
        assert self.dialog is not None
        dialog = self.dialog
        try:
            return self.endpoint.audio.part(
                part, language=dialog.language, text=lambda: dialog.prompt_text(part)
            )
        except Exception:
            # A prompt that cannot be rendered must not drop the call: a moment of
            # silence stands in for it, and the error is in the log.
            log.exception("robot call %s: no audio for prompt %r", self.call_id, part)
            return b"\x00\x00" * 4000


# --- the endpoint --------------------------------------------------------------------------


class SipEndpoint(asyncio.DatagramProtocol):
    """The SIP UAS. ``dialog_factory(caller=, called=, call_id=, channel=)`` makes a Dialog."""

    def __init__(
        self,
        *,
        audio,
        dialog_factory: Callable[..., Dialog] = Dialog,
        advertise: str = "127.0.0.1",
        rtp_host: str = "127.0.0.1",
        max_calls: int = 100,
        answer_delay: float = 0.0,
        t1: float = T1,
        max_call_seconds: float = 900.0,
        transfer_uri: str = "",
        transfer_wait: float = 30.0,
    ) -> None:
        self.audio = audio
        self.transfer_uri = transfer_uri
        self.transfer_wait = transfer_wait
        self._requests: dict[tuple[str, int], asyncio.Future] = {}
        self.pacer = Pacer()
        self.dialog_factory = dialog_factory
        self.advertise = advertise
        self.rtp_host = rtp_host
        self.max_calls = max_calls
        self.answer_delay = answer_delay
        self.t1 = t1
        self.max_call_seconds = max_call_seconds
        self.calls: dict[str, Call] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self._pending_byes: dict[str, tuple[asyncio.Task, Call]] = {}

    @classmethod
    async def start(cls, host: str, port: int, **kwargs) -> SipEndpoint:
        loop = asyncio.get_running_loop()
        kwargs.setdefault("rtp_host", host)  # RTP on the same interface as SIP
        if not kwargs.get("advertise"):
            wildcard = host in ("", "0.0.0.0")  # noqa: S104 - only compared, never bound here
            kwargs["advertise"] = socket.gethostbyname(socket.gethostname()) if wildcard else host
        _transport, endpoint = await loop.create_datagram_endpoint(
            lambda: cls(**kwargs), local_addr=(host, port)
        )
        return endpoint

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    async def close(self) -> None:
        for call in list(self.calls.values()):
            if call.state in ("answered", "confirmed"):
                await self.hang_up(call, "shutdown")
            self._end(call, "shutdown")
        self.pacer.close()
        if self.transport is not None:
            self.transport.close()

    # --- receiving ---------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr) -> None:
        if not data.strip():
            return  # keep-alive CRLFs
        try:
            message = parse_message(data)
        except SipParseError as exc:
            self._bad_request(exc, addr)
            return
        try:
            if message.is_request:
                self._request(message, addr)
            else:
                self._response(message)
        except Exception:
            # Never let one bad message take the endpoint down.
            log.exception("robot SIP: error handling a message from %s", addr)
            if message.is_request and message.method != "ACK":
                self._reply(message, addr, 500, "Server Internal Error")

    def _bad_request(self, exc: SipParseError, addr) -> None:
        partial = exc.partial
        log.info("robot SIP: malformed message from %s: %s", addr, exc)
        if partial is None or not partial.is_request or partial.method == "ACK":
            return
        if all(partial.get(h) for h in ("via", "from", "to", "call-id")):
            self._reply(partial, addr, 400, "Bad Request", cseq_fallback=True)

    def _request(self, message: SipMessage, addr) -> None:
        handler = {
            "INVITE": self._invite,
            "ACK": self._ack,
            "BYE": self._bye,
            "CANCEL": self._cancel,
            "OPTIONS": self._options,
            "INFO": self._info,
            "NOTIFY": self._notify,
        }.get(message.method)
        if handler is None:
            self._reply(message, addr, 405, "Method Not Allowed", extra=[("Allow", ALLOW)])
            return
        handler(message, addr)

    def _invite(self, message: SipMessage, addr) -> None:
        call = self.calls.get(message.call_id)
        if call is not None:
            if call.final_response is not None and message.cseq == call.invite.cseq:
                self._send(call.final_response, addr)  # a retransmitted INVITE
            elif call.state == "ringing" and message.cseq == call.invite.cseq:
                self._reply(message, addr, 180, "Ringing", to_tag=call.local_tag)
            else:
                # A re-INVITE (hold, codec change) is not supported; the call goes on.
                self._reply(message, addr, 488, "Not Acceptable Here", to_tag=call.local_tag)
            return
        if _param(message.get("to"), "tag") is not None:
            self._reply(message, addr, 481, "Call/Transaction Does Not Exist")
            return
        if len(self.calls) >= self.max_calls:
            self._reply(message, addr, 503, "Service Unavailable", extra=[("Retry-After", "30")])
            return
        content_type = message.get("content-type").split(";")[0].strip().lower()
        if not message.body or content_type != "application/sdp":
            self._reply(message, addr, 488, "Not Acceptable Here")  # no late offer
            return
        try:
            media = sdp.negotiate(sdp.parse(message.body.decode("utf-8", "replace")))
        except sdp.NoCommonCodec as exc:
            self._reply(
                message,
                addr,
                488,
                "Not Acceptable Here",
                extra=[("Warning", f'399 cetatea "{exc}"')],
            )
            return
        except sdp.SdpError as exc:
            self._reply(
                message, addr, 400, "Bad Request", extra=[("Warning", f'399 cetatea "{exc}"')]
            )
            return
        call = Call(self, message, addr, media)
        self.calls[call.call_id] = call
        self._reply(message, addr, 100, "Trying")
        self._reply(message, addr, 180, "Ringing", to_tag=call.local_tag)
        call.tasks.append(asyncio.get_running_loop().create_task(self._answer(call)))

    async def _answer(self, call: Call) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            if call.state != "ringing":
                return
            _transport, rtp = await loop.create_datagram_endpoint(
                lambda: RtpStream(call, self.pacer), local_addr=(self.rtp_host, 0)
            )
            call.rtp = rtp
            body = sdp.answer(
                address=self.advertise,
                port=rtp.port,
                media=call.media,
                session_id=1 + secrets.randbelow(2**31),
            )
            call.final_response = self._reply(
                call.invite,
                call.addr,
                200,
                "OK",
                to_tag=call.local_tag,
                body=body.encode(),
                extra=[("Contact", self._contact()), ("Allow", ALLOW)],
                content_type="application/sdp",
            )
            call.state = "answered"
            # Retransmit the 200 (T1, doubling to T2) until the ACK; give up after 64*T1.
            give_up = loop.time() + 64 * self.t1
            interval = self.t1
            while call.state == "answered" and loop.time() < give_up:
                await asyncio.sleep(min(interval, max(0.0, give_up - loop.time())))
                if call.state == "answered" and loop.time() < give_up:
                    self._send(call.final_response, call.addr)
                interval = min(interval * 2, T2)
            if call.state == "answered":
                log.info("robot call %s: no ACK, ending the call", call.call_id)
                await self.hang_up(call, "no ACK")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("robot call %s: answering failed", call.call_id)
            self._end(call, "error")

    def _ack(self, message: SipMessage, addr) -> None:
        call = self.calls.get(message.call_id)
        if call is None or call.state != "answered":
            return  # an ACK for a 487 or a retransmission: nothing to do
        call.state = "confirmed"
        assert call.rtp is not None
        call.rtp.start()
        loop = asyncio.get_running_loop()
        call.tasks.append(loop.create_task(self._run(call)))

    async def _run(self, call: Call) -> None:
        try:
            await asyncio.wait_for(call.run(), self.max_call_seconds)
        except TimeoutError:
            await self.hang_up(call, "too long")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("robot call %s: the dialog failed", call.call_id)
            await self.hang_up(call, "error")

    def _bye(self, message: SipMessage, addr) -> None:
        call = self.calls.get(message.call_id)
        if call is None:
            self._reply(message, addr, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(message, addr, 200, "OK", to_tag=call.local_tag)
        self._end(call, "caller hung up")

    def _cancel(self, message: SipMessage, addr) -> None:
        call = self.calls.get(message.call_id)
        if call is None:
            self._reply(message, addr, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(message, addr, 200, "OK", to_tag=call.local_tag)
        if call.state == "ringing":
            self._reply(call.invite, call.addr, 487, "Request Terminated", to_tag=call.local_tag)
            self._end(call, "cancelled")
        # After the 200 OK a CANCEL has no effect (RFC 3261 9.2); the caller sends BYE.

    def _options(self, message: SipMessage, addr) -> None:
        self._reply(
            message,
            addr,
            200,
            "OK",
            extra=[("Allow", ALLOW), ("Accept", "application/sdp, application/dtmf-relay")],
        )

    def _info(self, message: SipMessage, addr) -> None:
        call = self.calls.get(message.call_id)
        if call is None:
            self._reply(message, addr, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(message, addr, 200, "OK", to_tag=call.local_tag)
        content_type = message.get("content-type").split(";")[0].strip().lower()
        text = message.body.decode("utf-8", "replace")
        key = None
        if content_type == "application/dtmf-relay":
            for line in text.splitlines():
                name, _, value = line.partition("=")
                if name.strip().lower() == "signal":
                    key = value.strip()
        elif content_type == "application/dtmf":
            key = text.strip()
        if key == "10":
            key = "*"
        elif key == "11":
            key = "#"
        if key and len(key) == 1 and key.upper() in DTMF_EVENTS:
            call.key(key.upper())

    def _notify(self, message: SipMessage, addr) -> None:
        """The progress of a REFER: a message/sipfrag body with the referred call's status."""
        call = self.calls.get(message.call_id)
        if call is None:
            self._reply(message, addr, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(message, addr, 200, "OK", to_tag=call.local_tag)
        if message.get("event").split(";")[0].strip().lower() != "refer":
            return
        status_line = message.body.decode("utf-8", "replace").strip().split("\r\n")[0]
        parts = status_line.split()
        status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
        terminated = message.get("subscription-state").lower().startswith("terminated")
        outcome = call.refer_outcome
        if outcome is not None and not outcome.done() and (status >= 200 or terminated):
            outcome.set_result(status if status >= 200 else 487)

    def _response(self, message: SipMessage) -> None:
        # BYEs: any final response ends their retries. REFERs: the final status is awaited.
        try:
            cseq, _method = message.cseq
        except ValueError:
            return
        waiting = self._requests.get((message.call_id, cseq))
        if waiting is not None:
            if message.status >= 200 and not waiting.done():
                waiting.set_result(message.status)
            return
        pending = self._pending_byes.pop(message.call_id, None)
        if pending is not None and message.status >= 200:
            pending[0].cancel()

    # --- sending -------------------------------------------------------------------------

    async def hang_up(self, call: Call, reason: str) -> None:
        """The robot ends the call: BYE (retransmitted until answered), then clean up."""
        if call.state not in ("answered", "confirmed"):
            self._end(call, reason)
            return
        if call.rtp is not None:
            await asyncio.sleep(0.1)  # let the last frames leave before the BYE
            if self.calls.get(call.call_id) is not call:
                return  # the caller hung up meanwhile
        call.state = "ending"
        quoted_reason = reason.replace('"', "")
        data, _cseq = self._dialog_request(
            call, "BYE", [("Reason", f'Q.850;cause=16;text="{quoted_reason}"')]
        )
        self._end(call, reason)
        task = asyncio.get_running_loop().create_task(self._retransmit(data, call.addr))
        self._pending_byes[call.call_id] = (task, call)
        task.add_done_callback(lambda _t: self._pending_byes.pop(call.call_id, None))

    def _dialog_request(
        self,
        call: Call,
        method: str,
        extra: list[tuple[str, str]],
        *,
        body: bytes = b"",
        content_type: str = "",
    ) -> tuple[bytes, int]:
        """A request inside the call's dialog (we are the UAS: From and To swap)."""
        call.local_cseq += 1
        invite = call.invite
        target = _uri_of(invite.get("contact")) or _uri_of(invite.get("from"))
        to_value = invite.get("from")
        from_value = invite.get("to")
        if _param(from_value, "tag") is None:
            from_value = f"{from_value};tag={call.local_tag}"
        lines = [
            f"{method} {target} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.advertise}:{self.port};branch={_branch()};rport",
            "Max-Forwards: 70",
            f"From: {from_value}",
            f"To: {to_value}",
            f"Call-ID: {call.call_id}",
            f"CSeq: {call.local_cseq} {method}",
        ]
        lines += [f"{name}: {value}" for name, value in extra]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body, call.local_cseq

    async def transfer(self, call: Call, queue: str) -> bool:
        """Hand the caller to the operators with a REFER (RFC 3515); True when it worked.

        The Refer-To URI is ``transfer_uri`` (``{queue}`` replaced) with the robot's call id
        as an ``X-Cetatea-Robot-Call`` header, which the PBX may pass on to the CTI
        ``newCall`` (``robotCallId``) so the operator's screen opens the caller's record.
        The transfer worked when the PBX accepts the REFER (2xx) and then reports, in a
        NOTIFY, a 2xx for the call it placed; any refusal, failure or silence is False
        and the call stays with the robot.
        """
        if not self.transfer_uri or call.state != "confirmed":
            return False
        uri = self.transfer_uri.replace("{queue}", queue)
        header = "X-Cetatea-Robot-Call=" + quote(call.call_id, safe="")
        refer_to = f"<{uri}{'&' if '?' in uri else '?'}{header}>"
        loop = asyncio.get_running_loop()
        call.refer_outcome = loop.create_future()
        data, cseq = self._dialog_request(
            call,
            "REFER",
            [
                ("Refer-To", refer_to),
                ("Referred-By", self._contact()),
                ("Contact", self._contact()),
            ],
        )
        answer = loop.create_future()
        self._requests[(call.call_id, cseq)] = answer
        retransmit = loop.create_task(self._retransmit(data, call.addr))
        try:
            status = await asyncio.wait_for(answer, 64 * self.t1)
        except TimeoutError:
            status = 408
        finally:
            retransmit.cancel()
            self._requests.pop((call.call_id, cseq), None)
        if not 200 <= status < 300:
            log.info("robot call %s: REFER refused (%s)", call.call_id, status)
            return False
        try:
            final = await asyncio.wait_for(call.refer_outcome, self.transfer_wait)
        except TimeoutError:
            final = 408
        log.info("robot call %s: transfer to %s ended with %s", call.call_id, queue, final)
        return 200 <= final < 300

    async def _retransmit(self, data: bytes, addr) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 64 * self.t1
        interval = self.t1
        while loop.time() < give_up:
            self._send(data, addr)
            await asyncio.sleep(min(interval, max(0.0, give_up - loop.time())))
            interval = min(interval * 2, T2)

    def _end(self, call: Call, reason: str) -> None:
        if self.calls.get(call.call_id) is not call:
            return
        del self.calls[call.call_id]
        if call.state != "ending":
            call.state = "ended"
        call.end_reason = reason
        call.key_arrived.set()
        if call.rtp is not None:
            call.rtp.close()
        current = asyncio.current_task()
        for task in call.tasks:
            if task is not current:
                task.cancel()
        call.hung_up = True
        if call.state != "ringing" and call.rtp is not None:
            # The dialog logs the call (an Interaction); a no-op if it ended the call.
            asyncio.get_running_loop().create_task(self._dialog_hangup(call))
        else:
            call.ended.set()
        log.info(
            "robot call %s ended: %s (worst RTP lateness %.1f ms)",
            call.call_id,
            reason,
            1000 * call.rtp.max_late if call.rtp is not None else 0.0,
        )

    async def _dialog_hangup(self, call: Call) -> None:
        try:
            await call.in_dialog("hangup", final=True)
        except Exception:
            log.exception("robot call %s: logging the hang-up failed", call.call_id)
        finally:
            call.ended.set()

    def _contact(self) -> str:
        return f"<sip:robot@{self.advertise}:{self.port}>"

    def _reply(
        self,
        request: SipMessage,
        addr,
        status: int,
        reason: str,
        *,
        to_tag: str | None = None,
        body: bytes = b"",
        extra: list[tuple[str, str]] | None = None,
        content_type: str = "",
        cseq_fallback: bool = False,
    ) -> bytes:
        lines = [f"SIP/2.0 {status} {reason}"]
        for index, via in enumerate(request.get_all("via")):
            if index == 0:
                via = _fill_via(via, addr)
            lines.append(f"Via: {via}")
        to_value = request.get("to")
        if to_tag and status > 100 and _param(to_value, "tag") is None:
            to_value = f"{to_value};tag={to_tag}"
        cseq = request.get("cseq")
        if cseq_fallback:
            try:
                request.cseq  # noqa: B018 - validates
            except ValueError:
                cseq = f"1 {request.method}"
        lines += [
            f"From: {request.get('from')}",
            f"To: {to_value}",
            f"Call-ID: {request.call_id}",
            f"CSeq: {cseq}",
            "Server: Cetatea robot",
        ]
        lines += [f"{name}: {value}" for name, value in extra or []]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self._send(data, addr)
        return data

    def _send(self, data: bytes, addr) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)


def _fill_via(via: str, addr) -> str:
    """RFC 3261 18.2.1 / RFC 3581: note where the request really came from."""
    params = via.split(";")
    out = [params[0]]
    sent_by = params[0].split()[-1] if params[0].split() else ""
    host = sent_by.rsplit(":", 1)[0] if sent_by.count(":") == 1 else sent_by
    has_received = False
    for param in params[1:]:
        key = param.split("=", 1)[0].strip().lower()
        if key == "rport":
            out.append(f"rport={addr[1]}")
        else:
            out.append(param)
            has_received = has_received or key == "received"
    if not has_received and (host != addr[0] or any(p.strip() == "rport" for p in params[1:])):
        out.append(f"received={addr[0]}")
    return ";".join(out)
