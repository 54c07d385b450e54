"""Demo phone robot calls: two months of the call records the robot writes, so its
figures (/staff/calls/robot/ and the management overview) have something to show."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from cetatea.telephony.models import RobotCall

OPTIONS = ["taxes", "fines", "petition"]


def seed_robot_demo(*, now: dt.datetime | None = None, days: int = 60, seed: int = 2026) -> int:
    """Once: nothing when the robot has calls already. Returns how many were written."""
    if RobotCall.objects.exists():
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    calls = []
    for back in range(days, 0, -1):
        day = timezone.localtime(now - dt.timedelta(days=back))
        if day.weekday() >= 5:
            continue
        for _ in range(rng.randint(8, 30)):
            started = day.replace(hour=rng.randint(8, 17), minute=rng.randrange(60), second=0)
            identified = rng.random() < 0.7
            transferred = rng.random() < (0.25 if identified else 0.45)
            if transferred:
                outcome = "transferred"
            elif identified:
                outcome = "completed"
            else:
                outcome = "caller_hangup"
            seconds = rng.randint(40, 240)
            calls.append(
                RobotCall(
                    call_id=f"demo-{started:%Y%m%d%H%M}-{len(calls)}",
                    transport="sip",
                    started_at=started,
                    ended_at=started + dt.timedelta(seconds=seconds),
                    duration_seconds=seconds,
                    identified=identified,
                    transferred=transferred,
                    options=rng.sample(OPTIONS, rng.randint(1, 2)) if identified else [],
                    outcome=outcome,
                )
            )
    RobotCall.objects.bulk_create(calls, batch_size=1000)
    return len(calls)
