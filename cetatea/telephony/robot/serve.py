"""What the robot's server commands (``robot_sip``, ``robot_agi``) share: the common
options, the prompt warm-up, and running until SIGINT/SIGTERM or ``--seconds``."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from django.core.management.base import BaseCommand, CommandError

from cetatea.telephony.robot.audio import PromptAudio, programs_missing
from cetatea.telephony.robot.prompts import static_prompts


class RobotServerCommand(BaseCommand):
    """Subclasses set ``default_port`` and ``name`` and implement `start` (returning the
    running server, which has ``async close()``, and the line that announces it)."""

    default_port = 0
    name = "robot server"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=self.default_port, help="port")
        parser.add_argument("--max-calls", type=int, default=100, help="calls at once")
        parser.add_argument(
            "--seconds", type=float, default=0, help="stop after this long (0: run until killed)"
        )

    async def start(self, options, audio: PromptAudio):
        raise NotImplementedError

    def handle(self, *args, **options):
        missing = programs_missing()
        if missing:
            self.stderr.write(
                f"warning: {', '.join(missing)} not installed (scripts/robot-deps.sh): "
                "only recorded prompts can be played"
            )
        try:
            asyncio.run(self._serve(options))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc

    async def _serve(self, options) -> None:
        audio = PromptAudio()
        server, announcement = await self.start(options, audio)
        self.stdout.write(announcement)
        self.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # The fixed prompts are rendered (or read from the cache) before calls need them.
        warming = loop.run_in_executor(None, audio.warm, list(static_prompts()))
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            if options["seconds"]:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), options["seconds"])
            else:
                await stop.wait()
        finally:
            await server.close()
            with contextlib.suppress(Exception):
                await warming
            self.stdout.write(f"{self.name} stopped")
