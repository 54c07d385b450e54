"""Run the phone robot for Asterisk: ``manage.py robot_agi --host 127.0.0.1 --port 4573``.

Asterisk's dialplan sends calls here with ``AGI(agi://127.0.0.1:4573/robot)``. The
server runs until interrupted; see docs/phone-robot-agi.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from django.core.management.base import BaseCommand, CommandError

from cetatea.telephony.robot.agi import DEFAULT_PORT, AgiServer
from cetatea.telephony.robot.audio import PromptAudio, programs_missing


class Command(BaseCommand):
    help = "Answer phone calls with the robot: an Asterisk FastAGI server over TCP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port for FastAGI")
        parser.add_argument("--max-calls", type=int, default=100, help="calls at once")
        parser.add_argument(
            "--seconds", type=float, default=0, help="stop after this long (0: run until killed)"
        )

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
        server = await AgiServer.start(
            options["host"],
            options["port"],
            audio=PromptAudio(),
            max_calls=options["max_calls"],
        )
        self.stdout.write(
            f"robot FastAGI server on tcp {options['host']}:{server.port} "
            f"(agi://{options['host']}:{server.port}/robot)"
        )
        self.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
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
            self.stdout.write("robot FastAGI server stopped")
