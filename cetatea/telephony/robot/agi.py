"""The robot behind Asterisk: a FastAGI server (AGI over TCP, ``agi://host:4573/robot``).

Asterisk's dialplan hands a call to the robot with ``AGI(agi://127.0.0.1:4573/robot)``:
Asterisk connects, sends the call's ``agi_*: value`` lines and a blank line, then
answers each command the robot writes with one reply line (``200 result=<n> [(data)]
[endpos=<n>]``). The robot drives the same `engine.Dialog` as the SIP endpoint does,
with the same `DigitCollector`, so the digit rules are the engine's:

- a `Say` part is rendered by `PromptAudio.part_file` into the shared prompt directory
  and played with ``STREAM FILE <path without .sln> "0123456789*#"``; a key that
  interrupts it is type-ahead for the next `Collect` and, with barge-in, stops the
  parts still to come;
- a `Collect` asks ``WAIT FOR DIGIT <ms>`` until the collector's deadline, one key at a
  time (``result`` is the key's ASCII code, 0 when the time ran out);
- a `Transfer` sets ``CETATEA_PERSON`` and ``CETATEA_ROBOT_CALL`` and runs the
  application of ``CETATEA_ROBOT_AGI_TRANSFER`` (``EXEC Queue operators``);
- a `Hangup` is ``HANGUP``.

The caller hanging up shows as a ``HANGUP`` line Asterisk sends on its own, a 511 (dead
channel), ``result=-1`` or the connection closing; so does a command Asterisk refuses
(510, 520): the dialog is told once (the call is logged) and the connection closed.
Between commands Asterisk reads and drops the caller's keys, a limit of AGI itself: a
key typed while the robot is thinking (a database look-up) is lost.

docs/phone-robot-agi.md has the dialplan and the deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

from cetatea.telephony.robot.engine import (
    Collect,
    Collected,
    Dialog,
    DigitCollector,
    Hangup,
    Say,
    Transfer,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 4573
LINE_LIMIT = 8192  # bytes in one line from Asterisk; a longer one ends the connection
MAX_HEADER_LINES = 200  # Asterisk sends about 25 (more with AGI arguments)
MAX_USAGE_LINES = 200  # a 520 reply lists the command's usage over several lines
ESCAPE_DIGITS = "0123456789*#"
UNKNOWN = {"", "unknown"}  # how Asterisk writes an absent caller id or DNID


class ChannelGone(Exception):
    """The caller hung up, or Asterisk refused a command: the call is over for the robot."""


class AgiProtocolError(Exception):
    """What came over the connection is not FastAGI."""


@dataclass(frozen=True)
class Reply:
    """One command's answer: ``200 result=49 (timeout) endpos=1234``."""

    code: int
    result: int
    data: str = ""
    endpos: int | None = None


_REPLY = re.compile(r"^200 result=(-?\d+)(?: \((.*)\))?(?: endpos=(\d+))?\s*$")


def parse_reply(line: str) -> Reply:
    """Parse a ``200`` reply line; `AgiProtocolError` for anything else."""
    match = _REPLY.match(line)
    if match is None:
        raise AgiProtocolError(f"unexpected reply {line[:80]!r}")
    endpos = match.group(3)
    return Reply(200, int(match.group(1)), match.group(2) or "", int(endpos) if endpos else None)


def quote(value: str) -> str:
    """An AGI command argument: double quotes, with ``\\`` and ``"`` escaped."""
    value = value.replace("\r", " ").replace("\n", " ")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def read_environment(reader: asyncio.StreamReader) -> dict[str, str]:
    """The ``agi_name: value`` lines Asterisk sends first, up to the blank line."""
    environment: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()  # ValueError past LINE_LIMIT
        if not raw:
            raise AgiProtocolError("connection closed before the end of the AGI environment")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if "agi_network_script" not in environment:
                raise AgiProtocolError("no agi_network_script in the AGI environment")
            return environment
        name, colon, value = line.partition(":")
        if not colon or not name.startswith("agi_") or not name[4:].replace("_", "").isalnum():
            raise AgiProtocolError(f"not an AGI environment line: {line[:80]!r}")
        environment[name] = value.strip()
    raise AgiProtocolError("too many AGI environment lines")


