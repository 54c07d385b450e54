"""Run the phone robot for Asterisk: ``manage.py robot_agi --host 127.0.0.1 --port 4573``.

Asterisk's dialplan sends calls here with ``AGI(agi://127.0.0.1:4573/robot)``. The
server runs until interrupted; see docs/phone-robot-agi.md.
"""

from __future__ import annotations

from cetatea.telephony.robot.agi import DEFAULT_PORT, AgiServer
from cetatea.telephony.robot.serve import RobotServerCommand


class Command(RobotServerCommand):
    help = "Answer phone calls with the robot: an Asterisk FastAGI server over TCP."
    default_port = DEFAULT_PORT
    name = "robot FastAGI server"

    async def start(self, options, audio):
        server = await AgiServer.start(
            options["host"], options["port"], audio=audio, max_calls=options["max_calls"]
        )
        return server, (
            f"robot FastAGI server on tcp {options['host']}:{server.port} "
            f"(agi://{options['host']}:{server.port}/robot)"
        )
