"""Run the phone robot's SIP endpoint: ``manage.py robot_sip --host 127.0.0.1 --port 5070``.

A PBX or SIP trunk sends calls for the robot to this address (a SIP peer, no
registration). The endpoint runs until interrupted; see docs/phone-robot-sip.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cetatea.telephony.robot.audio import PromptAudio, programs_missing
from cetatea.telephony.robot.prompts import static_prompts
from cetatea.telephony.robot.sip import SipEndpoint


class Command(BaseCommand):
    help = "Answer phone calls with the robot: a SIP endpoint over UDP (G.711, RFC 4733)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=5070, help="UDP port for SIP")
        parser.add_argument(
            "--advertise",
            default="",
            help="address put in Contact and SDP (default: --host; needed with 0.0.0.0)",
        )
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
        endpoint = await SipEndpoint.start(
            options["host"],
            options["port"],
            audio=PromptAudio(),
            advertise=options["advertise"],
            max_calls=options["max_calls"],
            transfer_uri=settings.CETATEA_ROBOT_SIP_TRANSFER_URI,
        )
        self.stdout.write(
            f"robot SIP endpoint on udp {options['host']}:{endpoint.port} "
            f"(advertised as {endpoint.advertise})"
        )
        self.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # The fixed prompts are rendered (or read from the cache) before calls need them.
        warming = loop.run_in_executor(None, endpoint.audio.warm, list(static_prompts()))
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
            await endpoint.close()
            with contextlib.suppress(Exception):
                await warming
            self.stdout.write("robot SIP endpoint stopped")
