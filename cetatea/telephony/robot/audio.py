"""The robot's voice: prompt audio as 8 kHz mono 16-bit PCM, rendered once and cached.

A text is spoken by espeak-ng (``-v ro`` or ``-v en``) and resampled by sox to 8 kHz,
the rate of G.711; the result is kept on disk under ``CETATEA_ROBOT_PROMPT_DIR/cache``,
named by a hash of the voice and the text, so a prompt is synthesised once per text
(amounts and dates differ per caller and are cached the same way). A city that records
its prompts puts ``recorded/<language>/<prompt key>.wav`` there; a recording replaces
the synthesised voice for that key (parts spoken as "text:..." are always synthesised).

Rendering runs programs and blocks for a fraction of a second: the SIP endpoint calls
it from a worker thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

RATE = 8000
VOICES = {"ro": "ro", "en": "en"}
TEXT_PREFIX = "text:"
# sox output: headerless signed 16-bit little-endian mono at 8 kHz.
_SOX_RAW_OUT = ["-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
_TIMEOUT = 30


log = logging.getLogger(__name__)


class AudioUnavailable(RuntimeError):
    """espeak-ng or sox is missing or failed (scripts/robot-deps.sh installs them)."""


def programs_missing() -> list[str]:
    """The programs rendering needs that are not on PATH."""
    return [name for name in ("espeak-ng", "sox") if shutil.which(name) is None]


class PromptAudio:
    """Renders and caches prompt audio; one instance serves every call of a process."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory or settings.CETATEA_ROBOT_PROMPT_DIR)
        self._memory: dict[tuple[str, str], bytes] = {}
        self._prompts: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    # --- public ------------------------------------------------------------------------

    def part(self, part: str, *, language: str, text: str | Callable[[], str]) -> bytes:
        """The audio of one Say part: its recording if the city made one, else ``text``
        (what `Dialog.prompt_text(part)` returns; a callable is only called when no
        recording exists) spoken in ``language``."""
        if not part.startswith(TEXT_PREFIX):
            recorded = self.recorded_path(part, language)
            if recorded is not None:
                return self._recorded(recorded)
        keep = not part.startswith(TEXT_PREFIX)  # a fixed prompt: kept for good
        return self.speak(text() if callable(text) else text, language=language, keep=keep)

    def in_memory(self, part: str, *, language: str, text: str | Callable[[], str]) -> bytes | None:
        """The audio of ``part`` if this process holds it already, else None (no I/O
        beyond checking whether the city recorded the prompt)."""
        if not part.startswith(TEXT_PREFIX) and self.recorded_path(part, language) is not None:
            return None
        key = (VOICES.get(language, VOICES["ro"]), text() if callable(text) else text)
        return self._prompts.get(key) or self._memory.get(key)

    def warm(self, prompts) -> int:
        """Render (or load from the cache) ``(key, language, text)`` prompts ahead of the
        first call; returns how many. Failures are left for the call to report."""
        count = 0
        for key, language, text in prompts:
            try:
                self.part(key, language=language, text=text)
            except Exception as exc:  # noqa: BLE001 - the endpoint must start anyway
                log.warning("prompt %s (%s) not rendered ahead: %s", key, language, exc)
            else:
                count += 1
        return count

    def speak(self, text: str, *, language: str, keep: bool = False) -> bytes:
        """``text`` spoken in ``language`` as 8 kHz mono 16-bit little-endian PCM.

        ``keep``: a fixed prompt, held in memory for good (there are a few dozen); other
        texts (amounts, dates: they vary per caller) share a bounded memory."""
        voice = VOICES.get(language, VOICES["ro"])
        key = (voice, text)
        cached = self._prompts.get(key) or self._memory.get(key)
        if cached is not None:
            return cached
        path = self.cache_path(voice, text)
        try:
            pcm = path.read_bytes()
        except FileNotFoundError:
            pcm = _render(voice, text)
            _write_atomically(path, pcm)
        with self._lock:
            if keep:
                self._prompts[key] = pcm
            else:
                if len(self._memory) > 512:  # amounts and dates vary per caller
                    self._memory.clear()
                self._memory[key] = pcm
        return pcm

    def cache_path(self, voice: str, text: str) -> Path:
        digest = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()
        # ``.sln``: the extension Asterisk reads headerless 8 kHz 16-bit audio by, so a
        # FastAGI call can play the cache file itself (agi.py).
        return self.directory / "cache" / digest[:2] / f"{digest}.sln"

    def part_file(self, part: str, *, language: str, text: str | Callable[[], str]) -> Path:
        """The same audio as `part`, as a file a PBX can play (Asterisk's STREAM FILE takes
        the path without ``.sln``): the speech's cache file, or for a recording a cache
        file of it converted to 8 kHz (Asterisk cannot resample any WAV it is given)."""
        if not part.startswith(TEXT_PREFIX):
            recorded = self.recorded_path(part, language)
            if recorded is not None:
                path = self.cache_path("recorded", f"{recorded}\0{recorded.stat().st_mtime_ns}")
                if not path.is_file():
                    _write_atomically(path, self._recorded(recorded))
                return path
        text = text() if callable(text) else text
        pcm = self.speak(text, language=language)
        path = self.cache_path(VOICES.get(language, VOICES["ro"]), text)
        if not path.is_file():  # kept in memory but deleted from disk meanwhile
            _write_atomically(path, pcm)
        return path

    def recorded_path(self, key: str, language: str) -> Path | None:
        # Prompt keys are identifiers; anything else is not looked up on disk.
        if not key.replace("_", "").replace("-", "").replace(".", "").isalnum() or ".." in key:
            return None
        path = self.directory / "recorded" / language / f"{key}.wav"
        return path if path.is_file() else None

    # --- internals ---------------------------------------------------------------------

    def _recorded(self, path: Path) -> bytes:
        stat = path.stat()
        key = (f"recorded:{path}", str(stat.st_mtime_ns))
        cached = self._memory.get(key)
        if cached is not None:
            return cached
        pcm = _read_wav(path)
        with self._lock:
            self._memory[key] = pcm
        return pcm


