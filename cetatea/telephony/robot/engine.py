"""The phone robot's dialog engine: actions, the dialog, and digit collection. No I/O.

A transport (SIP, FastAGI, webhook) runs the actions a `Dialog` returns, in order:
a `Say` plays its parts (a digit stops the playing when ``bargein``), a `Collect`
gathers digits and hands them back through `Dialog.digits`, which returns the next
actions; `Transfer` and `Hangup` end the robot's part of the call.

`DigitCollector` is the shared digit buffer transports use, so that every transport
applies the same rules: type-ahead typed during a prompt counts, a terminator typed
right after a full-length entry is swallowed (a 13-digit CNP followed by ``#`` must
not end the PIN entry that comes next), ``*`` cancels the entry being typed or, on an
empty entry, means "back".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

BACK = "*"
DTMF_KEYS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True)
class Say:
    """Play prompts in order; with ``bargein`` a digit stops the playing."""

    parts: tuple[str, ...]  # each a prompt key (prompts.py) or "text:<words to speak>"
    bargein: bool = True


@dataclass(frozen=True)
class Collect:
    """Collect digits (type-ahead typed during the preceding Say counts)."""

    name: str
    min_digits: int
    max_digits: int
    terminator: str = "#"
    first_timeout: float = 6.0
    interdigit_timeout: float = 3.0


@dataclass(frozen=True)
class Transfer:
    """Hand the call to the operators; the CTI newCall carries the identity."""

    queue: str
    person_id: int | None


@dataclass(frozen=True)
class Hangup:
    """End the call."""

    reason: str


Action = Say | Collect | Transfer | Hangup


class Flow(Protocol):
    """What a dialog delegates to: the conversation itself (see flows.py)."""

    def start(self) -> list[Action]: ...

    def digits(self, name: str, value: str, *, timed_out: bool) -> list[Action]: ...

    def hangup(self) -> None: ...


class Dialog:
    """One call's conversation: the transport's only entry point into the robot.

    ``flow`` is a factory called with the dialog (default: the citizen flow); it
    returns the object that decides what to say and do next.
    """

    def __init__(
        self,
        *,
        caller: str,
        called: str,
        call_id: str,
        channel: str,
        language: str = "ro",
        flow=None,
    ) -> None:
        self.caller = caller
        self.called = called
        self.call_id = call_id
        self.channel = channel
        self.language = language
        self.ended = False
        if flow is None:
            from cetatea.telephony.robot.flows import CitizenFlow

            flow = CitizenFlow
        self.flow: Flow = flow(self)

    def start(self) -> list[Action]:
        return self._track(self.flow.start())

    def digits(self, name: str, value: str, *, timed_out: bool) -> list[Action]:
        if self.ended:
            return []
        return self._track(self.flow.digits(name, value, timed_out=timed_out))

    def hangup(self) -> None:
        """The caller hung up (or the transport lost the call): log and close."""
        if self.ended:
            return
        self.ended = True
        self.flow.hangup()

    def transfer_failed(self) -> list[Action]:
        """The transport could not hand the call over: the flow says what happens instead."""
        handler = getattr(self.flow, "transfer_failed", None)
        if handler is None:
            return []
        self.ended = False
        return self._track(handler())

    def prompt_text(self, part: str) -> str:
        """The words a Say part speaks, in the dialog's current language."""
        if part.startswith("text:"):
            return part[len("text:") :]
        from cetatea.telephony.robot.prompts import prompt

        return prompt(part, self.language)

    def _track(self, actions: list[Action]) -> list[Action]:
        if actions and isinstance(actions[-1], (Transfer, Hangup)):
            self.ended = True
        return actions


@dataclass(frozen=True)
class Collected:
    """The outcome of one Collect: the digits and whether a timeout ended it."""

    name: str
    value: str
    timed_out: bool


class DigitCollector:
    """Buffers DTMF keys for a call and turns them into `Collected` entries.

    Times are the transport's clock (``time.monotonic()`` or the loop's time), passed
    in, so the rules are testable without sleeping. Use: `feed` every key as it
    arrives (during a Say too), `start` a Collect, then `poll` on each key and at
    `deadline()` until it returns a result.
    """

    def __init__(self) -> None:
        self._buffer: deque[str] = deque()
        self._collect: Collect | None = None
        self._entry = ""
        self._started = 0.0
        self._last = 0.0
        # After an entry ends at max_digits, a terminator typed right after it belongs
        # to that entry, not to the next one.
        self._swallow: str | None = None

    @property
    def active(self) -> Collect | None:
        return self._collect

    def pending(self) -> bool:
        """Whether keys are waiting (a barge-in Say stops when this turns true)."""
        return bool(self._buffer)

    def feed(self, key: str, now: float) -> None:
        if key not in DTMF_KEYS:
            return
        self._buffer.append(key)
        if self._collect is not None:
            self._last = now

    def clear(self) -> None:
        """Drop type-ahead (e.g. after an error prompt, so stale keys do not count)."""
        self._buffer.clear()
        self._swallow = None

    def start(self, collect: Collect, now: float) -> None:
        self._collect = collect
        self._entry = ""
        self._started = now
        self._last = now

    def deadline(self) -> float | None:
        """When `poll` must be called next if no key arrives (None: not collecting)."""
        if self._collect is None:
            return None
        if self._entry:
            return self._last + self._collect.interdigit_timeout
        return self._started + self._collect.first_timeout

    def poll(self, now: float) -> Collected | None:
        collect = self._collect
        if collect is None:
            return None
        while self._buffer:
            key = self._buffer.popleft()
            if self._swallow is not None:
                swallowed = key == self._swallow
                self._swallow = None
                if swallowed:
                    continue
            if collect.terminator and key == collect.terminator:
                return self._finish(self._entry, timed_out=False)
            if key == BACK:
                if self._entry:
                    self._entry = ""  # cancel what was typed, keep collecting
                    continue
                return self._finish(BACK, timed_out=False)
            self._entry += key
            if len(self._entry) >= collect.max_digits:
                if collect.terminator:
                    self._swallow = collect.terminator
                return self._finish(self._entry, timed_out=False)
        deadline = self.deadline()
        if deadline is not None and now >= deadline:
            return self._finish(self._entry, timed_out=True)
        return None

    def _finish(self, value: str, *, timed_out: bool) -> Collected:
        assert self._collect is not None
        result = Collected(self._collect.name, value, timed_out)
        self._collect = None
        self._entry = ""
        return result


def run_script(dialog: Dialog, keys: str, *, timeout_marker: str = "_") -> list[Action]:
    """Drive a dialog with a key script, as a transport would; returns every action.

    Each Collect takes keys from the script (which are type-ahead, arriving before the
    Collect starts); ``timeout_marker`` in the script means "the caller waited until
    the Collect timed out". Used by tests and by the webhook/FastAGI replay tests.
    """
    collector = DigitCollector()
    keys_left = deque(keys)
    actions = list(dialog.start())
    done: list[Action] = []
    now = 0.0
    while actions:
        action = actions.pop(0)
        done.append(action)
        if not isinstance(action, Collect):
            if isinstance(action, (Transfer, Hangup)):
                break
            continue
        collector.start(action, now)
        result = collector.poll(now)
        while result is None:
            if not keys_left:
                dialog.hangup()
                return done
            key = keys_left.popleft()
            if key == timeout_marker:
                now = collector.deadline() or now
            else:
                collector.feed(key, now)
            result = collector.poll(now)
        actions.extend(dialog.digits(result.name, result.value, timed_out=result.timed_out))
    return done
