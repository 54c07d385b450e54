"""Load the registry points, document types and nomenclator (``data/registry.json``)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cetatea.registry.services import registry_setup_load

DEFAULT = Path(__file__).resolve().parents[2] / "data" / "registry.json"


class Command(BaseCommand):
    help = "Load registry points, document types and the archival nomenclator (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT))

    def handle(self, *args, **options):
        try:
            data = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        counts = registry_setup_load(data=data)
        self.stdout.write("registry: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
