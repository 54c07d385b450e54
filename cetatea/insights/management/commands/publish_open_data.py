"""Publish the city's open data under MEDIA_ROOT/open-data/ (cetatea/insights/opendata.py).

Idempotent: each run rewrites every file from the database, replacing the old ones
atomically. ``--if-older-than HOURS`` does nothing while the published files are
younger than that, so a timer can call it every few minutes and it publishes once a day.
The aggregate tables are read from the management overview's counts: run
``insights_refresh`` before it.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cetatea.insights import opendata


class Command(BaseCommand):
    help = "Write the anonymised open-data files (cases CSV/GeoJSON, aggregates, metadata)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-older-than",
            type=float,
            metavar="HOURS",
            help="Publish only when the files are missing or older than HOURS.",
        )

    def handle(self, *args, if_older_than=None, **options):
        verbose = options.get("verbosity", 1) > 0
        if if_older_than is not None:
            if if_older_than < 0:
                raise CommandError("--if-older-than must be zero or more hours.")
            last = opendata.generated_at()
            if last is not None and timezone.now() - last < dt.timedelta(hours=if_older_than):
                if verbose:
                    self.stdout.write(f"Open data is up to date (published {last.isoformat()}).")
                return
        result = opendata.publish()
        if verbose:
            self.stdout.write(
                f"Published open data: {result.cases} cases ({result.located} with a place) "
                f"registered since {result.since.isoformat()}, {result.aggregates} aggregate "
                f"rows for {result.period.start.isoformat()}–{result.period.end.isoformat()}, "
                f"licence {opendata.license_name()}."
            )