def _render(voice: str, text: str) -> bytes:
    missing = programs_missing()
    if missing:
        raise AudioUnavailable(
            f"cannot render prompts: {', '.join(missing)} not installed (scripts/robot-deps.sh)"
        )
    # The text goes in on stdin (-b 1: UTF-8), so nothing in it is read as an option.
    wav = _run(["espeak-ng", "-v", voice, "-b", "1", "--stdout"], text.encode())
    # -D: no dither. sox dithers by default when it resamples, with random noise, so
    # the same text would render differently each time (and the cache and the tests
    # that look for a sentence in a call's audio need the same bytes every time).
    return _run(["sox", "-q", "-D", "-t", "wav", "-", *_SOX_RAW_OUT, "-"], wav)


def _read_wav(path: Path) -> bytes:
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2):
                return wav.readframes(wav.getnframes())
    except (wave.Error, EOFError):
        pass  # not plain PCM (e.g. a µ-law or float WAV): sox reads it
    if programs_missing():
        raise AudioUnavailable(f"{path} is not 8 kHz mono 16-bit and sox is not installed")
    return _run(["sox", "-q", "-D", str(path), *_SOX_RAW_OUT, "-"], b"")


def _run(command: list[str], stdin: bytes) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - fixed programs, the text goes in on stdin
            command, input=stdin, capture_output=True, timeout=_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioUnavailable(f"{command[0]} failed: {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        error = done.stderr.decode(errors="replace").strip()[:200]
        raise AudioUnavailable(f"{command[0]} failed (exit {done.returncode}): {error}")
    out = done.stdout
    return out[: len(out) - len(out) % 2]


def _write_atomically(path: Path, data: bytes) -> None:
    # Several calls (or processes) may render the same text at once: each writes its
    # own temporary file and the rename makes one of them the cache entry.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        # mkstemp makes the file 0600; the PBX that plays it (agi.py) runs as another user
        # in the same group. Not world-readable: texts may speak a caller's amounts.
        os.fchmod(fd, 0o640)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