def script_name(environment: Mapping[str, str]) -> str:
    """``robot`` for ``agi://host:4573/robot`` (and ``/robot/``, ``/robot?lang=ro``)."""
    return environment.get("agi_network_script", "").split("?", 1)[0].strip("/")


def transfer_command(setting: str, queue: str) -> tuple[str, str]:
    """(application, arguments) of ``CETATEA_ROBOT_AGI_TRANSFER`` for ``queue``."""
    application, _, arguments = setting.replace("{queue}", queue).partition(",")
    return application.strip(), arguments.strip()


class AgiCall:
    """One FastAGI connection: one call, driven from its environment to the end."""

    def __init__(
        self,
        server: AgiServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        environment: dict[str, str],
        dialog_factory: Callable[..., Dialog],
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.environment = environment
        self.dialog_factory = dialog_factory
        self.call_id = environment.get("agi_uniqueid") or f"agi-{secrets.token_hex(8)}"
        caller = environment.get("agi_callerid", "")
        self.caller = "" if caller.lower() in UNKNOWN else caller
        called = environment.get("agi_dnid", "")
        if called.lower() in UNKNOWN:
            called = environment.get("agi_extension", "")
        self.called = called
        self.collector = DigitCollector()
        self.dialog: Dialog | None = None
        self.gone = False
        self.sent: list[str] = []  # the commands, in order (tests and the debug log)
        self._dialog_lock = threading.Lock()
        self._hung_up = False

    # --- the dialog, in worker threads ------------------------------------------------

    async def in_dialog(self, method: str, *args, final: bool = False, **kwargs):
        """Call a Dialog method in a worker thread, as `sip.Call.in_dialog` does: one at a
        time, the dialog made on first use, nothing but the ``final`` hang-up after it."""

        def locked():
            with self._dialog_lock:
                if self._hung_up and not final:
                    return []
                try:
                    if final:
                        self._hung_up = True
                    if self.dialog is None:
                        if final:
                            return None
                        self.dialog = self.dialog_factory(
                            caller=self.caller,
                            called=self.called,
                            call_id=self.call_id,
                            channel="agi",
                        )
                    return getattr(self.dialog, method)(*args, **kwargs)
                finally:
                    connections.close_all()

        return await asyncio.to_thread(locked)

    async def end_dialog(self) -> None:
        """Tell the dialog the call is over (it logs the call); a no-op the second time
        and when the flow ended the call itself."""
        if self._hung_up:
            return
        try:
            await self.in_dialog("hangup", final=True)
        except Exception:
            log.exception("robot AGI call %s: logging the hang-up failed", self.call_id)

    # --- commands ---------------------------------------------------------------------

    async def command(
        self, text: str, *, timeout: float | None = None, unlimited: bool = False
    ) -> Reply:
        """Send one AGI command and read its reply; `ChannelGone` when the call is over.

        The reply is awaited ``timeout`` seconds (default: the server's
        ``reply_timeout``; ``unlimited``: as long as it takes)."""
        if self.gone:
            raise ChannelGone("already gone")
        self.sent.append(text)
        log.debug("robot AGI call %s > %s", self.call_id, text)
        try:
            self.writer.write(text.encode() + b"\n")
            await self.writer.drain()
            if unlimited:
                line = await self._line()
            else:
                line = await asyncio.wait_for(
                    self._line(), self.server.reply_timeout if timeout is None else timeout
                )
            if line.startswith("520-"):  # the usage of a command we got wrong, then "520 ..."
                for _ in range(MAX_USAGE_LINES):
                    if (await self._line()).startswith("520 "):
                        break
                log.error("robot AGI call %s: %r refused (520 usage)", self.call_id, text)
                raise ChannelGone("520")
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise ChannelGone(str(exc) or "connection lost") from exc
        except TimeoutError as exc:  # not the call's own time limit: a silent Asterisk
            raise AgiProtocolError(f"no reply to {text!r} in time") from exc
        except ValueError as exc:  # a line over LINE_LIMIT
            raise AgiProtocolError(f"reply to {text!r}: {exc}") from exc
        if line[:3] in ("510", "511", "520"):
            log.info("robot AGI call %s: %r answered %r", self.call_id, text, line[:80])
            raise ChannelGone(line[:3])
        reply = parse_reply(line)
        if reply.result == -1:
            raise ChannelGone("result=-1")
        return reply

    async def _line(self) -> str:
        raw = await self.reader.readline()
        if not raw:
            self.gone = True
            raise ChannelGone("connection closed")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        log.debug("robot AGI call %s < %s", self.call_id, line)
        if line.strip() == "HANGUP":  # AGISIGHUP: Asterisk says the channel hung up
            self.gone = True
            raise ChannelGone("HANGUP")
        return line

    # --- running the dialog -----------------------------------------------------------

    async def run(self, actions: list | None = None) -> Transfer | None:
        """Run the dialog's actions (from the start: answer first); the `Transfer` asked
        for, if any."""
        if actions is None:
            await self.command("ANSWER")
            actions = list(await self.in_dialog("start"))
        while actions:
            action = actions.pop(0)
            if isinstance(action, Say):
                await self._say(action)
            elif isinstance(action, Collect):
                result = await self._collect(action)
                actions += await self.in_dialog(
                    "digits", result.name, result.value, timed_out=result.timed_out
                )
            elif isinstance(action, Transfer):
                return action
            elif isinstance(action, Hangup):
                await self.command("HANGUP")
                return None
        await self.command("HANGUP")  # the flow said nothing more: end politely
        return None

    async def _say(self, say: Say) -> None:
        escape = ESCAPE_DIGITS if say.bargein else ""
        for part in say.parts:
            if say.bargein and self.collector.pending():
                return  # type-ahead: the caller knows what to type
            path = await asyncio.to_thread(self._audio_file, part)
            if path is None:
                continue
            reply = await self.command(f"STREAM FILE {quote(path)} {quote(escape)}")
            if reply.result > 0:
                self._key(reply.result)

    def _audio_file(self, part: str) -> str | None:
        """The part's file for STREAM FILE: absolute, without the extension."""
        dialog = self.dialog
        assert dialog is not None
        try:
            path = self.server.audio.part_file(
                part, language=dialog.language, text=lambda: dialog.prompt_text(part)
            )
        except Exception:
            # A prompt that cannot be rendered must not drop the call: it is skipped
            # and the error is in the log.
            log.exception("robot AGI call %s: no audio for prompt %r", self.call_id, part)
            return None
        path = Path(path).absolute()
        return str(path.with_suffix(""))

    async def _collect(self, collect: Collect) -> Collected:
        loop = asyncio.get_running_loop()
        self.collector.start(collect, loop.time())
        now = loop.time()
        while True:
            result = self.collector.poll(now)
            if result is not None:
                return result
            deadline = self.collector.deadline()
            assert deadline is not None
            milliseconds = max(1, math.ceil((deadline - now) * 1000))
            reply = await self.command(f"WAIT FOR DIGIT {milliseconds}")
            if reply.result == 0:
                # Asterisk waited the whole time: on its clock the deadline has passed.
                now = max(loop.time(), deadline)
            else:
                self._key(reply.result)
                now = loop.time()

    def _key(self, code: int) -> None:
        if 0 < code < 128:
            self.collector.feed(chr(code), asyncio.get_running_loop().time())

    async def transfer(self, action: Transfer) -> bool:
        """Hand the caller to the operators: the variables, then the application.

        True when the caller reached someone (or the outcome is unknown); False when the
        application came back saying nobody answered, and the call is still the robot's.
        """
        person = "" if action.person_id is None else str(action.person_id)
        await self.command(f"SET VARIABLE CETATEA_PERSON {quote(person)}")
        await self.command(f"SET VARIABLE CETATEA_ROBOT_CALL {quote(self.call_id)}")
        application, arguments = transfer_command(self.server.transfer, action.queue)
        log.info("robot AGI call %s: transfer with %s(%s)", self.call_id, application, arguments)
        # The application runs as long as the caller waits and talks: no reply timeout.
        # A bridged call that ends hangs the caller up too (result -1, or HANGUP): only an
        # application that gave up returns with the channel still up.
        reply = await self.command(f"EXEC {application} {quote(arguments)}", unlimited=True)
        if reply.result == -2:
            log.error("robot AGI call %s: no application %r in Asterisk", self.call_id, application)
            return False
        variable = GAVE_UP.get(application.lower())
        if variable is None:
            return True  # another application: the dialplan after AGI() decides
        name, answered = variable
        status = (await self.command(f"GET VARIABLE {name}")).data
        log.info("robot AGI call %s: %s=%s", self.call_id, name, status or "(unset)")
        return status == answered if answered else not status


# How an application reports that it gave up: (variable, value when answered); an empty
# value means "set only when nobody answered" (Queue sets QUEUESTATUS=TIMEOUT, FULL, ...).
GAVE_UP = {"dial": ("DIALSTATUS", "ANSWER"), "queue": ("QUEUESTATUS", "")}


class AgiServer:
    """The FastAGI server. ``scripts`` maps a script name (the URL's path) to a Dialog
    factory called with ``caller=, called=, call_id=, channel=``."""

    def __init__(
        self,
        *,
        audio,
        scripts: Mapping[str, Callable[..., Dialog]] | None = None,
        transfer: str | None = None,
        max_calls: int = 100,
        header_timeout: float = 10.0,
        reply_timeout: float = 300.0,
        max_call_seconds: float = 900.0,
    ) -> None:
        self.audio = audio
        self.scripts = dict(scripts) if scripts is not None else {"robot": Dialog}
        self.transfer = transfer if transfer is not None else settings.CETATEA_ROBOT_AGI_TRANSFER
        self.max_calls = max_calls
        self.header_timeout = header_timeout
        self.reply_timeout = reply_timeout
        self.max_call_seconds = max_call_seconds
        self.calls: dict[asyncio.Task, AgiCall | None] = {}
        self.refused = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    @classmethod
    async def start(cls, host: str, port: int, **kwargs) -> AgiServer:
        self = cls(**kwargs)
        self.server = await asyncio.start_server(self._connection, host, port, limit=LINE_LIMIT)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening and end every call (Asterisk goes on with its dialplan)."""
        if self.server is not None:
            self.server.close()
        tasks = list(self.calls)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        if len(self.calls) >= self.max_calls:
            # Closing at once lets Asterisk go on with the dialplan (to a person).
            self.refused += 1
            log.warning("robot AGI: %s calls already, refusing %s", self.max_calls, peer)
            await _close(writer)
            return
        self.calls[task] = None
        call: AgiCall | None = None
        try:
            environment = await asyncio.wait_for(read_environment(reader), self.header_timeout)
            factory = self.scripts.get(script_name(environment))
            call = AgiCall(self, reader, writer, environment, factory or Dialog)
            self.calls[task] = call
            if factory is None:
                log.warning("robot AGI: unknown script %r from %s", script_name(environment), peer)
                with contextlib.suppress(ChannelGone, AgiProtocolError, TimeoutError):
                    await call.command("HANGUP", timeout=self.header_timeout)
                return
            await self._serve(call)
        except TimeoutError:
            log.info("robot AGI: %s sent no AGI environment in time", peer)
        except (AgiProtocolError, ValueError, ConnectionError, asyncio.IncompleteReadError) as exc:
            # ValueError: a line over LINE_LIMIT.
            log.info("robot AGI: bad input from %s: %s", peer, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("robot AGI: error serving %s", peer)
        finally:
            if call is not None:
                await call.end_dialog()
            self.calls.pop(task, None)
            await _close(writer)

    async def _serve(self, call: AgiCall) -> None:
        actions = None
        try:
            while True:
                transfer = await asyncio.wait_for(call.run(actions), self.max_call_seconds)
                if transfer is None or await call.transfer(transfer):
                    return
                # Nobody took the call: the flow says so (a number to call) and ends it.
                actions = list(await call.in_dialog("transfer_failed"))
                if not actions:
                    await call.command("HANGUP")
                    return
        except ChannelGone as exc:
            log.info("robot AGI call %s ended: %s", call.call_id, exc)
        except TimeoutError:
            log.info("robot AGI call %s: too long, hanging up", call.call_id)
            with contextlib.suppress(ChannelGone, AgiProtocolError, TimeoutError):
                await call.command("HANGUP", timeout=self.header_timeout)
        except AgiProtocolError as exc:
            log.warning("robot AGI call %s: %s", call.call_id, exc)
        except Exception:
            # The dialog failed: closing the connection lets the dialplan take over.
            log.exception("robot AGI call %s: the dialog failed", call.call_id)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 1.0)
