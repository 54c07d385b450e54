"""Run the phone robot's SIP endpoint: ``manage.py robot_sip --host 127.0.0.1 --port 5070``.

A PBX or SIP trunk sends calls for the robot to this address (a SIP peer, no
registration). The endpoint runs until interrupted; see docs/phone-robot-sip.md.
"""

from __future__ import annotations

from django.conf import settings

from cetatea.telephony.robot.serve import RobotServerCommand
from cetatea.telephony.robot.sip import SipEndpoint


class Command(RobotServerCommand):
    help = "Answer phone calls with the robot: a SIP endpoint over UDP (G.711, RFC 4733)."
    default_port = 5070
    name = "robot SIP endpoint"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--advertise",
            default="",
            help="address put in Contact and SDP (default: --host; needed with 0.0.0.0)",
        )

    async def start(self, options, audio):
        endpoint = await SipEndpoint.start(
            options["host"],
            options["port"],
            audio=audio,
            advertise=options["advertise"],
            max_calls=options["max_calls"],
            transfer_uri=settings.CETATEA_ROBOT_SIP_TRANSFER_URI,
        )
        return endpoint, (
            f"robot SIP endpoint on udp {options['host']}:{endpoint.port} "
            f"(advertised as {endpoint.advertise})"
        )
