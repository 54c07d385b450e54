"""Bring the management overview's counts up to date (docs/insights.md).

Run every few minutes: it reads only what changed since the last run. ``--full``
recomputes everything (after an upgrade of the rules it happens by itself) and shows
its progress.
"""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from cetatea.insights.refresh import rebuild, refresh


class Command(BaseCommand):
    help = "Update the management overview's pre-aggregated counts (incremental; --full rebuilds)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recompute every count.")
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes computing a full rebuild (default: one per core).",
        )

    def handle(self, *args, full=False, quiet=False, workers=1, **options):
        bars: dict[str, tqdm] = {}
        show = not quiet and options.get("verbosity", 1) > 0

        def progress(stage: str, done: int, total: int) -> None:
            if not show:
                return
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="rows", file=sys.stderr)
            bar.update(done - bar.n)

        if full:
            result = rebuild(progress=progress, workers=max(workers, 1))
        else:
            result = refresh(progress=progress)
        for bar in bars.values():
            bar.close()
        if options.get("verbosity", 1) > 0:
            read = ", ".join(f"{name} {n}" for name, n in result.sources.items()) or "nothing new"
            self.stdout.write(
                f"{'Rebuilt' if result.full else 'Refreshed'} in {result.seconds:.1f} s: "
                f"{read}; {result.counts_changed} counts written."
            )
