"""Recompute the map's pre-aggregated cells from the cases (after a bulk import)."""

import time

from django.core.management.base import BaseCommand

from cetatea.cases.maprollup import rebuild


class Command(BaseCommand):
    help = "Recompute the map's cluster counts (MapCell) from the public cases."

    def handle(self, *args, **options):
        started = time.perf_counter()
        cells = rebuild()
        self.stdout.write(f"{cells} map cells in {time.perf_counter() - started:.1f} s")
